/**
 * The `github-actions` image builder for the ModelOps backend: builds run as
 * a GitHub Actions workflow in the model service's repository.
 *
 * @packageDocumentation
 */
export { modelOpsModuleGithubActions as default } from './module';
