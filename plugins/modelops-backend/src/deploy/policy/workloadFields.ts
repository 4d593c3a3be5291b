import { KubeObject } from '../../kubernetes/types';

/*
 * Fields of Services and pod specs that reach beyond the namespace: the part
 * of the deploy policy that reads inside objects.
 */

const FORBIDDEN_CAPABILITIES = new Set(['SYS_ADMIN', 'NET_ADMIN', 'ALL']);
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

/** The Service types ModelOps deploys unless configured otherwise. */
export const DEFAULT_ALLOWED_SERVICE_TYPES: readonly ServiceType[] = [
  'ClusterIP',
];

/** The `spec.type` values of a Service. */
export const SERVICE_TYPES = [
  'ClusterIP',
  'NodePort',
  'LoadBalancer',
  'ExternalName',
] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** What the environment allows of the fields `checkDangerousFields` checks. */
export interface WorkloadFieldPolicy {
  /** Service types allowed; default `DEFAULT_ALLOWED_SERVICE_TYPES`. */
  allowedServiceTypes?: readonly string[];
  /** Allow Service `externalIPs`. Default false. */
  allowExternalIPs?: boolean;
  /** The environment, to name its configuration keys in messages. */
  environment?: string;
}

function configHint(policy: WorkloadFieldPolicy, key: string): string {
  const env = policy.environment ?? '<environment>';
  return `modelops.environments.${env}.${key} or modelops.deployments.${key}`;
}

/**
 * Fields that would let a deployed model reach beyond its namespace: Service
 * types the environment does not allow (ClusterIP only by default) and
 * external IPs on Services, host namespaces and paths, privileged containers
 * and dangerous capabilities in pod specs. Returns the problems, each naming
 * the object and the field path.
 */
export function checkDangerousFields(
  object: KubeObject,
  group: string,
  policy: WorkloadFieldPolicy = {},
): string[] {
  const problems: string[] = [];
  const spec = asRecord(object.spec);
  if (!spec) return problems;
  const kind = object.kind;
  if (group === '' && kind === 'Service') {
    if (
      Array.isArray(spec.externalIPs) &&
      spec.externalIPs.length &&
      !policy.allowExternalIPs
    ) {
      problems.push(
        `spec.externalIPs is not allowed (it can intercept traffic to any IP address in the cluster; a platform engineer can allow it with ${configHint(
          policy,
          'allowExternalIPs',
        )})`,
      );
    }
    const allowed = policy.allowedServiceTypes ?? DEFAULT_ALLOWED_SERVICE_TYPES;
    const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
    if (!allowed.includes(type)) {
      problems.push(
        `spec.type ${type} is not allowed (${
          policy.environment
            ? `environment "${policy.environment}"`
            : 'this environment'
        } allows ${
          allowed.join(', ') || 'no'
        } Services; a platform engineer can allow ${type} with ${configHint(
          policy,
          'allowedServiceTypes',
        )})`,
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
