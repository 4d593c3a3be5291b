/**
 * Collects providers added through an extension point. A provider may be
 * given as a factory that receives the defaults, so a module can wrap a
 * default instead of replacing it.
 */
export class ProviderRegistry<T extends { readonly type: string }> {
  private readonly added: Array<T | ((defaults: ReadonlyMap<string, T>) => T)> =
    [];
  private resolved = false;

  constructor(private readonly what: string) {}

  add(provider: T | ((defaults: ReadonlyMap<string, T>) => T)): void {
    if (this.resolved) {
      throw new Error(
        `Cannot add a ${this.what} after the ModelOps plugin has started`,
      );
    }
    this.added.push(provider);
  }

  /** Resolves added providers over the defaults; a later type replaces an earlier one. */
  resolve(defaults: ReadonlyMap<string, T>): Map<string, T> {
    this.resolved = true;
    const result = new Map(defaults);
    for (const entry of this.added) {
      const provider = typeof entry === 'function' ? entry(defaults) : entry;
      if (!provider?.type) {
        throw new Error(`A ${this.what} added by a module has no type`);
      }
      result.set(provider.type, provider);
    }
    return result;
  }
}
