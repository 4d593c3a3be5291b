export { ClusterClients } from './ClusterClients';
export { ClusterClient } from './ClusterClient';
export type {
  ApplyOptions,
  ClusterConnection,
  KubeRequest,
  KubeResponse,
} from './ClusterClient';
export { ResourceIndex, splitApiVersion } from './ResourceIndex';
export { errorFromResponse, kubernetesFailureOf } from './errors';
export type { KubeStatus, KubernetesApiFailure } from './errors';
export type { KubeObject, ResourceInfo } from './types';
