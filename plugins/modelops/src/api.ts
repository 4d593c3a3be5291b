import { createApiRef } from '@backstage/core-plugin-api';
import { ModelOpsApi } from '@modelops/plugin-modelops-common';

/**
 * API ref of the ModelOps backend client.
 * @public
 */
export const modelOpsApiRef = createApiRef<ModelOpsApi>({
  id: 'plugin.modelops.service',
});
