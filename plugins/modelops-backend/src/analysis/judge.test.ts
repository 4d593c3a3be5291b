import { SignalHealth } from '@modelops/plugin-modelops-common';
import { judgeEvaluation } from './judge';

const rate = (value?: number): SignalHealth =>
  value === undefined
    ? {
        signal: 'requestRate',
        unit: 'requestsPerSecond',
        status: 'unknown',
        reason: 'no series match {pod=~"x-[a-z0-9]+"}',
      }
    : { signal: 'requestRate', unit: 'requestsPerSecond', status: 'ok', value };
const latency = (value: number | undefined, critical = 0.25): SignalHealth =>
  value === undefined
    ? {
        signal: 'latencyP95',
        unit: 'seconds',
        status: 'unknown',
        reason: 'no series',
      }
    : {
        signal: 'latencyP95',
        unit: 'seconds',
        value,
        warning: critical * 0.8,
        critical,
        status: value > critical ? 'critical' : 'ok',
      };
const errors = (value: number, critical = 0.01): SignalHealth => ({
  signal: 'errorRate',
  unit: 'ratio',
  value,
  warning: critical * 0.8,
  critical,
  status: value > critical ? 'critical' : 'ok',
});
const opts = { minRequestRate: 0.5, window: '1m' };

describe('judgeEvaluation', () => {
  it('names the breaching signal with its value and SLO', () => {
    expect(judgeEvaluation([rate(5), errors(0), latency(0.41)], opts)).toEqual({
      kind: 'breach',
      breach: {
        signal: 'latencyP95',
        value: 0.41,
        threshold: 0.25,
        unit: 'seconds',
      },
      message: 'latencyP95 410 ms is over its SLO of 250 ms (over 1m)',
    });
    expect(
      judgeEvaluation([rate(5), errors(0.3), latency(0.1)], opts),
    ).toMatchObject({
      kind: 'breach',
      message: 'errorRate 30.0 % is over its SLO of 1.0 % (over 1m)',
    });
  });

  it('is within the SLOs when every judged signal is', () => {
    expect(
      judgeEvaluation([rate(5), errors(0.001), latency(0.1)], opts),
    ).toEqual({
      kind: 'ok',
      message: 'within its SLOs at 5.0 requests/s',
    });
  });

  it('will not judge on too little traffic, not even a breach', () => {
    expect(judgeEvaluation([rate(0.2), errors(1), latency(2)], opts)).toEqual({
      kind: 'inconclusive',
      message: 'too little traffic to judge: 0.20 requests/s, less than 0.5',
    });
    expect(judgeEvaluation([rate(), latency(undefined)], opts)).toMatchObject({
      kind: 'inconclusive',
      message: expect.stringContaining(
        "no request rate for the new revision's pods yet",
      ),
    });
  });

  it('is inconclusive while the latency cannot be read', () => {
    expect(
      judgeEvaluation([rate(5), errors(0), latency(undefined)], opts),
    ).toEqual({
      kind: 'inconclusive',
      message: 'latencyP95: no series',
    });
  });

  it("does not fail a revision on its new pods' drift, which is noise over their first requests", () => {
    const drift: SignalHealth = {
      signal: 'drift',
      unit: 'psi',
      value: 0.95,
      warning: 0.1,
      critical: 0.25,
      status: 'critical',
    };
    expect(
      judgeEvaluation([rate(5), errors(0), latency(0.1), drift], opts),
    ).toMatchObject({ kind: 'ok' });
  });
});
