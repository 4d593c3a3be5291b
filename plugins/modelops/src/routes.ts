import { createRouteRef } from '@backstage/core-plugin-api';

export const rootRouteRef = createRouteRef({ id: 'modelops' });
export const deploymentRouteRef = createRouteRef({ id: 'modelops:deployment' });
export const monitoringRouteRef = createRouteRef({ id: 'modelops:monitoring' });
