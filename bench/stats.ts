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

export function p90(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const v = s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)];
  if (v === undefined) throw new Error('p90 of no values');
  return v;
}
