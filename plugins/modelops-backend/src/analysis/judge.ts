/**
 * What one evaluation of an analysis says (the part of an analysis that
 * reads no network): a breach of the revision's SLOs, too little to judge,
 * or within them.
 */
import { AnalysisBreach, SignalHealth } from '@modelops/plugin-modelops-common';

export type Verdict =
  | { kind: 'breach'; breach: AnalysisBreach; message: string }
  | { kind: 'inconclusive'; message: string }
  | { kind: 'ok'; message: string };

/** The signals an evaluation must read to judge the revision at all. */
const REQUIRED = ['errorRate', 'latencyP95'] as const;

function format(unit: SignalHealth['unit'], v: number): string {
  if (unit === 'seconds') return `${Math.round(v * 1000)} ms`;
  if (unit === 'ratio') return `${(v * 100).toFixed(1)} %`;
  return v.toPrecision(3);
}

function describe(s: SignalHealth, threshold: number): string {
  return `${s.signal} ${format(s.unit, s.value!)} is over its SLO of ${format(
    s.unit,
    threshold,
  )}`;
}

/**
 * Judges one evaluation of a revision's signals. Any signal but drift past
 * its critical threshold (its SLO) is a breach, named with its value; without
 * enough traffic (`minRequestRate`) or without the error rate and latency
 * the verdict is inconclusive; otherwise the revision is within its SLOs.
 */
export function judgeEvaluation(
  signals: readonly SignalHealth[],
  options: { minRequestRate: number; window: string },
): Verdict {
  const breaching = signals.filter(
    s =>
      // Drift is shown, not judged: a revision's new pods report PSI over
      // their first few requests, which is noise (0.9 and more on a good
      // release), not a drifted model.
      s.signal !== 'drift' &&
      s.status === 'critical' &&
      s.value !== undefined &&
      s.critical !== undefined,
  );
  const rate = signals.find(s => s.signal === 'requestRate');
  const enoughTraffic =
    rate?.value !== undefined && rate.value >= options.minRequestRate;
  if (breaching.length && enoughTraffic) {
    const s = breaching[0]!;
    return {
      kind: 'breach',
      breach: {
        signal: s.signal,
        value: s.value!,
        threshold: s.critical!,
        unit: s.unit,
      },
      message: `${describe(s, s.critical!)} (over ${options.window})`,
    };
  }
  if (!enoughTraffic)
    return {
      kind: 'inconclusive',
      message:
        rate?.value === undefined
          ? `no request rate for the new revision's pods yet: ${
              rate?.reason ?? 'no series'
            }`
          : `too little traffic to judge: ${rate.value.toPrecision(
              2,
            )} requests/s, less than ${options.minRequestRate}`,
    };
  const unread = REQUIRED.map(name =>
    signals.find(s => s.signal === name),
  ).filter(s => s && s.value === undefined && s.status === 'unknown');
  if (unread.length)
    return {
      kind: 'inconclusive',
      message: unread.map(s => `${s!.signal}: ${s!.reason}`).join('; '),
    };
  return {
    kind: 'ok',
    message: `within its SLOs at ${rate!.value!.toPrecision(2)} requests/s`,
  };
}
