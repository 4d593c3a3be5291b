/**
 * Extension points and provider interfaces for ModelOps backend modules.
 *
 * @packageDocumentation
 */

export {
  modelOpsImageBuildersExtensionPoint,
  modelOpsMetricsSourcesExtensionPoint,
} from './extensions';
export type {
  ModelOpsBuildPhase,
  ModelOpsBuildStatus,
  ModelOpsImageBuilder,
  ModelOpsImageBuildersExtensionPoint,
  ModelOpsMetricsQuery,
  ModelOpsMetricsSource,
  ModelOpsMetricsSourcesExtensionPoint,
  ModelOpsSample,
  ModelOpsStartBuildOptions,
  ModelOpsStartedBuild,
} from './extensions';
