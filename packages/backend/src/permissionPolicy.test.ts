import { Entity } from '@backstage/catalog-model';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  Permission,
} from '@backstage/plugin-permission-common';
import { PolicyQueryUser } from '@backstage/plugin-permission-node';
import {
  modelOpsBuildCreatePermission,
  modelOpsDeploymentCreatePermission,
  modelOpsMetricsReadPermission,
} from '@modelops/plugin-modelops-common';
import { PortalPermissionPolicy } from './permissionPolicy';
import { evaluate, user } from './testUtils/policy';

const policy = new PortalPermissionPolicy({
  adminGroups: ['platform-admins'],
});

const ada = user('user:default/ada', ['group:default/team-risk']);
const linus = user('user:default/linus', ['group:default/team-growth']);
const grace = user('user:default/grace', ['group:default/platform-admins']);

function modelService(name: string, owner: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: { type: 'model-service', owner, lifecycle: 'production' },
    relations: [{ type: 'ownedBy', targetRef: owner }],
  };
}
const fraudDetector = modelService('fraud-detector', 'group:default/team-risk');

async function allowed(
  permission: Permission,
  who: PolicyQueryUser | undefined,
  entity: Entity = fraudDetector,
) {
  return evaluate(await policy.handle({ permission }, who), entity);
}

describe('PortalPermissionPolicy', () => {
  it.each([
    ['deploy', modelOpsDeploymentCreatePermission],
    ['build', modelOpsBuildCreatePermission],
    ['unregister', catalogEntityDeletePermission],
  ])('lets the owner %s the entity', async (_what, permission) => {
    expect(await allowed(permission, ada)).toBe(true);
  });

  it.each([
    ['deploy', modelOpsDeploymentCreatePermission],
    ['build', modelOpsBuildCreatePermission],
    ['unregister', catalogEntityDeletePermission],
  ])('denies a non-owner to %s the entity', async (_what, permission) => {
    expect(await allowed(permission, linus)).toBe(false);
  });

  it('checks ownership per entity, not per user', async () => {
    const churn = modelService('churn-predictor', 'group:default/team-growth');
    expect(await allowed(modelOpsDeploymentCreatePermission, ada, churn)).toBe(
      false,
    );
    expect(
      await allowed(modelOpsDeploymentCreatePermission, linus, churn),
    ).toBe(true);
  });

  it('lets admins do everything without conditions', async () => {
    for (const permission of [
      modelOpsDeploymentCreatePermission,
      modelOpsBuildCreatePermission,
      catalogEntityDeletePermission,
    ]) {
      expect(await policy.handle({ permission }, grace)).toEqual({
        result: AuthorizeResult.ALLOW,
      });
    }
  });

  it('lets any signed-in user read', async () => {
    expect(await allowed(modelOpsMetricsReadPermission, linus)).toBe(true);
    expect(await allowed(catalogEntityReadPermission, linus)).toBe(true);
  });

  it('denies writes without a user', async () => {
    expect(await allowed(modelOpsDeploymentCreatePermission, undefined)).toBe(
      false,
    );
  });

  it('normalises admin group refs from config', async () => {
    const strict = new PortalPermissionPolicy({
      adminGroups: ['group:default/platform-admins'],
    });
    expect(
      await strict.handle({ permission: modelOpsBuildCreatePermission }, grace),
    ).toEqual({ result: AuthorizeResult.ALLOW });
  });
});
