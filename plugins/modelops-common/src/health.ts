import type { HealthStatus } from './types';

const RANK: Record<HealthStatus, number> = {
  ok: 0,
  unknown: 1,
  warning: 2,
  critical: 3,
};

/**
 * How bad a health status is, for sorting and for the worst of several:
 * ok 0, unknown 1, warning 2, critical 3. A signal that could not be judged
 * is worse than ok but better than a warning.
 * @public
 */
export function healthStatusRank(status: HealthStatus): number {
  return RANK[status];
}
