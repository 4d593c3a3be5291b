import { healthStatusRank } from './health';

describe('healthStatusRank', () => {
  it('orders ok < unknown < warning < critical', () => {
    const statuses = ['critical', 'ok', 'warning', 'unknown'] as const;
    expect(
      [...statuses].sort((a, b) => healthStatusRank(a) - healthStatusRank(b)),
    ).toEqual(['ok', 'unknown', 'warning', 'critical']);
  });
});
