/**
 * A model service's signals over a time range in one environment, for the
 * Monitoring tab's charts: one range query per signal with the service's own
 * matchers, the thresholds to draw, and the rollouts of the range as markers.
 */
import { InputError } from '@backstage/errors';
import {
  DeployMarker,
  formatSelector,
  MetricsResponse,
  SignalSeries,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import { DeploymentStore } from '../database/DeploymentStore';
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
      source?: ModelOpsMetricsSource;
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
    const deploys: DeployMarker[] = rollouts.map(r => ({
      deploymentId: r.id,
      time: r.createdAt,
      action: r.action,
      image: r.image ?? '',
      ...(r.revision !== undefined ? { revision: r.revision } : {}),
      requestedBy: r.requestedBy,
      status: r.result,
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
    };
  }
}
