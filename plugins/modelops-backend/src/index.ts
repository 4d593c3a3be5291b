/**
 * ModelOps backend plugin: builds, deployments and metrics of ML model services.
 *
 * @packageDocumentation
 */

export { modelOpsPlugin as default } from './plugin';
