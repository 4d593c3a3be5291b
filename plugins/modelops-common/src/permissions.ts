import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';
import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Trigger an image build of a model service. Checked against the entity, so
 * conditional policies such as "is owner" apply.
 * @public
 */
export const modelOpsBuildCreatePermission = createPermission({
  name: 'modelops.build.create',
  attributes: { action: 'create' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/**
 * Deploy, roll back or promote a model service.
 * @public
 */
export const modelOpsDeploymentCreatePermission = createPermission({
  name: 'modelops.deployment.create',
  attributes: { action: 'create' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/**
 * Read the metrics and health of a model service.
 * @public
 */
export const modelOpsMetricsReadPermission = createPermission({
  name: 'modelops.metrics.read',
  attributes: { action: 'read' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/** Every permission of the ModelOps plugins. @public */
export const modelOpsPermissions = [
  modelOpsBuildCreatePermission,
  modelOpsDeploymentCreatePermission,
  modelOpsMetricsReadPermission,
];
