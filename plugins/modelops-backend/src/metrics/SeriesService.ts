/**
 * A model service's signals over a time range in one environment, for the
 * Monitoring tab's charts: one range query per signal with the service's own
 * matchers, the thresholds to draw, and the rollouts of the range as markers.
 */
import { AnalysisStore, toAnalysis } from '../database/AnalysisStore';
import { InputError } from '@backstage/errors';
import {
  DeploymentRecord,
  AnalysisWindow,
  DeployMarker,
  formatSelector,
  MetricsResponse,
  SignalSeries,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import { DeploymentStore } from '../database/DeploymentStore';
import { DriftReferenceStore } from '../database/DriftReferenceStore';
import { ModelServiceTarget } from '../service/entities';
import { EnvironmentService } from '../service/EnvironmentService';
import { thresholdsFor } from './health';
import {
  groupByLabels,
  NO_SOURCE,
  selectionProblem,
  serviceMatchers,
} from './HealthService';
import { ModelOpsMetricsSource } from '@modelops/plugin-modelops-node';
import { DriftReferenceOptions, referencesWithin } from './histogramDrift';
import { InstantSample } from './PrometheusClient';
import { histogramDrift } from './psi';
import { querySetFor, renderQuery, Signal } from './queries';

/** Prometheus refuses a range query of more points than this per series. */
export const PROMETHEUS_MAX_POINTS = 11_000;
/** Points per series when the caller gives no step. */
export const DEFAULT_POINTS = 240;
/** The smallest derived step: finer than a scrape interval shows nothing new. */
export const MIN_DERIVED_STEP_SECONDS = 15;
/** The longest range one request may ask for. */
export const MAX_RANGE_SECONDS = 32 * 24 * 3600;
/** Most deploy markers in one answer. */
export const MAX_MARKERS = 500;
/** Drift references (one per revision charted) read from the metrics source per request at most. */
export const MAX_REFERENCE_READS_PER_CHART = 8;

const CHARTED: {
  signal: Signal & SignalSeries['signal'];
  unit: SignalSeries['unit'];
}[] = [
  { signal: 'requestRate', unit: 'requestsPerSecond' },
  { signal: 'errorRate', unit: 'ratio' },
  { signal: 'latencyP50', unit: 'seconds' },
  { signal: 'latencyP95', unit: 'seconds' },
  { signal: 'latencyP99', unit: 'seconds' },
  { signal: 'latencyMean', unit: 'seconds' },
  { signal: 'predictionsByClass', unit: 'requestsPerSecond' },
  { signal: 'featureDrift', unit: 'psi' },
  { signal: 'predictionDrift', unit: 'psi' },
  { signal: 'replicas', unit: 'pods' },
];

/** Seconds since the epoch of an RFC 3339 time, or a 400 naming the parameter. */
function parseTime(name: string, value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms))
    throw new InputError(
      `${name} must be an RFC 3339 time such as 2026-12-01T10:00:00Z, not ${JSON.stringify(
        value,
      )}`,
    );
  return ms / 1000;
}

/**
 * The range and step of a request: end defaults to now, start to an hour
 * before it; the step is derived from the range when absent and raised
 * where it would give Prometheus more points than it accepts.
 */
export function resolveRange(
  request: { start?: string; end?: string; step?: number },
  now: number = Date.now() / 1000,
): { start: number; end: number; step: number } {
  const end = request.end ? parseTime('end', request.end) : now;
  const start = request.start ? parseTime('start', request.start) : end - 3600;
  if (start >= end) throw new InputError('start must be before end');
  if (end - start > MAX_RANGE_SECONDS)
    throw new InputError(
      `The range is longer than ${
        MAX_RANGE_SECONDS / 86400
      } days; ask for a shorter one`,
    );
  const range = end - start;
  const least = Math.ceil(range / (PROMETHEUS_MAX_POINTS - 1));
  const step = request.step
    ? Math.max(request.step, least)
    : Math.max(MIN_DERIVED_STEP_SECONDS, Math.ceil(range / DEFAULT_POINTS));
  return { start: Math.floor(start), end: Math.ceil(end), step };
}

export class SeriesService {
  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      environments: EnvironmentService;
      store: DeploymentStore;
      /** Keeps the reference distributions of histogram drift. */
      references: DriftReferenceStore;
      source?: ModelOpsMetricsSource;
      /** The SLO analyses, drawn as windows on the charts. */
      analyses?: AnalysisStore;
    },
  ) {}

  async series(request: {
    target: ModelServiceTarget;
    environment: string;
    start?: string;
    end?: string;
    step?: number;
  }): Promise<MetricsResponse> {
    const { target } = request;
    const { metrics } = this.options.config;
    const problem = selectionProblem(target);
    if (problem) throw new InputError(problem);
    const env = this.options.environments.resolveOne({
      target,
      environment: request.environment,
    });
    if (!target.contract.kubernetesId)
      throw new InputError(
        `${target.ref} has no valid backstage.io/kubernetes-id annotation, so no series can be selected`,
      );
    const { start, end, step } = resolveRange(request);
    const matchers = serviceMatchers(metrics.labels, target, env);
    const selector = formatSelector(matchers);
    const by = groupByLabels(metrics.labels);
    const set = querySetFor(target.contract.runtime, metrics.querySets);
    const thresholds = thresholdsFor(target.contract.slo, metrics.slo);
    const thresholdOf: Partial<
      Record<Signal, { warning: number; critical: number } | undefined>
    > = {
      errorRate: thresholds.errorRate,
      latencyP95: thresholds.latencyP95,
      latencyP99: thresholds.latencyP99,
      featureDrift: thresholds.drift,
      predictionDrift: thresholds.drift,
    };
    const source = this.options.source;

    // The markers are read while Prometheus answers.
    const rolloutsRead = this.options.store.rolloutsBetween({
      entityRef: target.ref,
      environment: env.name,
      from: new Date(start * 1000),
      to: new Date(end * 1000),
      limit: MAX_MARKERS,
    });
    const analysesRead = this.options.analyses?.between({
      entityRef: target.ref,
      environment: env.name,
      from: new Date(start * 1000),
      to: new Date(end * 1000),
      limit: MAX_MARKERS,
    });
    const signals = await Promise.all(
      CHARTED.filter(
        // The mean only where there are no percentiles.
        c => c.signal !== 'latencyMean' || typeof set.latencyP95 !== 'string',
      ).map(async ({ signal, unit }): Promise<SignalSeries> => {
        const t = thresholdOf[signal];
        const base: SignalSeries = {
          signal,
          unit,
          series: [],
          ...(t ? { warning: t.warning, critical: t.critical } : {}),
        };
        const template = set[signal];
        if (typeof template !== 'string')
          return { ...base, reason: template.unavailable };
        if (!source)
          return {
            ...base,
            reason: NO_SOURCE,
          };
        try {
          const query = renderQuery(template, {
            matchers,
            window: metrics.window,
            by,
          });
          const result = await source.range(query, start, end, step);
          const series = result.map(r => {
            const labels: Record<string, string> = {};
            for (const [k, v] of Object.entries(r.metric))
              if (!by.includes(k)) labels[k] = v;
            return {
              labels,
              points: r.points
                .filter(p => Number.isFinite(p.v))
                .map(p => [p.t, p.v]),
            };
          });
          return series.length
            ? { ...base, series }
            : { ...base, reason: `no series match ${selector}` };
        } catch (e) {
          return { ...base, reason: (e as Error).message };
        }
      }),
    );

    const rollouts = await rolloutsRead;
    // No drift gauges: drift from the input histograms, where exported.
    const drift = signals.findIndex(s => s.signal === 'featureDrift');
    const histograms = set.featureHistogram;
    if (
      source &&
      drift >= 0 &&
      !signals[drift]!.series.length &&
      typeof histograms === 'string'
    ) {
      try {
        const computed = await this.histogramDriftSeries({
          source,
          template: histograms,
          reference: {
            matchers,
            by,
            entityRef: target.ref,
            environment: env.name,
          },
          start,
          end,
          step,
          rollouts,
        });
        if (computed) {
          const { reason: _, ...rest } = signals[drift]!;
          signals[drift] = { ...rest, ...computed };
        }
      } catch (e) {
        signals[drift] = { ...signals[drift]!, reason: (e as Error).message };
      }
    }
    const deploys: DeployMarker[] = rollouts.map(r => ({
      deploymentId: r.id,
      time: r.createdAt,
      action: r.action,
      image: r.image ?? '',
      ...(r.revision !== undefined ? { revision: r.revision } : {}),
      requestedBy: r.requestedBy,
      status: r.result,
      ...(r.automatic ? { automatic: true } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    }));
    return {
      entityRef: target.ref,
      environment: env.name,
      selector,
      start: new Date(start * 1000).toISOString(),
      end: new Date(end * 1000).toISOString(),
      step,
      signals,
      deploys,
      analyses: ((await analysesRead) ?? []).map(
        (a): AnalysisWindow => ({
          deploymentId: a.deploymentId,
          revision: a.revision,
          status: toAnalysis(a).status,
          start: a.startedAt,
          end: a.finishedAt ?? a.endsAt,
        }),
      ),
    };
  }

  /**
   * PSI per feature at each step from the input histograms: the current
   * window's bucket shares against the reference of the revision serving at
   * that time (the newest rollout before it that did not fail). Undefined
   * when the service exports no input histograms in the range.
   */
  private async histogramDriftSeries(options: {
    source: ModelOpsMetricsSource;
    template: string;
    reference: Pick<
      DriftReferenceOptions,
      'matchers' | 'by' | 'entityRef' | 'environment'
    >;
    start: number;
    end: number;
    step: number;
    rollouts: readonly DeploymentRecord[];
  }): Promise<
    Partial<Pick<SignalSeries, 'series' | 'note' | 'reason'>> | undefined
  > {
    const { metrics } = this.options.config;
    const { source, reference, start, end, step } = options;
    const result = await source.range(
      renderQuery(options.template, {
        matchers: reference.matchers,
        window: metrics.window,
        by: reference.by,
      }),
      start,
      end,
      step,
    );
    if (!result.length) return undefined;

    // The revision serving at each time, from the deploy history.
    const before = await this.options.store.rolloutInEffect({
      entityRef: reference.entityRef,
      environment: reference.environment,
      at: new Date(start * 1000),
    });
    const changes = [
      ...(before ? [before] : []),
      ...options.rollouts.filter(
        r => r.result !== 'failed' && r.revision !== undefined,
      ),
    ].map(r => ({ at: Date.parse(r.createdAt) / 1000, revision: r.revision! }));
    const revisionAt = (t: number) => {
      let revision: number | undefined;
      for (const c of changes) if (c.at <= t) revision = c.revision;
      return revision;
    };

    const byTime = new Map<number, InstantSample[]>();
    for (const r of result)
      for (const p of r.points) {
        if (!Number.isFinite(p.v)) continue;
        const list = byTime.get(p.t);
        const sample = { metric: r.metric, value: p.v };
        if (list) list.push(sample);
        else byTime.set(p.t, [sample]);
      }
    const revisions = [
      ...new Set([...byTime.keys()].flatMap(t => revisionAt(t) ?? [])),
    ];
    if (!revisions.length)
      return {
        reason: `input histograms are exported, but no revision deployed through ModelOps served in this range, so no deploy time anchors the drift reference window`,
      };
    const references = await referencesWithin({
      wanted: revisions.map(revision => ({
        ...reference,
        source,
        store: this.options.store,
        references: this.options.references,
        template: options.template,
        window: metrics.window,
        referenceHours: metrics.driftReferenceHours,
        revision,
      })),
      references: this.options.references,
      budget: MAX_REFERENCE_READS_PER_CHART,
    });
    const referenceOf = new Map(revisions.map((r, i) => [r, references[i]!]));

    const perFeature = new Map<string, [number, number][]>();
    for (const t of [...byTime.keys()].sort((a, b) => a - b)) {
      const revision = revisionAt(t);
      const ref =
        revision === undefined ? undefined : referenceOf.get(revision);
      if (!ref || 'error' in ref) continue;
      for (const d of histogramDrift(byTime.get(t)!, ref.histograms).samples) {
        const feature = d.metric.feature!;
        const points = perFeature.get(feature);
        if (points) points.push([t, d.value]);
        else perFeature.set(feature, [[t, d.value]]);
      }
    }
    const errors = references
      .flatMap(r => ('error' in r ? [r.error] : []))
      .filter((e, i, all) => all.indexOf(e) === i);
    if (!perFeature.size)
      return {
        reason:
          errors.join('; ') ||
          'no feature has inputs both in the range and in the reference window',
      };
    return {
      series: [...perFeature]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([feature, points]) => ({ labels: { feature }, points })),
      note: `PSI computed from the input histograms, each point against the first ${
        metrics.driftReferenceHours
      } h after the revision serving then was deployed${
        errors.length ? `; not shown: ${errors.join('; ')}` : ''
      }`,
    };
  }
}
