import { ConflictError, ForwardedError, InputError } from '@backstage/errors';
import { AppliedObjectRef, ObjectDiff } from '@modelops/plugin-modelops-common';
import { ClusterClient } from '../../kubernetes/ClusterClient';
import { kubernetesFailureOf } from '../../kubernetes/errors';
import { KubeObject } from '../../kubernetes/types';
import { ANNOTATION_ENTITY_REF } from '../labels';
import { ResolvedObject } from '../policy/policy';
import { diffObjects } from './diff';

/** Options of `applyObjects`. */
export interface ApplyObjectsOptions {
  /** Only ask the server what would happen (`dryRun=All`). */
  dryRun: boolean;
  /** Take over fields owned by other field managers. Default false. */
  force?: boolean;
  /** Default `backstage-modelops`. */
  fieldManager?: string;
  /**
   * Called once every dry run has passed, just before the first real write
   * (never on a dry run): where a deploy commits its revision number.
   */
  beforeWrite?: () => Promise<void>;
}

/** What happened to one object. */
export interface AppliedObject {
  ref: AppliedObjectRef;
  /** The object before the apply; absent when it did not exist. */
  live?: KubeObject;
  /** The object as the server stored it (or would, on a dry run). */
  result: KubeObject;
  diff: ObjectDiff;
}

export const DEFAULT_FIELD_MANAGER = 'backstage-modelops';

/** Dependencies first: what a Deployment references exists before it. */
export const APPLY_ORDER: Record<string, number> = {
  ServiceAccount: 0,
  ConfigMap: 1,
  Secret: 1,
  Service: 2,
  Deployment: 3,
  InferenceService: 3,
  HorizontalPodAutoscaler: 4,
  PodDisruptionBudget: 5,
};

/** Sorts resolved objects into a safe apply order (stable otherwise). */
export function sortForApply(
  resolved: readonly ResolvedObject[],
): ResolvedObject[] {
  return resolved
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        (APPLY_ORDER[a.r.object.kind] ?? 3.5) -
          (APPLY_ORDER[b.r.object.kind] ?? 3.5) || a.i - b.i,
    )
    .map(x => x.r);
}

function describe(object: KubeObject): string {
  return `${object.kind} "${object.metadata.name}"`;
}

/** Field managers and fields named by a 409 Status of a server-side apply. */
export function parseApplyConflict(error: unknown): {
  managers: string[];
  fields: string[];
} {
  const status = kubernetesFailureOf(error)?.status;
  const managers = new Set<string>();
  const fields: string[] = [];
  for (const c of status?.details?.causes ?? []) {
    const m = /conflict with "([^"]+)"/.exec(c.message ?? '');
    if (m) managers.add(m[1]);
    if (c.field) fields.push(c.field);
  }
  if (!managers.size) {
    for (const m of (status?.message ?? '').matchAll(
      /conflict with "([^"]+)"/g,
    )) {
      managers.add(m[1]);
    }
  }
  return { managers: [...managers], fields };
}

function conflictMessage(object: KubeObject, error: unknown): string {
  const { managers, fields } = parseApplyConflict(error);
  const who = managers.length
    ? `field manager${managers.length > 1 ? 's' : ''} ${managers
        .map(m => `"${m}"`)
        .join(', ')}`
    : 'another field manager';
  const what = fields.length ? fields.join(', ') : 'some fields';
  return `${describe(object)}: ${what} ${
    fields.length === 1 ? 'is' : 'are'
  } owned by ${who}`;
}

/**
 * The HPA of a Deployment owns its replica count: keep the live value so a
 * deploy neither conflicts with nor resets the autoscaler.
 */
function preserveAutoscaledReplicas(
  resolved: readonly ResolvedObject[],
  live: ReadonlyMap<ResolvedObject, KubeObject | undefined>,
): Map<ResolvedObject, KubeObject> {
  const scaled = new Set<string>();
  for (const { object } of resolved) {
    if (object.kind !== 'HorizontalPodAutoscaler') continue;
    const ref = (object.spec as any)?.scaleTargetRef;
    if (ref?.kind === 'Deployment' && typeof ref.name === 'string') {
      scaled.add(ref.name);
    }
  }
  const bodies = new Map<ResolvedObject, KubeObject>();
  for (const r of resolved) {
    const current = live.get(r);
    const liveReplicas = (current?.spec as any)?.replicas;
    if (
      r.object.kind === 'Deployment' &&
      r.resource.group === 'apps' &&
      scaled.has(r.object.metadata.name) &&
      typeof liveReplicas === 'number' &&
      r.object.spec &&
      typeof r.object.spec === 'object' &&
      'replicas' in (r.object.spec as object)
    ) {
      const copy = structuredClone(r.object);
      (copy.spec as any).replicas = liveReplicas;
      bodies.set(r, copy);
    } else {
      bodies.set(r, r.object);
    }
  }
  return bodies;
}

function entityRefOf(object: KubeObject | undefined): string | undefined {
  const value = object?.metadata?.annotations?.[ANNOTATION_ENTITY_REF];
  return typeof value === 'string' && value ? value : undefined;
}

/**
 * Refuses to touch live objects that ModelOps did not deploy for the same
 * entity. An object of another entity is never changed, not even with
 * `force`; an object without the ModelOps entity annotation (created by
 * kubectl, Helm, ...) is adopted only with `force`. The error names the
 * objects and owners only: nothing of the live objects' content.
 */
export function checkOwnership(
  objects: ReadonlyArray<{ desired: KubeObject; live: KubeObject | undefined }>,
  options: { force: boolean; cluster: string },
): void {
  const foreign: string[] = [];
  const unmanaged: string[] = [];
  for (const { desired, live } of objects) {
    if (!live) continue;
    const owner = entityRefOf(live);
    const wanted = entityRefOf(desired);
    const where = `${describe(desired)} in ${desired.metadata.namespace}`;
    if (owner === undefined) {
      if (!options.force) unmanaged.push(where);
    } else if (owner !== wanted) {
      foreign.push(`${where} belongs to ${owner}`);
    }
  }
  if (foreign.length) {
    const many = foreign.length > 1;
    throw new ConflictError(
      `${foreign.join(
        '; ',
      )}; ModelOps will not change another service's objects, not even with force: true. Give ${
        many ? 'these objects other names' : 'this object another name'
      } in your manifests, or delete ${
        many ? 'them' : 'it'
      } from the other service first (cluster ${options.cluster})`,
    );
  }
  if (unmanaged.length) {
    const many = unmanaged.length > 1;
    throw new ConflictError(
      `${unmanaged.join(', ')} already ${
        many ? 'exist' : 'exists'
      } on cluster ${options.cluster} but ${
        many ? 'were' : 'was'
      } not created by ModelOps (no ${ANNOTATION_ENTITY_REF} annotation); nothing was applied. Give ${
        many ? 'these objects other names' : 'this object another name'
      } in your manifests, or deploy with force: true to adopt ${
        many ? 'them' : 'it'
      } into this service (ModelOps then manages ${
        many ? 'them' : 'it'
      } and overwrites the fields it sets)`,
    );
  }
}

/** Turns the failures of a dry run of every object into one error. */
function combineFailures(
  failures: Array<{ object: KubeObject; error: unknown }>,
  cluster: string,
): Error {
  const conflicts = failures.filter(f => f.error instanceof ConflictError);
  if (conflicts.length) {
    return new ConflictError(
      `Server-side apply conflicts on cluster ${cluster}: ${conflicts
        .map(f => conflictMessage(f.object, f.error))
        .join(
          '; ',
        )}. Someone changed these fields outside ModelOps; deploy with force: true to take them over (their change will be overwritten)`,
    );
  }
  const invalid = failures.filter(f => f.error instanceof InputError);
  if (invalid.length === failures.length) {
    return new InputError(
      `The cluster rejected the manifests, nothing was applied: ${invalid
        .map(f => (f.error as Error).message)
        .join('; ')}`,
    );
  }
  // Unreachable, forbidden, ...: the first such error as it is.
  const other = failures.find(f => !(f.error instanceof InputError))!;
  return other.error as Error;
}

/**
 * Server-side applies validated objects. Every object is first read (live
 * state) and checked to belong to the same entity (`checkOwnership`:
 * ConflictError otherwise, before any dry run or diff), then dry-run applied, so a real deploy applies nothing when any
 * object would be rejected (conflict → ConflictError naming the other field
 * managers; admission/validation → InputError with the server's message).
 * Then, unless `dryRun`, objects are applied in dependency order. Returns
 * one entry per object, in apply order, with the diff live → result.
 */
export async function applyObjects(
  client: ClusterClient,
  resolved: readonly ResolvedObject[],
  options: ApplyObjectsOptions,
): Promise<AppliedObject[]> {
  const fieldManager = options.fieldManager ?? DEFAULT_FIELD_MANAGER;
  const force = options.force ?? false;
  const ordered = sortForApply(resolved);

  const liveList = await Promise.all(
    ordered.map(r =>
      client.get(
        r.resource,
        r.object.metadata.namespace!,
        r.object.metadata.name,
      ),
    ),
  );
  // Before anything is dry-run or diffed: no diff of a foreign object leaks.
  checkOwnership(
    ordered.map((r, i) => ({ desired: r.object, live: liveList[i] })),
    { force, cluster: client.name },
  );
  const live = new Map(ordered.map((r, i) => [r, liveList[i]]));
  const bodies = preserveAutoscaledReplicas(ordered, live);

  const dryRuns = await Promise.allSettled(
    ordered.map(r =>
      client.apply(r.resource, bodies.get(r)!, {
        fieldManager,
        force,
        dryRun: true,
      }),
    ),
  );
  const failures = dryRuns.flatMap((d, i) =>
    d.status === 'rejected'
      ? [{ object: ordered[i].object, error: d.reason }]
      : [],
  );
  if (failures.length) throw combineFailures(failures, client.name);

  let results = dryRuns.map(
    d => (d as PromiseFulfilledResult<KubeObject>).value,
  );
  if (!options.dryRun) {
    await options.beforeWrite?.();
    results = [];
    for (const r of ordered) {
      try {
        results.push(
          await client.apply(r.resource, bodies.get(r)!, {
            fieldManager,
            force,
            dryRun: false,
          }),
        );
      } catch (e) {
        const done = ordered
          .slice(0, results.length)
          .map(x => describe(x.object));
        // Keeps the cause's name, so its HTTP status too.
        throw new ForwardedError(
          `Deploy stopped at ${describe(r.object)}${
            done.length
              ? ` after applying ${done.join(', ')}`
              : ' (nothing was applied)'
          }`,
          e,
        );
      }
    }
  }

  return ordered.map((r, i) => {
    const before = live.get(r);
    const result = results[i];
    // For a new object, list what was asked for, not every server default.
    const changes = diffObjects(before ?? {}, before ? result : bodies.get(r));
    const ref: AppliedObjectRef = {
      apiVersion: r.object.apiVersion,
      kind: r.object.kind,
      name: r.object.metadata.name,
    };
    let operation: ObjectDiff['operation'] = 'unchanged';
    if (!before) operation = 'create';
    else if (changes.length) operation = 'update';
    return {
      ref,
      live: before,
      result,
      diff: {
        ...ref,
        operation,
        changes,
      },
    };
  });
}
