/**
 * Shared entity contract, API types, permissions and client of the ModelOps plugins.
 *
 * @packageDocumentation
 */

export {
  ANNOTATION_BUILD_CONTEXT,
  ANNOTATION_IMAGE,
  ANNOTATION_KUBERNETES_ID,
  ANNOTATION_KUBERNETES_NAMESPACE,
  ANNOTATION_MANIFESTS,
  ANNOTATION_METRICS_SELECTOR,
  ANNOTATION_RUNTIME,
  ANNOTATION_SLO,
  ANNOTATION_SOURCE_LOCATION,
  BUILTIN_MANIFEST_TEMPLATES,
  MODEL_RUNTIMES,
  MODEL_SERVICE_TYPE,
  SLO_KEYS,
  isModelService,
  parseSlo,
  readModelServiceContract,
} from './annotations';
export type { ModelServiceContract, SloKey } from './annotations';
export {
  MAX_LABEL_VALUE_LENGTH,
  MAX_SELECTOR_MATCHERS,
  escapeRegex,
  formatSelector,
  isMatchableLabelName,
  labelValueProblem,
  parseLabelMatchers,
  quoteLabelValue,
} from './promql';
export type { LabelMatcher, ParsedMatchers } from './promql';
export {
  MAX_IMAGE_REFERENCE_LENGTH,
  imageInRepository,
  imageReferenceProblem,
  imageRepositoryProblem,
  parseImageReference,
  splitImageReference,
} from './imageReference';
export type { ImageReference, ImageReferenceCheck } from './imageReference';
export {
  DNS_LABEL_PATTERN,
  DNS_SUBDOMAIN_PATTERN,
  LABEL_VALUE_PATTERN,
  isDnsLabel,
  isDnsSubdomain,
  isLabelValue,
} from './names';
export {
  modelOpsBuildCreatePermission,
  modelOpsDeploymentCreatePermission,
  modelOpsMetricsReadPermission,
  modelOpsPermissions,
} from './permissions';
export type {
  Analysis,
  AnalysisBreach,
  AnalysisOnInconclusiveEnum,
  AnalysisRequest,
  AnalysisStatus,
  AnalysisWindow,
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
  ObjectOperation,
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
} from './types';
export { healthStatusRank } from './health';
export { ModelOpsClient } from './client/ModelOpsClient';
export type {
  MetricsRequest,
  ModelOpsApi,
  ModelOpsDiscovery,
  ModelOpsFetch,
  ModelOpsRequestOptions,
} from './client/ModelOpsClient';
