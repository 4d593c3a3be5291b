import { ServiceStatus } from '@modelops/plugin-modelops-common';
import { KubeObject } from '../../kubernetes/types';

/*
 * The Services of a workload as the cluster reports them: for a
 * LoadBalancer its address, or why there is none yet.
 */

const TYPES: ReadonlyArray<ServiceStatus['type']> = [
  'ClusterIP',
  'NodePort',
  'LoadBalancer',
  'ExternalName',
];

/** One Service's status (the pure part). */
export function serviceStatus(
  service: KubeObject,
  options: { cluster: string },
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
  const lbClass =
    typeof spec.loadBalancerClass === 'string'
      ? ` of class "${spec.loadBalancerClass}"`
      : '';
  result.pending = `No address yet: no load-balancer controller${lbClass} on cluster ${options.cluster} has assigned one. A cloud provider or an in-cluster controller (such as MetalLB) assigns LoadBalancer addresses; without one the Service only answers on its cluster IP and node ports`;
  return result;
}

/** The statuses of a workload's Services, sorted by name. */
export function serviceStatuses(
  services: readonly KubeObject[],
  options: { cluster: string },
): ServiceStatus[] {
  return services
    .map(s => serviceStatus(s, options))
    .sort((a, b) => a.name.localeCompare(b.name));
}
