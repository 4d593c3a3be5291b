import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { ObjectDiff } from '@modelops/plugin-modelops-common';
import { ClusterClient } from '../../kubernetes/ClusterClient';
import { splitApiVersion } from '../../kubernetes/ResourceIndex';
import { KubeObject, ResourceInfo } from '../../kubernetes/types';
import { ANNOTATION_ENTITY_REF, LABEL_APPLYSET_PART_OF } from '../labels';
import { DEFAULT_ALLOWED_KINDS, isAllowed } from '../policy/policy';
import { APPLY_ORDER } from './apply';

/*
 * Pruning as Kubernetes ApplySets (KEP-3659) do it: every object a deploy
 * applies carries the set's `applyset.kubernetes.io/part-of` label (one set
 * per entity and environment); objects with the label that the new manifest
 * set no longer contains are the ones to delete. Only kinds of the deploy
 * allowlist are searched, only the environment's namespace, and only
 * objects that also carry the entity's `modelops/entity-ref` annotation and
 * no controller owner.
 */

/** An object of the set that the new manifests no longer contain. */
export interface PruneCandidate {
  object: KubeObject;
  resource: ResourceInfo;
}

/** Options of `findPruneCandidates`. */
export interface FindPruneOptions {
  namespace: string;
  /** The set's id (`applySetId(entityRef, environment)`). */
  setId: string;
  entityRef: string;
  /** The objects being applied: never pruned. */
  keep: readonly KubeObject[];
  /** The deploy allowlist; nothing else is ever searched or deleted. */
  allowedKinds?: readonly string[];
  allowSecrets?: boolean;
}

const identity = (group: string, kind: string, name: string) =>
  `${group}|${kind}|${name}`;

function hasController(object: KubeObject): boolean {
  const refs = object.metadata.ownerReferences;
  return (
    Array.isArray(refs) &&
    refs.some(r => (r as { controller?: boolean })?.controller === true)
  );
}

/**
 * The members of the set, in the cluster now, that `keep` does not contain:
 * what a deploy with `prune: true` deletes, in deletion order (dependents
 * first). Kinds the backend may not list are skipped: it cannot have
 * deployed them.
 */
export async function findPruneCandidates(
  client: ClusterClient,
  options: FindPruneOptions,
): Promise<PruneCandidate[]> {
  const allowedKinds = options.allowedKinds ?? DEFAULT_ALLOWED_KINDS;
  const index = await client.discover();
  const byGroupKind = new Map<string, ResourceInfo>();
  for (const r of index.resources) {
    if (!r.namespaced || !r.verbs.includes('list')) continue;
    if (!r.verbs.includes('delete')) continue;
    if (!isAllowed(r.kind, r.group, allowedKinds)) continue;
    if (r.group === '' && r.kind === 'Secret' && !options.allowSecrets) {
      continue;
    }
    const key = `${r.group}|${r.kind}`;
    const known = byGroupKind.get(key);
    if (!known || (r.preferred && !known.preferred)) byGroupKind.set(key, r);
  }
  const keep = new Set(
    options.keep.map(o =>
      identity(splitApiVersion(o.apiVersion).group, o.kind, o.metadata.name),
    ),
  );
  const labelSelector = `${LABEL_APPLYSET_PART_OF}=${options.setId}`;
  const lists = await Promise.all(
    [...byGroupKind.values()].map(async resource => {
      try {
        const items = await client.list(resource, options.namespace, {
          labelSelector,
        });
        return items.map(object => ({ object, resource }));
      } catch (error) {
        if (
          error instanceof NotAllowedError ||
          error instanceof NotFoundError
        ) {
          return [];
        }
        throw error;
      }
    }),
  );
  return lists
    .flat()
    .filter(
      ({ object, resource }) =>
        object.metadata.annotations?.[ANNOTATION_ENTITY_REF] ===
          options.entityRef &&
        object.metadata.labels?.[LABEL_APPLYSET_PART_OF] === options.setId &&
        !hasController(object) &&
        !keep.has(
          identity(resource.group, resource.kind, object.metadata.name),
        ),
    )
    .sort(
      (a, b) =>
        (APPLY_ORDER[b.resource.kind] ?? 3.5) -
          (APPLY_ORDER[a.resource.kind] ?? 3.5) ||
        a.object.metadata.name.localeCompare(b.object.metadata.name),
    );
}

/** The diff entry of a pruned object. */
export function pruneDiff(candidate: PruneCandidate): ObjectDiff {
  return {
    apiVersion: candidate.object.apiVersion,
    kind: candidate.object.kind,
    name: candidate.object.metadata.name,
    operation: 'delete',
    changes: [],
  };
}

/**
 * Deletes the candidates (background propagation: the Deployment's pods go
 * with it). Stops at the first failure with an error that says what was
 * already deleted; an object already gone counts as deleted.
 */
export async function pruneObjects(
  client: ClusterClient,
  candidates: readonly PruneCandidate[],
  namespace: string,
): Promise<ObjectDiff[]> {
  const done: ObjectDiff[] = [];
  for (const candidate of candidates) {
    try {
      await client.delete(
        candidate.resource,
        namespace,
        candidate.object.metadata.name,
        { propagationPolicy: 'Background' },
      );
    } catch (error) {
      const what = `${candidate.object.kind} "${candidate.object.metadata.name}"`;
      const e = error as Error;
      e.message = `The manifests were applied, but pruning stopped at ${what}${
        done.length
          ? ` after deleting ${done
              .map(d => `${d.kind} "${d.name}"`)
              .join(', ')}`
          : ''
      }: ${e.message}`;
      throw e;
    }
    done.push(pruneDiff(candidate));
  }
  return done;
}
