import { createHash } from 'node:crypto';

/*
 * The labels and annotations ModelOps sets on what it deploys.
 */

/** Workload label, same meaning as in the Kubernetes plugin. */
export const LABEL_KUBERNETES_ID = 'backstage.io/kubernetes-id';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'backstage-modelops';
/**
 * Membership of the set of objects one entity deploys to one environment,
 * as Kubernetes ApplySets (KEP-3659) label their members. Pruning only ever
 * considers objects carrying the set's id.
 */
export const LABEL_APPLYSET_PART_OF = 'applyset.kubernetes.io/part-of';
export const ANNOTATION_REVISION = 'modelops/revision';
export const ANNOTATION_ENTITY_REF = 'modelops/entity-ref';
export const ANNOTATION_ENVIRONMENT = 'modelops/environment';

/**
 * The ApplySet id of an entity's objects in one environment, in the
 * KEP-3659 format (`applyset-<base64url(sha256)>-v1`, 55 characters, a valid
 * label value). The set has no parent object: its members are found by this
 * label, and the deploy history records what each deploy applied.
 */
export function applySetId(entityRef: string, environment: string): string {
  const hash = createHash('sha256')
    .update(`${entityRef}\n${environment}`)
    .digest('base64url');
  return `applyset-${hash}-v1`;
}

/**
 * The canary of a canary release: a Deployment `<name>-canary` next to the
 * stable `<name>`, its selector and pods labelled so. The stable
 * Deployment's selector matches the canary's pods too; its controller
 * leaves them alone (they have their own owner), and the Service sends them
 * their share of the traffic.
 */
export const LABEL_TRACK = 'modelops/track';
export const TRACK_CANARY = 'canary';

/** Whether an object is the canary of a canary release. */
export const isCanary = (o: {
  metadata: { labels?: Record<string, string> };
}) => o.metadata.labels?.[LABEL_TRACK] === TRACK_CANARY;
