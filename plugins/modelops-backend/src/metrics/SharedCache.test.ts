import { SharedCache } from './SharedCache';

describe('SharedCache', () => {
  it('shares one load between concurrent and later callers within the TTL', async () => {
    let now = 1000;
    const cache = new SharedCache(30_000, () => now);
    let loads = 0;
    const load = async () => {
      loads += 1;
      return loads;
    };
    const [a, b] = await Promise.all([
      cache.get('k', load),
      cache.get('k', load),
    ]);
    expect([a, b]).toEqual([
      { value: 1, at: 1000 },
      { value: 1, at: 1000 },
    ]);
    now += 29_999;
    expect(await cache.get('k', load)).toEqual({ value: 1, at: 1000 });
    now += 1;
    expect(await cache.get('k', load)).toEqual({ value: 2, at: 31_000 });
    expect(loads).toBe(2);
  });

  it('does not keep a failed load', async () => {
    const cache = new SharedCache(30_000);
    await expect(
      cache.get('k', async () => {
        throw new Error('down');
      }),
    ).rejects.toThrow('down');
    expect((await cache.get('k', async () => 'up')).value).toBe('up');
  });

  it('loads every time with a TTL of 0', async () => {
    const cache = new SharedCache(0);
    let loads = 0;
    await cache.get('k', async () => ++loads);
    await cache.get('k', async () => ++loads);
    expect(loads).toBe(2);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = new SharedCache(30_000, Date.now, 2);
    const loaded: string[] = [];
    const load = (k: string) => async () => loaded.push(k);
    for (const k of ['a', 'b', 'c']) await cache.get(k, load(k));
    await cache.get('a', load('a'));
    expect(loaded).toEqual(['a', 'b', 'c', 'a']);
  });
});
