/**
 * Drift detection with the Population Stability Index (PSI).
 *
 *   PSI = sum over bins of (actual_i - expected_i) * ln(actual_i / expected_i)
 *
 * "expected" is the share of the training data in each bin and "actual" the
 * share of the recent serving window. Shares are floored at PSI_EPSILON so an
 * empty bin contributes a large but finite amount instead of Infinity.
 * Rule of thumb: < 0.1 stable, 0.1-0.2 moderate shift, > 0.2 significant shift.
 */

export const PSI_EPSILON = 1e-4;

/** Reference distribution of one numeric feature, binned at training quantiles. */
export interface BinnedReference {
  /**
   * Interior cut points in ascending order; bin i holds values v with
   * edges[i-1] < v <= edges[i] (the first and last bins are open-ended).
   */
  readonly edges: readonly number[];
  /** Share of the training data in each bin (edges.length + 1 entries). */
  readonly proportions: readonly number[];
}

/** Builds a reference with (up to) `binCount` equal-frequency bins. */
export function buildQuantileReference(
  values: readonly number[],
  binCount: number,
): BinnedReference {
  if (values.length === 0)
    throw new Error('cannot build a reference from no values');
  if (!Number.isInteger(binCount) || binCount < 2)
    throw new Error('binCount must be an integer >= 2');
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < binCount; i++) {
    // Upper edge of the i-th bin: the smallest value with at least i/binCount of the data at or below it.
    const edge =
      sorted[Math.max(0, Math.ceil((i * sorted.length) / binCount) - 1)]!;
    // Ties can produce duplicate cut points; keep edges strictly increasing.
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[binIndex(edges, v)]! += 1;
  return { edges, proportions: counts.map(c => c / values.length) };
}

/** Index of the bin holding `value` (binary search over the cut points). */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** PSI between two distributions over the same bins (each summing to ~1). */
export function psi(
  expected: readonly number[],
  actual: readonly number[],
  epsilon = PSI_EPSILON,
): number {
  if (expected.length !== actual.length)
    throw new Error('distributions must have the same number of bins');
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, epsilon);
    const a = Math.max(actual[i]!, epsilon);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/**
 * Fixed-size sliding window of categorical observations (bin indices or class
 * indices) for several dimensions at once, with running counts so that
 * adding an observation and reading the distribution are O(dimensions).
 */
export class SlidingHistogram {
  readonly capacity: number;
  readonly #binCounts: readonly number[];
  readonly #ring: Uint16Array;
  readonly #counts: Float64Array[];
  #next = 0;
  #size = 0;

  constructor(capacity: number, binCounts: readonly number[]) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error('window capacity must be a positive integer');
    this.capacity = capacity;
    this.#binCounts = [...binCounts];
    this.#ring = new Uint16Array(capacity * binCounts.length);
    this.#counts = binCounts.map(n => new Float64Array(n));
  }

  get size(): number {
    return this.#size;
  }

  /** Adds one observation: one bin index per dimension. */
  add(bins: readonly number[]): void {
    const dims = this.#binCounts.length;
    const offset = this.#next * dims;
    for (let d = 0; d < dims; d++) {
      if (this.#size === this.capacity)
        this.#counts[d]![this.#ring[offset + d]!]! -= 1;
      const bin = bins[d]!;
      this.#ring[offset + d] = bin;
      this.#counts[d]![bin]! += 1;
    }
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size += 1;
  }

  /** Share of the window in each bin of dimension `d` (all zeros when empty). */
  proportions(d: number): number[] {
    const counts = this.#counts[d]!;
    return Array.from(counts, c => (this.#size === 0 ? 0 : c / this.#size));
  }

  clear(): void {
    this.#next = 0;
    this.#size = 0;
    for (const counts of this.#counts) counts.fill(0);
  }
}

export interface DriftSnapshot {
  /** Inputs (rows) currently in the window. */
  readonly windowSize: number;
  /** Predictions currently in the window. */
  readonly predictionWindowSize: number;
  /** PSI per feature, in feature order; undefined until the window holds `minSamples` inputs. */
  readonly featurePsi: readonly number[] | undefined;
  /** PSI of the predicted-class distribution; undefined until `minSamples` predictions. */
  readonly predictionPsi: number | undefined;
}

/** PSI on a handful of samples is noise: below this many it is not reported. */
export const DEFAULT_MIN_SAMPLES = 50;

/** Tracks recent inputs and predictions and compares them with training. */
export class DriftMonitor {
  readonly minSamples: number;
  readonly #features: readonly BinnedReference[];
  readonly #classReference: readonly number[];
  readonly #inputs: SlidingHistogram;
  readonly #predictions: SlidingHistogram;

  constructor(
    features: readonly BinnedReference[],
    classReference: readonly number[],
    windowSize: number,
    minSamples = Math.min(DEFAULT_MIN_SAMPLES, windowSize),
  ) {
    this.#features = features;
    this.#classReference = classReference;
    this.#inputs = new SlidingHistogram(
      windowSize,
      features.map(f => f.proportions.length),
    );
    this.#predictions = new SlidingHistogram(windowSize, [
      classReference.length,
    ]);
    this.minSamples = Math.max(1, minSamples);
  }

  get capacity(): number {
    return this.#inputs.capacity;
  }

  recordInput(row: readonly number[]): void {
    this.#inputs.add(this.#features.map((f, i) => binIndex(f.edges, row[i]!)));
  }

  recordPrediction(classIndex: number): void {
    this.#predictions.add([classIndex]);
  }

  snapshot(): DriftSnapshot {
    const windowSize = this.#inputs.size;
    const predictionWindowSize = this.#predictions.size;
    return {
      windowSize,
      predictionWindowSize,
      featurePsi:
        windowSize < this.minSamples
          ? undefined
          : this.#features.map((f, i) =>
              psi(f.proportions, this.#inputs.proportions(i)),
            ),
      predictionPsi:
        predictionWindowSize < this.minSamples
          ? undefined
          : psi(this.#classReference, this.#predictions.proportions(0)),
    };
  }

  reset(): void {
    this.#inputs.clear();
    this.#predictions.clear();
  }
}
