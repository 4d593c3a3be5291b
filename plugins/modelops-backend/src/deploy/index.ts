export {
  parseManifests,
  builtinManifests,
  renderManifests,
  parseImageReference,
  validateImageReference,
  imageInRepository,
  LABEL_KUBERNETES_ID,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
  ANNOTATION_REVISION,
  ANNOTATION_ENTITY_REF,
} from './manifests';
export type {
  ManifestLimits,
  BuiltinContext,
  RenderOptions,
  ImageReference,
} from './manifests';
export {
  validateObjects,
  checkObjects,
  DEFAULT_ALLOWED_KINDS,
} from './validate';
export type { ResolvedObject, ValidateOptions } from './validate';
export {
  applyObjects,
  sortForApply,
  parseApplyConflict,
  DEFAULT_FIELD_MANAGER,
} from './apply';
export type { AppliedObject, ApplyObjectsOptions } from './apply';
export { diffObjects, normalizeForDiff } from './diff';
export {
  readRolloutStatus,
  waitForRollout,
  computeRolloutStatus,
  detectWorkloadProblems,
} from './status';
export type { RolloutStatus, RolloutStatusOptions } from './status';
