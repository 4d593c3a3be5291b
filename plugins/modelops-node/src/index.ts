/**
 * Extension points and provider interfaces for ModelOps backend modules, and
 * the service through which other plugins deploy with the caller's credentials.
 *
 * @packageDocumentation
 */

export {
  modelOpsImageBuildersExtensionPoint,
  modelOpsMetricsSourcesExtensionPoint,
} from './extensions';
export type {
  ModelOpsBuildLogs,
  ModelOpsBuildPhase,
  ModelOpsBuildRequest,
  ModelOpsBuildStatus,
  ModelOpsImageBuilder,
  ModelOpsImageBuildersExtensionPoint,
  ModelOpsInstantSample,
  ModelOpsMetricsSource,
  ModelOpsMetricsSourcesExtensionPoint,
  ModelOpsRangeSeries,
  ModelOpsTriggeredBuild,
} from './extensions';
export { modelOpsServiceRef } from './service';
export type { ModelOpsService, ModelOpsServiceOptions } from './service';
