import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import { catalogEntityDeletePermission } from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  PolicyDecision,
  ResourcePermission,
  isPermission,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  modelOpsBuildCreatePermission,
  modelOpsDeploymentCreatePermission,
} from '@modelops/plugin-modelops-common';

/** Writes that only the owners of an entity (and admins) may do. */
const ownerOnlyPermissions: ResourcePermission<'catalog-entity'>[] = [
  modelOpsBuildCreatePermission,
  modelOpsDeploymentCreatePermission,
  catalogEntityDeletePermission,
];

/**
 * The portal's policy: members of the admin groups may do everything; the
 * owners of an entity may build, deploy and unregister it; any signed-in user
 * may read.
 */
export class PortalPermissionPolicy implements PermissionPolicy {
  private readonly adminGroups: Set<string>;

  constructor(options: { adminGroups: string[] }) {
    this.adminGroups = new Set(
      options.adminGroups.map(ref =>
        stringifyEntityRef(parseEntityRef(ref, { defaultKind: 'group' })),
      ),
    );
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const claims = user?.info.ownershipEntityRefs ?? [];
    if (claims.some(ref => this.adminGroups.has(ref))) {
      return { result: AuthorizeResult.ALLOW };
    }
    const ownerOnly = ownerOnlyPermissions.find(p =>
      isPermission(request.permission, p),
    );
    if (ownerOnly) {
      if (!user) {
        return { result: AuthorizeResult.DENY };
      }
      return createCatalogConditionalDecision(
        ownerOnly,
        catalogConditions.isEntityOwner({ claims }),
      );
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

/** Installs {@link PortalPermissionPolicy} into the permission backend. */
export default createBackendModule({
  pluginId: 'permission',
  moduleId: 'portal-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        policy.setPolicy(
          new PortalPermissionPolicy({
            adminGroups:
              config.getOptionalStringArray('permissionPolicy.adminGroups') ??
              [],
          }),
        );
      },
    });
  },
});
