import { InputError } from '@backstage/errors';
import { ClusterClient } from '../../kubernetes/ClusterClient';
import { ResourceIndex, splitApiVersion } from '../../kubernetes/ResourceIndex';
import { KubeObject, ResourceInfo } from '../../kubernetes/types';
import { checkDangerousFields, WorkloadFieldPolicy } from './workloadFields';

/*
 * The deploy policy, checked once per deploy on rendered objects against the
 * target cluster's discovery: served, namespaced, allowlisted kinds, no
 * Secrets, each object once, and the workload fields of `workloadFields.ts`.
 * Shapes were checked when the manifests were parsed and the namespace was
 * forced when they were rendered.
 */

/** An object checked against the target cluster, with its discovery info. */
export interface ResolvedObject {
  object: KubeObject;
  resource: ResourceInfo;
}

/** The kinds ModelOps deploys unless configured otherwise. */
export const DEFAULT_ALLOWED_KINDS: readonly string[] = [
  'Deployment',
  'Service',
  'ConfigMap',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'ServiceAccount',
  'InferenceService',
];

/**
 * The API group a well-known kind must come from, so a custom resource that
 * happens to be called `Deployment` is not mistaken for the allowlisted one.
 */
const KNOWN_KIND_GROUPS: Record<string, string> = {
  Deployment: 'apps',
  Service: '',
  ConfigMap: '',
  Secret: '',
  ServiceAccount: '',
  HorizontalPodAutoscaler: 'autoscaling',
  PodDisruptionBudget: 'policy',
  InferenceService: 'serving.kserve.io',
};

/** What an environment allows: the deploy policy. */
export interface DeployPolicy extends WorkloadFieldPolicy {
  /**
   * Allowed kinds: a kind name (`Deployment`; well-known kinds must come
   * from their usual group) or `group/Kind` (`monitoring.coreos.com/ServiceMonitor`,
   * `/ConfigMap` for the core group). Default `DEFAULT_ALLOWED_KINDS`.
   */
  allowedKinds?: readonly string[];
  /** Allow `v1` Secrets. Default false: secrets do not belong in manifests. */
  allowSecrets?: boolean;
}

/** Options of `validateObjects`. */
export interface ValidateOptions extends DeployPolicy {
  client: ClusterClient;
  namespace: string;
}

/** True when the allowlist admits this kind of this group. */
export function isAllowed(
  kind: string,
  group: string,
  allowedKinds: readonly string[],
): boolean {
  return allowedKinds.some(entry => {
    const slash = entry.lastIndexOf('/');
    if (slash >= 0) {
      return entry.slice(slash + 1) === kind && entry.slice(0, slash) === group;
    }
    if (entry !== kind) return false;
    const known = KNOWN_KIND_GROUPS[kind];
    return known === undefined || known === group;
  });
}

/**
 * The pure part of `validateObjects`: checks objects against a discovery
 * index and returns what resolved plus every problem found.
 */
export function checkObjects(
  objects: readonly KubeObject[],
  index: ResourceIndex,
  options: DeployPolicy & { cluster: string; namespace: string },
): { resolved: ResolvedObject[]; problems: string[] } {
  const allowedKinds = options.allowedKinds ?? DEFAULT_ALLOWED_KINDS;
  const problems: string[] = [];
  const resolved: ResolvedObject[] = [];
  const seen = new Map<string, number>();

  objects.forEach((object, i) => {
    const { apiVersion, kind } = object;
    const name = object.metadata.name;
    const what = `${kind} "${name}"`;
    const { group } = splitApiVersion(apiVersion);

    const dupKey = `${group}|${kind}|${name}`;
    const first = seen.get(dupKey);
    if (first !== undefined) {
      problems.push(
        `${what} appears more than once (objects ${first + 1} and ${
          i + 1
        }); each object may be listed only once`,
      );
      return;
    }
    seen.set(dupKey, i);

    const resource = index.lookup(apiVersion, kind);
    if (!resource) {
      const servedBy = index.servedBy(kind);
      if (servedBy.length) {
        problems.push(
          `${kind} is not served by ${apiVersion} on cluster ${
            options.cluster
          }; it is served by ${servedBy
            .map(r => r.apiVersion)
            .join(', ')} (change apiVersion of ${what})`,
        );
      } else {
        const lower = kind.toLowerCase();
        const caseMatch = index.resources.find(
          r => r.kind.toLowerCase() === lower,
        );
        problems.push(
          caseMatch
            ? `${what}: kind ${kind} does not exist on cluster ${options.cluster}; did you mean ${caseMatch.kind} (${caseMatch.apiVersion})?`
            : `${what}: ${apiVersion} ${kind} is not served by cluster ${options.cluster}; is the API (CRD) that provides it installed there?`,
        );
      }
      return;
    }
    if (!resource.namespaced) {
      problems.push(
        `${what} is cluster-scoped; ModelOps only deploys namespaced objects into namespace "${options.namespace}"`,
      );
      return;
    }
    if (resource.group === '' && kind === 'Secret' && !options.allowSecrets) {
      problems.push(
        `${what} is a Secret; ModelOps does not deploy Secrets from manifests (keep credentials out of source control: create the Secret in the cluster and reference it from the Deployment)`,
      );
      return;
    }
    if (!isAllowed(kind, resource.group, allowedKinds)) {
      problems.push(
        `${what} (${apiVersion}) is not a kind ModelOps may deploy; allowed kinds: ${allowedKinds.join(
          ', ',
        )}`,
      );
      return;
    }
    const dangerous = checkDangerousFields(object, resource.group, options);
    if (dangerous.length) {
      problems.push(...dangerous);
      return;
    }
    resolved.push({ object, resource });
  });
  return { resolved, problems };
}

/**
 * Checks every object against the target cluster's API (discovery) and the
 * deploy policy (allowed kinds and Service types, no Secrets, no host
 * access: see `checkDangerousFields`). All or nothing: every problem is collected and thrown as
 * one InputError, so the user can fix them in one go.
 */
export async function validateObjects(
  objects: readonly KubeObject[],
  options: ValidateOptions,
): Promise<ResolvedObject[]> {
  const { client } = options;
  const check = (index: ResourceIndex) =>
    checkObjects(objects, index, { ...options, cluster: client.name });
  let index = await client.discover();
  let result = check(index);
  // A kind may be new since discovery was cached (e.g. a CRD just installed).
  const unresolved = objects.some(o => !index.lookup(o.apiVersion, o.kind));
  if (unresolved && Date.now() - index.fetchedAt > 5_000) {
    index = await client.discover({ refresh: true });
    result = check(index);
  }
  if (result.problems.length) {
    throw new InputError(
      `The manifests cannot be deployed to namespace "${
        options.namespace
      }" on cluster ${client.name}: ${result.problems
        .map((p, i) => `(${i + 1}) ${p}`)
        .join('; ')}`,
    );
  }
  return result.resolved;
}
