/*
 * The HTTP API's types. Every one is generated from the backend's OpenAPI
 * spec (plugins/modelops-backend/src/schema/openapi.yaml); this file only
 * gives them their public names. To change a type, edit the spec and run
 * `yarn generate` in plugins/modelops-backend.
 */
export type {
  AppliedObjectRef,
  Build,
  BuildList,
  BuildLogs,
  BuildSource,
  BuildStatus,
  ConfiguredEnvironment,
  ConfiguredEnvironmentsResponse,
  ContractProblem,
  DeployMarker,
  DeploymentAction,
  DeploymentHistoryPage,
  DeploymentRecord,
  DeploymentResult,
  DeploymentStatusResponse,
  DeployRequest,
  DeployResponse,
  EntityEnvironmentsResponse,
  EnvironmentHealth,
  EnvironmentHealthSummary,
  EnvironmentStatus,
  FieldChange,
  HealthQueryRequest,
  HealthQueryRequestFilterValue,
  HealthQueryResponse,
  HealthResponse,
  HealthStatus,
  MetricSeries,
  MetricsResponse,
  ModelOpsEnvironment,
  ModelOpsEnvironmentNamespaceSourceEnum,
  ModelOpsErrorInfo,
  ModelRuntime,
  ObjectDiff,
  ObjectDiffOperationEnum,
  ReplicaCounts,
  RollbackRequest,
  RolloutCondition,
  RolloutPhase,
  ServiceHealthSummary,
  ServiceStatus,
  ServiceStatusTypeEnum,
  SignalHealth,
  SignalHealthSignalEnum,
  SignalHealthUnitEnum,
  SignalSeries,
  SignalSeriesSignalEnum,
  SignalSeriesUnitEnum,
  SignalValues,
  TriggerBuildRequest,
  WorkloadProblem,
  WorkloadProblemFix,
} from './schema/openapi/generated/models';

import type { ObjectDiffOperationEnum } from './schema/openapi/generated/models';

/** What a (dry-run) apply does to one object. @public */
export type ObjectOperation = ObjectDiffOperationEnum;
