import { ResourceInfo } from './types';

/** Asks for aggregated discovery (one answer per /api and /apis), else the classic lists. */
export const AGGREGATED_DISCOVERY_ACCEPT = [
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  'application/json',
].join(',');

interface AggregatedResource {
  resource?: string;
  responseKind?: { group?: string; version?: string; kind?: string };
  scope?: string;
  verbs?: string[];
}

export interface AggregatedGroup {
  metadata?: { name?: string };
  versions?: Array<{ version?: string; resources?: AggregatedResource[] }>;
}

export function isAggregated(
  body: unknown,
): body is { kind: 'APIGroupDiscoveryList'; items?: AggregatedGroup[] } {
  return (
    !!body &&
    typeof body === 'object' &&
    (body as { kind?: unknown }).kind === 'APIGroupDiscoveryList'
  );
}

/** The resource types of an aggregated discovery answer; a group's first version is its preferred one. */
export function resourcesFromAggregated(
  groups: AggregatedGroup[],
): ResourceInfo[] {
  const out: ResourceInfo[] = [];
  for (const group of groups) {
    const groupName = group.metadata?.name ?? '';
    (group.versions ?? []).forEach((v, i) => {
      const version = v.version ?? '';
      for (const r of v.resources ?? []) {
        if (!r.resource || !r.responseKind?.kind) continue;
        out.push({
          group: groupName,
          version,
          apiVersion: groupName ? `${groupName}/${version}` : version,
          kind: r.responseKind.kind,
          plural: r.resource,
          namespaced: r.scope === 'Namespaced',
          verbs: r.verbs ?? [],
          preferred: i === 0,
        });
      }
    });
  }
  return out;
}
