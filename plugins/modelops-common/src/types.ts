import { ContractProblem, ModelRuntime } from './annotations';

/** An error returned as data for one part of an answer, e.g. one cluster. @public */
export interface ModelOpsErrorInfo {
  /** Stable machine-readable reason, e.g. `ClusterNotConfigured`. */
  reason: string;
  /** A message a user can act on. */
  message: string;
  /** For an unreachable cluster: when it last answered (ISO 8601), if ever since start. */
  lastReachableAt?: string;
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

/** What a deployment record did. @public */
export type DeploymentAction = 'deploy' | 'rollback' | 'promote';

/** Outcome of a deployment attempt; `pending` while it is being applied. @public */
export type DeploymentResult = 'pending' | 'succeeded' | 'failed';

/** A Kubernetes object a deployment applied, by identity. @public */
export interface AppliedObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
}

/** One recorded deploy, rollback or promotion attempt (dry runs included). @public */
export interface DeploymentRecord {
  id: string;
  entityRef: string;
  environment: string;
  cluster: string;
  namespace: string;
  action: DeploymentAction;
  image?: string;
  /** Revision within entity and environment, reserved before applying; dry runs have none. */
  revision?: number;
  dryRun: boolean;
  result: DeploymentResult;
  error?: string;
  /** For rollbacks: the record rolled back to; for promotions: the source record. */
  sourceDeploymentId?: string;
  objects: AppliedObjectRef[];
  /** User entity ref of who asked. */
  requestedBy: string;
  createdAt: string;
}

/** A changed field between the live object and the applied result. @public */
export interface FieldChange {
  /** JSON pointer-like path, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
  before?: unknown;
  after?: unknown;
}

/** Per-object result of a (dry-run) apply. @public */
export interface ObjectDiff {
  apiVersion: string;
  kind: string;
  name: string;
  /**
   * `create` when the object does not exist yet; `delete` when pruning
   * removes (or, in a preview, would remove) an object dropped from the set.
   */
  operation: 'create' | 'update' | 'unchanged' | 'delete';
  changes: FieldChange[];
}

/** Body of `POST /deployments`. @public */
export interface DeployRequest {
  entityRef: string;
  environment: string;
  /** Full image reference (`repository:tag` or `repository@sha256:...`). */
  image?: string;
  /** Promotion: deploy the image currently running in this environment. */
  fromEnvironment?: string;
  /** Inline multi-document YAML, when `modelops.deployments.allowInlineManifests` is on. */
  manifests?: string;
  dryRun?: boolean;
  /** Take over fields owned by another field manager. */
  force?: boolean;
  /**
   * Delete objects of this entity and environment that earlier deploys
   * applied and this manifest set no longer contains. A dry run lists them.
   */
  prune?: boolean;
}

/** A Service of the workload, as the cluster reports it. @public */
export interface ServiceStatus {
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** LoadBalancer ingress addresses (IP or hostname), once assigned. */
  addresses: string[];
  /** Why a LoadBalancer has no address yet, e.g. no load-balancer controller runs on the cluster. */
  pending?: string;
}

/** Answer of `POST /deployments` and of a rollback. @public */
export interface DeployResponse {
  deployment: DeploymentRecord;
  diff: ObjectDiff[];
}

/** A page of deployment history, newest first. @public */
export interface DeploymentHistoryPage {
  items: DeploymentRecord[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** A condition of a Deployment or InferenceService. @public */
export interface RolloutCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** A problem found on a pod or workload, with the proposed fix. @public */
export interface WorkloadProblem {
  kind: string;
  name: string;
  severity: number;
  message: string;
  /** The proposed fix, from the Kubernetes plugin's error detection. */
  fix?: { explanation: string; actions: string[]; docsLink?: string };
}

/** Rollout phase of one environment. @public */
export type RolloutPhase =
  | 'NotDeployed'
  | 'Progressing'
  | 'Available'
  | 'Failed'
  | 'Unknown';

/** Live rollout status of a model service in one environment. @public */
export interface EnvironmentStatus {
  environment: string;
  cluster: string;
  namespace: string;
  phase: RolloutPhase;
  image?: string;
  revision?: number;
  replicas?: {
    desired: number;
    updated: number;
    ready: number;
    available: number;
  };
  generation?: number;
  observedGeneration?: number;
  conditions: RolloutCondition[];
  problems: WorkloadProblem[];
  /** The workload's Services; LoadBalancers with their address or why it is pending. */
  services?: ServiceStatus[];
  lastDeployment?: DeploymentRecord;
  /** The cluster could not be asked; the other environments still answer. */
  error?: ModelOpsErrorInfo;
}

/** Answer of `GET /deployments/status`. @public */
export interface DeploymentStatusResponse {
  entityRef: string;
  environments: EnvironmentStatus[];
}
