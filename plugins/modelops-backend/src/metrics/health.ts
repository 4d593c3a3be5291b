/**
 * Judging signals against thresholds (the pure part of health): where the
 * thresholds come from, what a value means, and how signals combine into an
 * environment's status.
 */
import {
  healthStatusRank,
  HealthStatus,
  SignalHealth,
  SloKey,
} from '@modelops/plugin-modelops-common';

export interface Thresholds {
  warning: number;
  critical: number;
  /** Where the critical threshold comes from, for messages. */
  source: 'entity' | 'config' | 'default';
}

/** When neither the entity nor the config sets one. PSI bands 0.1 / 0.25 are the usual ones. */
export const BUILTIN_SLO: Partial<Record<SloKey, number>> = {
  'error-rate': 0.05,
  'drift-psi': 0.25,
  'min-ready-ratio': 1,
};

/** A warning starts at this share of a latency or error-rate threshold. */
export const WARNING_SHARE = 0.8;
/** PSI at which a distribution counts as moving (the lower of the two usual bands). */
export const DRIFT_WARNING_PSI = 0.1;

export interface SignalThresholds {
  errorRate?: Thresholds;
  latencyP95?: Thresholds;
  latencyP99?: Thresholds;
  drift?: Thresholds;
  minReadyRatio?: { value: number; source: Thresholds['source'] };
}

/** The thresholds of one service: its `modelops/slo`, over the config's defaults, over the built-in ones. */
export function thresholdsFor(
  entity: Partial<Record<SloKey, number>>,
  config: Partial<Record<SloKey, number>>,
): SignalThresholds {
  const pick = (key: SloKey) => {
    if (entity[key] !== undefined)
      return { value: entity[key]!, source: 'entity' as const };
    if (config[key] !== undefined)
      return { value: config[key]!, source: 'config' as const };
    if (BUILTIN_SLO[key] !== undefined)
      return { value: BUILTIN_SLO[key]!, source: 'default' as const };
    return undefined;
  };
  const share = (key: SloKey, scale = 1): Thresholds | undefined => {
    const p = pick(key);
    return p
      ? {
          critical: p.value * scale,
          warning: p.value * scale * WARNING_SHARE,
          source: p.source,
        }
      : undefined;
  };
  const drift = pick('drift-psi');
  return {
    errorRate: share('error-rate'),
    // The SLO is in milliseconds; the series are in seconds.
    latencyP95: share('latency-p95-ms', 1 / 1000),
    latencyP99: share('latency-p99-ms', 1 / 1000),
    drift: drift && {
      critical: drift.value,
      warning: Math.min(DRIFT_WARNING_PSI, drift.value / 2),
      source: drift.source,
    },
    minReadyRatio: pick('min-ready-ratio'),
  };
}

/** ok, warning or critical for a value where higher is worse: beyond the threshold, not at it. */
export function judge(
  value: number,
  t: Pick<Thresholds, 'warning' | 'critical'>,
): HealthStatus {
  if (value > t.critical) return 'critical';
  if (value > t.warning) return 'warning';
  return 'ok';
}

/**
 * An environment's status from its signals: the worst one, where a signal
 * that could not be judged is worse than ok but better than a warning.
 * Signals without thresholds (the request rate) only count when unknown.
 */
export function combine(signals: readonly SignalHealth[]): {
  status: HealthStatus;
  worst?: SignalHealth['signal'];
} {
  let status: HealthStatus = 'ok';
  let worst: SignalHealth['signal'] | undefined;
  for (const s of signals) {
    if (healthStatusRank(s.status) > healthStatusRank(status)) {
      status = s.status;
      worst = s.signal;
    }
  }
  if (!signals.length) return { status: 'unknown' };
  return status === 'warning' || status === 'critical'
    ? { status, worst }
    : { status };
}

/** The worst status of several (a service over its environments). */
export function worstOf(statuses: readonly HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>(
    (w, s) => (healthStatusRank(s) > healthStatusRank(w) ? s : w),
    statuses.length ? 'ok' : 'unknown',
  );
}
