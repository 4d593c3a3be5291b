/**
 * ModelOps for Backstage: Model deployment and Monitoring tabs, a health
 * overview page and an entity health card for ML model services.
 *
 * @packageDocumentation
 */

export {
  modelOpsPlugin,
  EntityModelDeploymentContent,
  EntityModelHealthCard,
  EntityModelMonitoringContent,
  ModelHealthOverviewPage,
  ModelOpsEnvironmentPickerFieldExtension,
} from './plugin';
export { modelOpsApiRef } from './api';
export type { EntityModelDeploymentContentProps } from './components/EntityModelDeploymentContent/EntityModelDeploymentContent';
export { isModelService } from '@modelops/plugin-modelops-common';
export type { ModelOpsApi } from '@modelops/plugin-modelops-common';
