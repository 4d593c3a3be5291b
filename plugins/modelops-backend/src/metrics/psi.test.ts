import { bucketShares, histogramDrift, psi } from './psi';

const bucket = (feature: string, le: string, value: number) => ({
  metric: { feature, le },
  value,
});

describe('bucketShares', () => {
  it('turns cumulative counts by le (in any order) into shares per bucket', () => {
    const shares = bucketShares([
      bucket('f', '+Inf', 40),
      bucket('f', '0', 10),
      bucket('f', '1', 30),
    ]);
    expect(shares.get('f')).toEqual({
      le: ['0', '1', '+Inf'],
      shares: [0.25, 0.5, 0.25],
      total: 40,
    });
  });

  it('counts a dip between buckets (a reset seen unevenly) as nothing and skips empty features', () => {
    const shares = bucketShares([
      bucket('f', '0', 10),
      bucket('f', '1', 8),
      bucket('f', '+Inf', 20),
      bucket('empty', '0', 0),
      bucket('empty', '+Inf', 0),
      { metric: { le: '0' }, value: 3 },
    ]);
    expect(shares.get('f')!.shares).toEqual([10 / 22, 0, 12 / 22]);
    expect(shares.has('empty')).toBe(false);
    expect([...shares.keys()]).toEqual(['f']);
  });
});

describe('psi', () => {
  it('is 0 for equal distributions and floors empty buckets', () => {
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    expect(psi([0.5, 0.5], [1, 0])).toBeCloseTo(
      (1 - 0.5) * Math.log(1 / 0.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5),
      12,
    );
    expect(() => psi([1], [0.5, 0.5])).toThrow(/same number of buckets/);
  });
});

describe('histogramDrift', () => {
  it('answers PSI per feature and names features it cannot compare', () => {
    const current = [
      bucket('a', '0', 5),
      bucket('a', '+Inf', 20),
      bucket('b', '0', 5),
      bucket('b', '+Inf', 10),
      bucket('new', '0', 1),
      bucket('new', '+Inf', 2),
    ];
    const reference = [
      bucket('a', '0', 50),
      bucket('a', '+Inf', 100),
      // b was bucketed differently then.
      bucket('b', '1', 5),
      bucket('b', '+Inf', 10),
      bucket('gone', '0', 1),
      bucket('gone', '+Inf', 2),
    ];
    const drift = histogramDrift(current, reference);
    expect(drift.samples).toEqual([
      {
        metric: { feature: 'a' },
        value: psi([0.5, 0.5], [0.25, 0.75]),
      },
    ]);
    expect(drift.skipped).toEqual(['b', 'gone', 'new']);
  });
});
