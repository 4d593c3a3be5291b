/**
 * Scaffolder actions that build and deploy a model service through ModelOps,
 * as the user who runs the template: `modelops:build:trigger` and
 * `modelops:deploy`, also offered to agents through the actions registry,
 * and `modelops:environments:check` for a template's chosen environments.
 *
 * @packageDocumentation
 */
export { scaffolderModuleModelOps as default } from './module';
export {
  createModelOpsCheckEnvironmentsAction,
  createModelOpsDeployAction,
  createModelOpsTriggerBuildAction,
} from './actions/templateActions';
export type { ModelOpsActionsOptions } from './actions/common';
export type {
  ModelOpsTriggerBuildInput,
  ModelOpsTriggerBuildOutput,
} from './actions/build';
export type {
  ModelOpsDeployInput,
  ModelOpsDeployOutput,
} from './actions/deploy';
export type {
  ModelOpsCheckEnvironmentsInput,
  ModelOpsCheckEnvironmentsOutput,
} from './actions/environments';
