// Order statistics the benchmarks print.

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const at = (i: number): number => {
    const v = s[i];
    if (v === undefined) throw new Error('median of no values');
    return v;
  };
  return s.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/** The smallest value at least `q` (0–1) of the values are not above. */
function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const v = s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  if (v === undefined) throw new Error(`p${q * 100} of no values`);
  return v;
}

export const p90 = (values: number[]) => percentile(values, 0.9);
export const p95 = (values: number[]) => percentile(values, 0.95);
