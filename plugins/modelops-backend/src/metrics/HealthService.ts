/**
 * A model service's health per environment: each signal read from the
 * metrics source and judged against the service's thresholds, and the pods'
 * readiness from the cluster. Errors are data: a metrics source that is down
 * or slow makes its signals `unknown` with the reason, a cluster that is down
 * makes readiness unknown, and everything else still answers.
 */
import { InputError } from '@backstage/errors';
import {
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_KUBERNETES_NAMESPACE,
  ANNOTATION_METRICS_SELECTOR,
  EnvironmentHealth,
  EnvironmentStatus,
  formatSelector,
  HealthResponse,
  LabelMatcher,
  SignalHealth,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import { DeploymentService } from '../service/DeploymentService';
import { ModelServiceTarget } from '../service/entities';
import { EnvironmentService } from '../service/EnvironmentService';
import { combine, judge, thresholdsFor, worstOf } from './health';
import { InstantSample, PrometheusClient } from './PrometheusClient';
import { querySetFor, renderQuery, Signal } from './queries';

/** The annotations that decide which series are the service's. */
const SELECTING_ANNOTATIONS = [
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_KUBERNETES_NAMESPACE,
  ANNOTATION_METRICS_SELECTOR,
];

type Outcome =
  | { samples: InstantSample[] }
  | { error: string }
  | { unavailable: string };

export class HealthService {
  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      environments: EnvironmentService;
      deployments: DeploymentService;
      /** Undefined when no metrics source is configured. */
      prometheus?: PrometheusClient;
    },
  ) {}

  async health(options: {
    target: ModelServiceTarget;
  }): Promise<HealthResponse> {
    const { target } = options;
    const { metrics } = this.options.config;
    // What selects the series must be valid as a whole: a malformed part is
    // refused, never dropped (that would widen the selection) nor pasted.
    const selecting = target.contract.problems.filter(p =>
      SELECTING_ANNOTATIONS.includes(p.annotation),
    );
    if (selecting.length) {
      throw new InputError(
        `Cannot read the metrics of ${
          target.ref
        } until its annotations are fixed: ${selecting
          .map(p => `${p.annotation} ${p.message}`)
          .join('; ')}`,
      );
    }
    const resolved = this.options.environments.resolve({ target });
    const status = await this.options.deployments.status({ target });
    const environments = await Promise.all(
      resolved.environments.map(env =>
        this.environmentHealth(
          target,
          env.name,
          env.cluster,
          env.namespace,
          status.environments.find(e => e.environment === env.name),
          env.error?.message,
        ),
      ),
    );
    return {
      entityRef: resolved.entityRef,
      status: worstOf(environments.map(e => e.status)),
      window: metrics.window,
      environments,
    };
  }

  private async environmentHealth(
    target: ModelServiceTarget,
    environment: string,
    cluster: string,
    namespace: string,
    workload: EnvironmentStatus | undefined,
    environmentError: string | undefined,
  ): Promise<EnvironmentHealth> {
    const { metrics } = this.options.config;
    const { contract } = target;
    const base = { environment, cluster, namespace };
    if (environmentError || !contract.kubernetesId) {
      const reason =
        environmentError ??
        'the entity has no valid backstage.io/kubernetes-id annotation, so no series can be selected';
      return {
        ...base,
        status: 'unknown',
        signals: [],
        error: { reason: 'NotMonitorable', message: reason },
      };
    }
    const matchers: LabelMatcher[] = [
      { name: metrics.labels.cluster, op: '=', value: cluster },
      { name: metrics.labels.namespace, op: '=', value: namespace },
      { name: metrics.labels.service, op: '=', value: contract.kubernetesId },
      ...contract.metricsMatchers,
    ];
    const selector = formatSelector(matchers);
    const thresholds = thresholdsFor(contract.slo, metrics.slo);
    const set = querySetFor(contract.runtime);
    const by = [
      metrics.labels.service,
      metrics.labels.cluster,
      metrics.labels.namespace,
    ];

    const run = async (signal: Signal): Promise<Outcome> => {
      const template = set[signal];
      if (typeof template !== 'string') return template;
      if (!this.options.prometheus)
        return {
          error:
            'no metrics source is configured (modelops.metrics.prometheus)',
        };
      try {
        const query = renderQuery(template, {
          matchers,
          window: metrics.window,
          by,
        });
        return { samples: await this.options.prometheus.instant(query) };
      } catch (e) {
        return { error: (e as Error).message };
      }
    };
    // p99 is only shown against an SLO, so it is only read when there is one.
    const signalsToRead: Signal[] = [
      'requestRate',
      'errorRate',
      'latencyP95',
      ...(thresholds.latencyP99 ? (['latencyP99'] as const) : []),
      'latencyMean',
      'featureDrift',
      'predictionDrift',
    ];
    const outcomes = new Map(
      await Promise.all(
        signalsToRead.map(async s => [s, await run(s)] as const),
      ),
    );
    const outcome = (s: Signal) => outcomes.get(s)!;
    const noSeries = `no series match ${selector}`;

    /** One number from an outcome: the largest value (one series per environment is expected). */
    const valueOf = (
      o: Outcome,
    ): { value?: number; detail?: string; reason?: string } => {
      if ('unavailable' in o) return { reason: o.unavailable };
      if ('error' in o) return { reason: o.error };
      const finite = o.samples.filter(s => Number.isFinite(s.value));
      if (!o.samples.length) return { reason: noSeries };
      if (!finite.length)
        return {
          reason: `no requests in the last ${metrics.window} (the ratio is undefined)`,
        };
      const top = finite.reduce((a, b) => (b.value > a.value ? b : a));
      return { value: top.value, detail: top.metric.feature };
    };

    const signals: SignalHealth[] = [];
    const rate = valueOf(outcome('requestRate'));
    signals.push({
      signal: 'requestRate',
      unit: 'requestsPerSecond',
      status: rate.value === undefined ? 'unknown' : 'ok',
      ...(rate.value !== undefined
        ? { value: rate.value }
        : { reason: rate.reason }),
    });

    const judged = (
      signal: SignalHealth['signal'],
      unit: SignalHealth['unit'],
      read: { value?: number; detail?: string; reason?: string },
      t: { warning: number; critical: number } | undefined,
      noThreshold: string,
    ): SignalHealth => {
      if (read.value === undefined)
        return { signal, unit, status: 'unknown', reason: read.reason };
      const s: SignalHealth = { signal, unit, value: read.value, status: 'ok' };
      if (read.detail) s.detail = read.detail;
      if (!t) return { ...s, reason: noThreshold };
      return {
        ...s,
        warning: t.warning,
        critical: t.critical,
        status: judge(read.value, t),
      };
    };

    signals.push(
      judged(
        'errorRate',
        'ratio',
        valueOf(outcome('errorRate')),
        thresholds.errorRate,
        'no error-rate SLO (modelops/slo or modelops.metrics.slo)',
      ),
    );
    if (typeof set.latencyP95 === 'string') {
      signals.push(
        judged(
          'latencyP95',
          'seconds',
          valueOf(outcome('latencyP95')),
          thresholds.latencyP95,
          'no latency-p95-ms SLO (modelops/slo or modelops.metrics.slo)',
        ),
      );
      if (thresholds.latencyP99)
        signals.push(
          judged(
            'latencyP99',
            'seconds',
            valueOf(outcome('latencyP99')),
            thresholds.latencyP99,
            '',
          ),
        );
    } else {
      // Runtimes without percentiles: the mean, informational, and why.
      const mean = valueOf(outcome('latencyMean'));
      signals.push(
        mean.value === undefined
          ? {
              signal: 'latencyMean',
              unit: 'seconds',
              status: 'unknown',
              reason: mean.reason,
            }
          : {
              signal: 'latencyMean',
              unit: 'seconds',
              status: 'ok',
              value: mean.value,
              reason: `${set.latencyP95.unavailable}; a mean is not judged against the p95 SLO`,
            },
      );
    }

    // Drift: the largest PSI of any feature or of the predictions.
    const feature = valueOf(outcome('featureDrift'));
    const prediction = valueOf(outcome('predictionDrift'));
    const candidates = [
      feature.value !== undefined
        ? { value: feature.value, detail: `feature ${feature.detail ?? '?'}` }
        : undefined,
      prediction.value !== undefined
        ? { value: prediction.value, detail: 'predictions' }
        : undefined,
    ].filter((c): c is { value: number; detail: string } => !!c);
    const drift = candidates.length
      ? candidates.reduce((a, b) => (b.value > a.value ? b : a))
      : { reason: feature.reason ?? prediction.reason };
    signals.push(
      judged('drift', 'psi', drift, thresholds.drift, 'no drift-psi SLO'),
    );

    signals.push(readiness(workload, thresholds.minReadyRatio?.value ?? 1));
    return { ...base, selector, ...combine(signals), signals };
  }
}

/** Ready over desired pods, from the deploy status the cluster answered. */
function readiness(
  workload: EnvironmentStatus | undefined,
  minReadyRatio: number,
): SignalHealth {
  const signal = 'readyRatio' as const;
  const unit = 'ratio' as const;
  if (!workload || workload.error)
    return {
      signal,
      unit,
      status: 'unknown',
      reason: workload?.error?.message ?? 'no status from the cluster',
    };
  if (workload.phase === 'NotDeployed')
    return {
      signal,
      unit,
      status: 'unknown',
      reason: 'not deployed in this environment',
    };
  const desired = workload.replicas?.desired ?? 0;
  const ready = workload.replicas?.ready ?? 0;
  const value = desired > 0 ? ready / desired : 1;
  const base = { signal, unit, value, warning: minReadyRatio, critical: 0 };
  if (workload.phase === 'Failed')
    return {
      ...base,
      status: 'critical',
      reason: `the rollout failed${
        workload.problems[0] ? `: ${workload.problems[0].message}` : ''
      }`,
    };
  if (desired > 0 && ready === 0)
    return { ...base, status: 'critical', reason: 'no pod is ready' };
  if (value < minReadyRatio)
    return {
      ...base,
      status: 'warning',
      reason: `${ready} of ${desired} pods ready`,
    };
  return { ...base, status: 'ok' };
}
