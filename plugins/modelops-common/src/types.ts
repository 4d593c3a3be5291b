import { ContractProblem, ModelRuntime } from './annotations';

/** An error returned as data for one part of an answer, e.g. one cluster. @public */
export interface ModelOpsErrorInfo {
  /** Stable machine-readable reason, e.g. `ClusterNotConfigured`. */
  reason: string;
  /** A message a user can act on. */
  message: string;
}

/** One environment a model service can be deployed to. @public */
export interface ModelOpsEnvironment {
  /** Environment name from `modelops.environments`, e.g. `dev`. */
  name: string;
  /** Cluster name as configured in `kubernetes.clusterLocatorMethods`. */
  cluster: string;
  /** Namespace the service runs in within that cluster. */
  namespace: string;
  /** Whether the namespace comes from the environment or the entity's annotation. */
  namespaceSource: 'environment' | 'annotation';
  /** Set when the environment cannot be used, e.g. its cluster is not configured. */
  error?: ModelOpsErrorInfo;
}

/** Answer of `GET /environments`. @public */
export interface EntityEnvironmentsResponse {
  entityRef: string;
  kubernetesId?: string;
  runtime: ModelRuntime;
  /** Contract problems of the entity's annotations. */
  problems: ContractProblem[];
  environments: ModelOpsEnvironment[];
}
