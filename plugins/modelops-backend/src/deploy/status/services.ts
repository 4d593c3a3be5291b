import { ServiceStatus } from '@modelops/plugin-modelops-common';
import { KubeObject } from '../../kubernetes/types';

/*
 * The Services of a workload as the cluster reports them: for a
 * LoadBalancer its address, or why there is none yet.
 */

/**
 * How long a LoadBalancer may wait for an address before the status says
 * that no controller seems to assign one.
 */
export const LOAD_BALANCER_GRACE_MS = 60_000;

const TYPES: ReadonlyArray<ServiceStatus['type']> = [
  'ClusterIP',
  'NodePort',
  'LoadBalancer',
  'ExternalName',
];

function ageMs(service: KubeObject, now: number): number | undefined {
  const created = Date.parse(String(service.metadata.creationTimestamp ?? ''));
  return Number.isFinite(created) ? now - created : undefined;
}

/** One Service's status (the pure part). */
export function serviceStatus(
  service: KubeObject,
  options: { cluster: string; now: number },
): ServiceStatus {
  const spec = (service.spec ?? {}) as Record<string, any>;
  const type = TYPES.includes(spec.type) ? spec.type : 'ClusterIP';
  const result: ServiceStatus = {
    name: service.metadata.name,
    type,
    addresses: [],
  };
  if (type !== 'LoadBalancer') return result;
  const ingress = ((service.status as any)?.loadBalancer?.ingress ??
    []) as Array<{ ip?: string; hostname?: string }>;
  result.addresses = ingress
    .map(i => i.ip ?? i.hostname)
    .filter((a): a is string => typeof a === 'string' && a.length > 0);
  if (result.addresses.length) return result;
  const age = ageMs(service, options.now);
  const lbClass =
    typeof spec.loadBalancerClass === 'string'
      ? ` of class "${spec.loadBalancerClass}"`
      : '';
  result.pending =
    age !== undefined && age < LOAD_BALANCER_GRACE_MS
      ? `Waiting for a load-balancer controller${lbClass} to assign an address`
      : `No address assigned: no load-balancer controller${lbClass} seems to run on cluster ${options.cluster} (it needs a cloud provider or an in-cluster one such as MetalLB); inside the cluster the Service answers on its cluster IP`;
  return result;
}

/** The statuses of a workload's Services, sorted by name. */
export function serviceStatuses(
  services: readonly KubeObject[],
  options: { cluster: string; now: number },
): ServiceStatus[] {
  return services
    .map(s => serviceStatus(s, options))
    .sort((a, b) => a.name.localeCompare(b.name));
}
