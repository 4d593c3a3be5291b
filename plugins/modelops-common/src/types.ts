/*
 * The HTTP API's types. Every one is generated from the backend's OpenAPI
 * spec (plugins/modelops-backend/src/schema/openapi.yaml); this file only
 * gives them their public names. To change a type, edit the spec and run
 * `yarn generate` in plugins/modelops-backend.
 */
import type {
  DeploymentAction as GeneratedDeploymentAction,
  DeploymentResult as GeneratedDeploymentResult,
  ObjectDiffOperationEnum,
  RolloutPhase as GeneratedRolloutPhase,
} from './schema/openapi/generated/models';

export type {
  AppliedObjectRef,
  DeploymentHistoryPage,
  DeploymentRecord,
  DeploymentStatusResponse,
  DeployRequest,
  DeployResponse,
  EntityEnvironmentsResponse,
  EnvironmentStatus,
  FieldChange,
  ModelOpsEnvironment,
  ModelOpsErrorInfo,
  ObjectDiff,
  ReplicaCounts,
  RollbackRequest,
  RolloutCondition,
  ServiceStatus,
  WorkloadProblem,
  WorkloadProblemFix,
} from './schema/openapi/generated/models';

/** What a deployment record did. @public */
export type DeploymentAction = GeneratedDeploymentAction;
/** Outcome of a deployment attempt; `pending` while it is being applied. @public */
export type DeploymentResult = GeneratedDeploymentResult;
/** Rollout phase of one environment. @public */
export type RolloutPhase = GeneratedRolloutPhase;
/** What a (dry-run) apply does to one object. @public */
export type ObjectOperation = ObjectDiffOperationEnum;
