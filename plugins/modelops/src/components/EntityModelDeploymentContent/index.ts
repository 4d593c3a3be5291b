export { EntityModelDeploymentContent } from './EntityModelDeploymentContent';
