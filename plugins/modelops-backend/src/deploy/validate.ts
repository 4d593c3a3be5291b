import { InputError } from '@backstage/errors';
import { ClusterClient } from '../kubernetes/ClusterClient';
import { ResourceIndex, splitApiVersion } from '../kubernetes/ResourceIndex';
import { KubeObject, ResourceInfo } from '../kubernetes/types';
import { checkObjectShape } from './manifests';

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

const FORBIDDEN_CAPABILITIES = new Set(['SYS_ADMIN', 'NET_ADMIN', 'ALL']);
const FORBIDDEN_SERVICE_TYPES = new Set([
  'NodePort',
  'LoadBalancer',
  'ExternalName',
]);
/** KServe predictor fields that are container specs (`model`, frameworks). */
const KSERVE_CONTAINER_FIELDS = [
  'model',
  'sklearn',
  'xgboost',
  'tensorflow',
  'pytorch',
  'triton',
  'onnx',
  'huggingface',
  'pmml',
  'lightgbm',
  'paddle',
];

function asRecord(value: unknown): Record<string, any> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, any>)
    : undefined;
}

function checkContainer(
  container: unknown,
  path: string,
  problems: string[],
): void {
  const sc = asRecord(asRecord(container)?.securityContext);
  if (!sc) return;
  if (sc.privileged === true) {
    problems.push(
      `${path}.securityContext.privileged is not allowed (privileged containers control the node)`,
    );
  }
  const add = asRecord(sc.capabilities)?.add;
  if (Array.isArray(add)) {
    const bad = add.filter(
      c =>
        typeof c === 'string' &&
        FORBIDDEN_CAPABILITIES.has(c.toUpperCase().replace(/^CAP_/, '')),
    );
    if (bad.length) {
      problems.push(
        `${path}.securityContext.capabilities.add ${bad.join(
          ', ',
        )} is not allowed (SYS_ADMIN, NET_ADMIN and ALL give control over the node or its network)`,
      );
    }
  }
}

/** Checks the host-level fields of a pod spec (or a KServe component). */
function checkPodSpec(
  podSpec: unknown,
  path: string,
  problems: string[],
): void {
  const spec = asRecord(podSpec);
  if (!spec) return;
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[field] === true) {
      problems.push(
        `${path}.${field} is not allowed (model servers must not share the node's namespaces)`,
      );
    }
  }
  if (Array.isArray(spec.volumes)) {
    spec.volumes.forEach((v: unknown, i: number) => {
      const volume = asRecord(v);
      if (volume && volume.hostPath !== undefined && volume.hostPath !== null) {
        problems.push(
          `${path}.volumes[${i}].hostPath is not allowed (use a ConfigMap, emptyDir or PersistentVolumeClaim volume instead of the node's files)`,
        );
      }
    });
  }
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((c: unknown, i: number) =>
      checkContainer(c, `${path}.${list}[${i}]`, problems),
    );
  }
}

/**
 * Fields that would let a deployed model reach beyond its namespace: node
 * ports and external IPs on Services, host namespaces and paths, privileged
 * containers and dangerous capabilities in pod specs. Returns the problems,
 * each naming the object and the field path.
 */
export function checkDangerousFields(
  object: KubeObject,
  group: string,
): string[] {
  const problems: string[] = [];
  const spec = asRecord(object.spec);
  if (!spec) return problems;
  const kind = object.kind;
  if (group === '' && kind === 'Service') {
    if (Array.isArray(spec.externalIPs) && spec.externalIPs.length) {
      problems.push(
        'spec.externalIPs is not allowed (it can intercept traffic to any IP address in the cluster)',
      );
    }
    if (
      typeof spec.type === 'string' &&
      FORBIDDEN_SERVICE_TYPES.has(spec.type)
    ) {
      problems.push(
        `spec.type ${spec.type} is not allowed (ModelOps deploys ClusterIP Services only; expose a model through the platform's ingress)`,
      );
    }
  } else if (group === '' && kind === 'Pod') {
    checkPodSpec(spec, 'spec', problems);
  } else if (group === 'batch' && kind === 'CronJob') {
    checkPodSpec(
      asRecord(asRecord(asRecord(spec.jobTemplate)?.spec)?.template)?.spec,
      'spec.jobTemplate.spec.template.spec',
      problems,
    );
  } else if (group === 'apps' || group === 'batch') {
    // Deployment, StatefulSet, DaemonSet, ReplicaSet, Job.
    checkPodSpec(asRecord(spec.template)?.spec, 'spec.template.spec', problems);
  } else if (group === 'serving.kserve.io' && kind === 'InferenceService') {
    for (const component of ['predictor', 'transformer', 'explainer']) {
      const c = asRecord(spec[component]);
      if (!c) continue;
      const path = `spec.${component}`;
      checkPodSpec(c, path, problems);
      checkPodSpec(c.workerSpec, `${path}.workerSpec`, problems);
      for (const field of KSERVE_CONTAINER_FIELDS) {
        checkContainer(c[field], `${path}.${field}`, problems);
      }
    }
  }
  const what = `${kind} "${object.metadata.name}"`;
  return problems.map(p => `${what}: ${p}`);
}

/** Options of `validateObjects`. */
export interface ValidateOptions {
  client: ClusterClient;
  namespace: string;
  /**
   * Allowed kinds: a kind name (`Deployment`; well-known kinds must come
   * from their usual group) or `group/Kind` (`monitoring.coreos.com/ServiceMonitor`,
   * `/ConfigMap` for the core group). Default `DEFAULT_ALLOWED_KINDS`.
   */
  allowedKinds?: readonly string[];
  /** Allow `v1` Secrets. Default false: secrets do not belong in manifests. */
  allowSecrets?: boolean;
}

function isAllowed(
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
  options: {
    cluster: string;
    namespace: string;
    allowedKinds?: readonly string[];
    allowSecrets?: boolean;
  },
): { resolved: ResolvedObject[]; problems: string[] } {
  const allowedKinds = options.allowedKinds ?? DEFAULT_ALLOWED_KINDS;
  const problems: string[] = [];
  const resolved: ResolvedObject[] = [];
  const seen = new Map<string, number>();

  objects.forEach((object, i) => {
    const shape = checkObjectShape(object);
    if (shape.length) {
      problems.push(`object ${i + 1}: ${shape.join('; ')}`);
      return;
    }
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

    const ns = object.metadata.namespace;
    if (ns !== undefined && ns !== options.namespace) {
      problems.push(
        `${what} names namespace "${ns}", but this environment deploys to namespace "${options.namespace}"`,
      );
    }

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
    const dangerous = checkDangerousFields(object, resource.group);
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
 * deploy policy (allowed kinds, no Secrets, no host access: see
 * `checkDangerousFields`). All or nothing: every problem is collected and thrown as
 * one InputError, so the user can fix them in one go.
 */
export async function validateObjects(
  objects: readonly KubeObject[],
  options: ValidateOptions,
): Promise<ResolvedObject[]> {
  const { client } = options;
  const check = (index: ResourceIndex) =>
    checkObjects(objects, index, {
      cluster: client.name,
      namespace: options.namespace,
      allowedKinds: options.allowedKinds,
      allowSecrets: options.allowSecrets,
    });
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
