/**
 * Upstream answers shared between callers for a short while: a page full of
 * viewers of the health overview costs Prometheus and the clusters what one
 * viewer costs. Concurrent loads of one key wait on the same request; a load
 * that fails is not kept, so the next caller tries again.
 */
export class SharedCache {
  private readonly entries = new Map<
    string,
    { at: number; value: Promise<unknown> }
  >();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    /** Entries kept at most; the oldest go first beyond it. */
    private readonly maxEntries = 1000,
  ) {}

  /** The value of `key` read at most `ttlMs` ago, else `load()`'s; with when it was read. */
  async get<T>(
    key: string,
    load: () => Promise<T>,
  ): Promise<{ value: T; at: number }> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) {
      return { value: (await hit.value) as T, at: hit.at };
    }
    const value = load();
    if (this.ttlMs > 0) {
      this.entries.delete(key);
      this.entries.set(key, { at: now, value });
      while (this.entries.size > this.maxEntries) {
        this.entries.delete(this.entries.keys().next().value as string);
      }
      value.catch(() => {
        if (this.entries.get(key)?.value === value) this.entries.delete(key);
      });
    }
    return { value: await value, at: now };
  }
}
