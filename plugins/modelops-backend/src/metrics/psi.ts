/**
 * Drift computed by the backend, for model servers that export per-feature
 * input histograms but no drift score of their own.
 *
 *   PSI = sum over buckets of (actual_i - expected_i) * ln(actual_i / expected_i)
 *
 * "actual" is each bucket's share of the inputs of the current window and
 * "expected" its share over the reference window (by default the first 24 h
 * after the running revision was deployed). Shares are floored at
 * PSI_EPSILON, so a bucket empty on one side adds a large but finite amount.
 * Both sides come from `increase(..._bucket[...])`, whose extrapolation
 * scales every bucket of a series alike: shares, and so PSI, are exact.
 */
import { InstantSample } from './PrometheusClient';

export const PSI_EPSILON = 1e-4;

/** Bucket shares per feature, from cumulative bucket counts by `le`. */
export function bucketShares(
  samples: readonly InstantSample[],
): Map<string, { le: string[]; shares: number[]; total: number }> {
  const byFeature = new Map<
    string,
    { le: number; label: string; count: number }[]
  >();
  for (const s of samples) {
    const feature = s.metric.feature;
    const le = s.metric.le;
    if (feature === undefined || le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    if (Number.isNaN(bound) || !Number.isFinite(s.value)) continue;
    const list = byFeature.get(feature) ?? [];
    list.push({ le: bound, label: le, count: s.value });
    byFeature.set(feature, list);
  }
  const out = new Map<
    string,
    { le: string[]; shares: number[]; total: number }
  >();
  for (const [feature, list] of byFeature) {
    list.sort((a, b) => a.le - b.le);
    // Cumulative counts to per-bucket counts; a dip (a reset mid-window
    // seen unevenly across buckets) counts as nothing, never negative.
    const counts = list.map((b, i) =>
      Math.max(0, b.count - (i > 0 ? list[i - 1]!.count : 0)),
    );
    const total = counts.reduce((a, b) => a + b, 0);
    if (total <= 0) continue;
    out.set(feature, {
      le: list.map(b => b.label),
      shares: counts.map(c => c / total),
      total,
    });
  }
  return out;
}

/** PSI between two share vectors over the same buckets. */
export function psi(
  expected: readonly number[],
  actual: readonly number[],
  epsilon = PSI_EPSILON,
): number {
  if (expected.length !== actual.length)
    throw new Error('distributions must have the same number of buckets');
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, epsilon);
    const a = Math.max(actual[i]!, epsilon);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/**
 * PSI per feature of the current window against the reference, as samples
 * labelled by `feature` (what a drift gauge query would answer). Features
 * missing on either side, or bucketed differently, are left out and named.
 */
export function histogramDrift(
  current: readonly InstantSample[],
  reference: readonly InstantSample[],
): { samples: InstantSample[]; skipped: string[] } {
  const now = bucketShares(current);
  const then = bucketShares(reference);
  const samples: InstantSample[] = [];
  const skipped: string[] = [];
  for (const [feature, actual] of now) {
    const expected = then.get(feature);
    if (
      !expected ||
      expected.le.length !== actual.le.length ||
      expected.le.some((le, i) => le !== actual.le[i])
    ) {
      skipped.push(feature);
      continue;
    }
    samples.push({
      metric: { feature },
      value: psi(expected.shares, actual.shares),
    });
  }
  for (const feature of then.keys())
    if (!now.has(feature)) skipped.push(feature);
  samples.sort((a, b) => a.metric.feature!.localeCompare(b.metric.feature!));
  return { samples, skipped: skipped.sort() };
}
