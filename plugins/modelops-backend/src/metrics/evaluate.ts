/**
 * From query results to judged signals (the part of health that reads no
 * network): which signals a service needs, what each result means, and the
 * pods' readiness from what the cluster answered. The single-service route
 * and the overview both end here, so a service looks the same on both.
 */
import {
  EnvironmentStatus,
  HealthStatus,
  SignalHealth,
} from '@modelops/plugin-modelops-common';
import { combine, judge, SignalThresholds } from './health';
import { InstantSample } from './PrometheusClient';
import { QuerySet, Signal } from './queries';

/** What one signal's query gave for one service: series, or why not. */
export type Outcome =
  /** `note` says how the values were arrived at, when not read as they are. */
  | { samples: InstantSample[]; note?: string }
  | { error: string }
  | { unavailable: string };

/** The signals health reads: p99 only when there is a p99 SLO to judge it against. */
export function signalsToRead(thresholds: SignalThresholds): Signal[] {
  return [
    'requestRate',
    'errorRate',
    'latencyP95',
    ...(thresholds.latencyP99 ? (['latencyP99'] as const) : []),
    'latencyMean',
    'featureDrift',
    'predictionDrift',
  ];
}

/** The cluster's answer about a service's workload in one environment. */
export type Workload = Pick<
  EnvironmentStatus,
  'phase' | 'replicas' | 'problems' | 'error' | 'revision'
>;

export interface EvaluateOptions {
  set: QuerySet;
  thresholds: SignalThresholds;
  /** The result of a signal's query for this service. */
  outcome(signal: Signal): Outcome;
  /**
   * The selector the series were read with, for "no series match" reasons
   * (asked only when a signal has no series).
   */
  selector: () => string;
  window: string;
  workload: Workload | undefined;
}

/** Every signal judged, and the environment's status from them. */
export function evaluateSignals(options: EvaluateOptions): {
  signals: SignalHealth[];
  status: HealthStatus;
  worst?: SignalHealth['signal'];
} {
  const { set, thresholds, outcome, selector, window } = options;

  /** What a signal reads as: a value (and which series, and how it was arrived at), or why none. */
  type Read = {
    value?: number;
    detail?: string;
    reason?: string;
    note?: string;
  };
  /** One number from an outcome: the largest value (one series per environment is expected). */
  const valueOf = (o: Outcome): Read => {
    if ('unavailable' in o) return { reason: o.unavailable };
    if ('error' in o) return { reason: o.error };
    if (!o.samples.length) return { reason: `no series match ${selector()}` };
    let top: InstantSample | undefined;
    for (const s of o.samples)
      if (Number.isFinite(s.value) && (!top || s.value > top.value)) top = s;
    if (!top)
      return {
        reason: `no requests in the last ${window} (the ratio is undefined)`,
      };
    const read: Read = { value: top.value, detail: top.metric.feature };
    if (o.note) read.note = o.note;
    return read;
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
    read: Read,
    t: { warning: number; critical: number } | undefined,
    noThreshold: string,
  ): SignalHealth => {
    if (read.value === undefined)
      return { signal, unit, status: 'unknown', reason: read.reason };
    const s: SignalHealth = { signal, unit, value: read.value, status: 'ok' };
    if (read.detail) s.detail = read.detail;
    if (read.note) s.reason = read.note;
    if (!t) {
      s.reason = noThreshold;
      return s;
    }
    s.warning = t.warning;
    s.critical = t.critical;
    s.status = judge(read.value, t);
    return s;
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
      ? {
          value: feature.value,
          detail: `feature ${feature.detail ?? '?'}`,
          ...(feature.note ? { note: feature.note } : {}),
        }
      : undefined,
    prediction.value !== undefined
      ? { value: prediction.value, detail: 'predictions' }
      : undefined,
  ].filter((c): c is { value: number; detail: string; note?: string } => !!c);
  const drift = candidates.length
    ? candidates.reduce((a, b) => (b.value > a.value ? b : a))
    : { reason: feature.reason ?? prediction.reason };
  signals.push(
    judged('drift', 'psi', drift, thresholds.drift, 'no drift-psi SLO'),
  );

  signals.push(
    readiness(options.workload, thresholds.minReadyRatio?.value ?? 1),
  );
  return { signals, ...combine(signals) };
}

/** Ready over desired pods, from the workload status the cluster answered. */
export function readiness(
  workload: Workload | undefined,
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
