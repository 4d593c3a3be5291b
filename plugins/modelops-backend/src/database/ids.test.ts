import { timeOrderedId } from './ids';

describe('timeOrderedId', () => {
  it('is a version 7, variant 1 UUID', () => {
    expect(timeOrderedId()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('sorts in creation order, also within one millisecond', () => {
    // 5000 ids take far less than 5000 ms: many share a millisecond.
    const ids = Array.from({ length: 5000 }, () => timeOrderedId());
    const milliseconds = new Set(ids.map(id => id.slice(0, 13)));
    expect(milliseconds.size).toBeLessThan(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
