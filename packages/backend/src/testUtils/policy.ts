/*
 * Test helpers for the portal's permission policy: a policy user, and the
 * catalog's own rules applied to a conditional decision for one entity.
 */
import { Entity } from '@backstage/catalog-model';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';
import {
  AuthorizeResult,
  PermissionCondition,
  PermissionCriteria,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { PolicyQueryUser } from '@backstage/plugin-permission-node';

/** A signed-in user as the permission framework hands it to a policy. */
export function user(ref: string, groups: string[]): PolicyQueryUser {
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

/**
 * Resolves a decision for one entity the way the catalog does: conditional
 * decisions are evaluated with the catalog's own permission rules.
 */
export function evaluate(decision: PolicyDecision, entity: Entity): boolean {
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
