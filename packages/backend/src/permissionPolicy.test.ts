import { Entity } from '@backstage/catalog-model';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  Permission,
  PermissionCondition,
  PermissionCriteria,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { PolicyQueryUser } from '@backstage/plugin-permission-node';
import {
  modelOpsBuildCreatePermission,
  modelOpsDeploymentCreatePermission,
  modelOpsMetricsReadPermission,
} from '@modelops/plugin-modelops-common';
import { PortalPermissionPolicy } from './permissionPolicy';

const policy = new PortalPermissionPolicy({
  adminGroups: ['platform-admins'],
});

function user(ref: string, groups: string[]): PolicyQueryUser {
  return {
    identity: {
      type: 'user',
      userEntityRef: ref,
      ownershipEntityRefs: [ref, ...groups],
    },
    info: { userEntityRef: ref, ownershipEntityRefs: [ref, ...groups] },
    token: 'token',
    credentials: {
      $$type: '@backstage/BackstageCredentials',
      principal: { type: 'user', userEntityRef: ref },
    },
  } as PolicyQueryUser;
}

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

/**
 * Resolves a decision for one entity the way the catalog does: conditional
 * decisions are evaluated with the catalog's own permission rules.
 */
function evaluate(decision: PolicyDecision, entity: Entity): boolean {
  if (decision.result !== AuthorizeResult.CONDITIONAL) {
    return decision.result === AuthorizeResult.ALLOW;
  }
  const rules = Object.values(permissionRules);
  const apply = (
    criteria: PermissionCriteria<PermissionCondition<string>>,
  ): boolean => {
    if ('allOf' in criteria) return criteria.allOf.every(apply);
    if ('anyOf' in criteria) return criteria.anyOf.some(apply);
    if ('not' in criteria) return !apply(criteria.not);
    const rule = rules.find(r => r.name === criteria.rule);
    if (!rule) throw new Error(`unknown rule ${criteria.rule}`);
    return rule.apply(entity, criteria.params as any);
  };
  return apply(decision.conditions);
}

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
