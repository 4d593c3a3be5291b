/*
 * The ModelOps backend on its own, for `yarn start` in this folder: the
 * plugin with the pieces it calls, a catalog (the demo entities of
 * examples/), the permission framework with an ownership policy, and guest
 * sign-in so a user token can be had from /api/auth/guest/refresh. The
 * `start` script points it at app-config.yaml and the local platform's
 * .platform/app-config.platform.yaml (its clusters and Prometheus).
 */
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { createBackend } from '@backstage/backend-defaults';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  AuthorizeResult,
  isPermission,
} from '@backstage/plugin-permission-common';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  modelOpsBuildCreatePermission,
  modelOpsDeploymentCreatePermission,
} from '@modelops/plugin-modelops-common';

/**
 * Owners of a model service may build and deploy it; every signed-in user
 * may read. The portal's own policy (packages/backend) adds admin groups.
 */
const ownershipPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'modelops-dev-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, logger: coreServices.logger },
      async init({ policy, logger }) {
        logger.info(
          'Owners of a model service may build and deploy it; everyone signed in may read',
        );
        policy.setPolicy({
          async handle(request, user) {
            const ownerOnly = [
              modelOpsBuildCreatePermission,
              modelOpsDeploymentCreatePermission,
            ].find(permission => isPermission(request.permission, permission));
            if (!ownerOnly) {
              return { result: AuthorizeResult.ALLOW };
            }
            if (!user) {
              return { result: AuthorizeResult.DENY };
            }
            return createCatalogConditionalDecision(
              ownerOnly,
              catalogConditions.isEntityOwner({
                claims: user.info.ownershipEntityRefs,
              }),
            );
          },
        });
      },
    });
  },
});

const backend = createBackend();

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(ownershipPolicy);

backend.add(import('../src'));

backend.start();
