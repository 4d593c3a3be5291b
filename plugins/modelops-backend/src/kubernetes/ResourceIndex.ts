import { ResourceInfo } from './types';

/** Splits `apps/v1` into group and version; `v1` is the core group. */
export function splitApiVersion(apiVersion: string): {
  group: string;
  version: string;
} {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return {
    group: apiVersion.slice(0, slash),
    version: apiVersion.slice(slash + 1),
  };
}

/** The resource types a cluster serves, from API discovery. */
export class ResourceIndex {
  private readonly byApiVersionKind = new Map<string, ResourceInfo>();
  private readonly byKind = new Map<string, ResourceInfo[]>();

  constructor(
    readonly resources: readonly ResourceInfo[],
    /** When discovery ran (ms since epoch). */
    readonly fetchedAt: number = Date.now(),
  ) {
    for (const r of resources) {
      const key = `${r.apiVersion}|${r.kind}`;
      if (!this.byApiVersionKind.has(key)) this.byApiVersionKind.set(key, r);
      const list = this.byKind.get(r.kind) ?? [];
      list.push(r);
      this.byKind.set(r.kind, list);
    }
    for (const list of this.byKind.values()) {
      list.sort(
        (a, b) =>
          Number(b.preferred) - Number(a.preferred) ||
          a.apiVersion.localeCompare(b.apiVersion),
      );
    }
  }

  /** The resource for an exact apiVersion and kind, if the cluster serves it. */
  lookup(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.byApiVersionKind.get(`${apiVersion}|${kind}`);
  }

  /**
   * Every group/version serving this kind, preferred versions first. Used to
   * tell a user where a kind lives when they named the wrong group.
   */
  servedBy(kind: string): ResourceInfo[] {
    return [...(this.byKind.get(kind) ?? [])];
  }

  /** The group names that have a resource of this kind (`''` is core). */
  groupsWithKind(kind: string): string[] {
    return [...new Set(this.servedBy(kind).map(r => r.group))];
  }
}
