import { combine, judge, thresholdsFor, worstOf } from './health';

describe('thresholdsFor', () => {
  it('takes the entity SLO over the config over the built-in defaults', () => {
    const t = thresholdsFor(
      { 'latency-p95-ms': 250 },
      { 'latency-p95-ms': 900, 'error-rate': 0.02 },
    );
    expect(t.latencyP95).toEqual({
      critical: 0.25,
      warning: 0.2,
      source: 'entity',
    });
    expect(t.errorRate).toEqual({
      critical: 0.02,
      warning: 0.016,
      source: 'config',
    });
    expect(t.drift).toEqual({
      critical: 0.25,
      warning: 0.1,
      source: 'default',
    });
    expect(t.latencyP99).toBeUndefined();
    expect(t.minReadyRatio).toEqual({ value: 1, source: 'default' });
  });

  it('keeps the drift warning below a strict drift SLO', () => {
    expect(thresholdsFor({ 'drift-psi': 0.08 }, {}).drift).toMatchObject({
      critical: 0.08,
      warning: 0.04,
    });
  });
});

describe('judge', () => {
  const t = { warning: 0.1, critical: 0.25, source: 'default' as const };
  it.each([
    [0, 'ok'],
    [0.1, 'ok'],
    [0.11, 'warning'],
    [0.25, 'warning'],
    [0.26, 'critical'],
  ])('%s is %s (beyond a threshold, not at it)', (value, status) => {
    expect(judge(value, t)).toBe(status);
  });
});

describe('combine', () => {
  const s = (signal: any, status: any) => ({
    signal,
    status,
    unit: 'ratio' as const,
  });
  it('is the worst status, naming the signal when it is a warning or worse', () => {
    expect(
      combine([
        s('errorRate', 'ok'),
        s('drift', 'critical'),
        s('latencyP95', 'warning'),
      ]),
    ).toEqual({ status: 'critical', worst: 'drift' });
  });
  it('ranks unknown above ok and below warning, without naming a worst signal', () => {
    expect(combine([s('errorRate', 'ok'), s('drift', 'unknown')])).toEqual({
      status: 'unknown',
    });
    expect(combine([s('drift', 'unknown'), s('errorRate', 'warning')])).toEqual(
      {
        status: 'warning',
        worst: 'errorRate',
      },
    );
  });
  it('is unknown with no signals', () => {
    expect(combine([])).toEqual({ status: 'unknown' });
    expect(worstOf([])).toBe('unknown');
    expect(worstOf(['ok', 'warning', 'unknown'])).toBe('warning');
  });
});
