import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  detectErrors,
  DetectedError,
  ObjectsByEntityResponse,
} from '@backstage/plugin-kubernetes-common';
import {
  EnvironmentStatus,
  isLabelValue,
  RolloutCondition,
  RolloutPhase,
  WorkloadProblem,
} from '@modelops/plugin-modelops-common';
import { ClusterClient } from '../../kubernetes/ClusterClient';
import { KubeObject } from '../../kubernetes/types';
import { ANNOTATION_REVISION, isCanary, LABEL_KUBERNETES_ID } from '../labels';
import { modelContainer } from '../render/render';
import { serviceStatuses } from './services';

/**
 * The live rollout state of one model service in one namespace: the part of
 * an environment's status that the cluster answers.
 */
export type RolloutStatus = Omit<
  EnvironmentStatus,
  'environment' | 'cluster' | 'namespace' | 'lastDeployment' | 'error'
>;

/** Options of `readRolloutStatus`. */
export interface RolloutStatusOptions {
  namespace: string;
  kubernetesId: string;
  /** The entity's `modelops/image`, to find the model container's image. */
  imageRepository?: string;
}

// KServe's Ready=False reasons that mean it will not become ready by itself.
const ISVC_FAILURE_REASON =
  /fail|invalid|error|notrecognized|nosupporting|disabled|exceeded/i;

function conditionsOf(object: KubeObject | undefined): RolloutCondition[] {
  const list = ((object?.status as any)?.conditions ?? []) as any[];
  return list
    .filter(c => c && typeof c.type === 'string')
    .map(c => {
      const condition: RolloutCondition = {
        type: c.type,
        status: String(c.status ?? 'Unknown'),
      };
      if (c.reason) condition.reason = String(c.reason);
      if (c.message) condition.message = String(c.message);
      return condition;
    });
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function toProblem(error: DetectedError): WorkloadProblem {
  const problem: WorkloadProblem = {
    kind: error.sourceRef.kind,
    name: error.sourceRef.name,
    severity: error.severity,
    message: error.message,
  };
  const fix = error.proposedFix;
  if (fix) {
    problem.fix = {
      explanation: fix.rootCauseExplanation,
      actions: fix.actions,
    };
    if (fix.type === 'docs') problem.fix.docsLink = fix.docsLink;
  }
  return problem;
}

/**
 * Problems found on pods and Deployments by the Kubernetes plugin's error
 * detection, most severe first, one per distinct message and object.
 */
export function detectWorkloadProblems(
  cluster: string,
  pods: readonly KubeObject[],
  deployments: readonly KubeObject[],
): WorkloadProblem[] {
  const response = {
    items: [
      {
        cluster: { name: cluster },
        resources: [
          { type: 'pods', resources: pods },
          { type: 'deployments', resources: deployments },
        ],
        podMetrics: [],
        errors: [],
      },
    ],
  } as unknown as ObjectsByEntityResponse;
  const found = detectErrors(response).get(cluster) ?? [];
  const seen = new Set<string>();
  return found
    .map(toProblem)
    .filter(p => {
      const key = `${p.kind}|${p.name}|${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => b.severity - a.severity);
}

function modelImage(
  deployment: KubeObject,
  imageRepository: string | undefined,
): string | undefined {
  const containers = ((deployment.spec as any)?.template?.spec?.containers ??
    []) as Array<{ name?: string; image?: string }>;
  const images = containers.filter(c => typeof c.image === 'string');
  return modelContainer(images, imageRepository)?.image;
}

function isvcImage(isvc: KubeObject): string | undefined {
  const predictor = (isvc.spec as any)?.predictor;
  const image =
    predictor?.containers?.[0]?.image ?? predictor?.model?.image ?? undefined;
  return typeof image === 'string' ? image : undefined;
}

function revisionOf(object: KubeObject | undefined): number | undefined {
  const value = object?.metadata.annotations?.[ANNOTATION_REVISION];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Container waiting reasons that do not clear up by themselves: the image does
 * not exist (or may not be pulled), or the container keeps crashing. The
 * kubelet keeps retrying, so the Deployment only says so when its progress
 * deadline (10 minutes by default) has passed; a pod of the current release in
 * one of these states fails the rollout at once.
 */
export const STUCK_WAITING_REASONS: ReadonlySet<string> = new Set([
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** Pods running `image` with a container stuck in one of STUCK_WAITING_REASONS. */
function stuckPods(pods: readonly KubeObject[], image: string): KubeObject[] {
  return pods.filter(pod => {
    const spec = (pod.spec ?? {}) as any;
    const runsImage = ((spec.containers ?? []) as any[]).some(
      c => c?.image === image,
    );
    const statuses = ((pod.status as any)?.containerStatuses ?? []) as any[];
    return (
      runsImage &&
      statuses.some(cs =>
        STUCK_WAITING_REASONS.has(String(cs?.state?.waiting?.reason)),
      )
    );
  });
}

/**
 * What `computeRolloutStatus` reads of a Deployment: what the overview
 * keeps in memory of every watched Deployment, so without managed fields, the
 * pod template's spec beyond the containers' names and images, and
 * annotations other than the revisions.
 */
export function slimDeployment(d: KubeObject): KubeObject {
  const spec = (d.spec ?? {}) as any;
  const annotations = d.metadata.annotations ?? {};
  const keep = Object.fromEntries(
    Object.entries(annotations).filter(([k]) => k.endsWith('revision')),
  );
  return {
    apiVersion: d.apiVersion ?? 'apps/v1',
    kind: d.kind ?? 'Deployment',
    metadata: {
      name: d.metadata.name,
      namespace: d.metadata.namespace,
      uid: d.metadata.uid,
      generation: d.metadata.generation,
      labels: d.metadata.labels,
      annotations: keep,
    },
    spec: {
      replicas: spec.replicas,
      template: {
        spec: {
          containers: ((spec.template?.spec?.containers ?? []) as any[]).map(
            c => ({ name: c?.name, image: c?.image }),
          ),
        },
      },
    },
    status: d.status,
  };
}

/**
 * Decides the phase from already-read objects (the pure part). The canary
 * of a canary release is reported on its own (`canary`): the phase, image,
 * revision and replicas are the stable Deployments'.
 */
export function computeRolloutStatus(
  all: readonly KubeObject[],
  inferenceServices: readonly KubeObject[],
  problems: WorkloadProblem[],
  imageRepository?: string,
  pods: readonly KubeObject[] = [],
): RolloutStatus {
  const canaries = all.filter(isCanary);
  const status = computeStatus(
    all.filter(d => !isCanary(d)),
    inferenceServices,
    problems,
    imageRepository,
    pods,
  );
  if (canaries.length) {
    const c = computeStatus(canaries, [], [], imageRepository, pods);
    status.canary = {
      deployments: canaries.map(d => d.metadata.name),
      phase: c.phase,
    };
    if (c.image) status.canary.image = c.image;
    if (c.revision !== undefined) status.canary.revision = c.revision;
    if (c.replicas) status.canary.replicas = c.replicas;
  }
  return status;
}

function computeStatus(
  deployments: readonly KubeObject[],
  inferenceServices: readonly KubeObject[],
  problems: WorkloadProblem[],
  imageRepository?: string,
  pods: readonly KubeObject[] = [],
): RolloutStatus {
  if (!deployments.length && !inferenceServices.length) {
    return { phase: 'NotDeployed', conditions: [], problems };
  }
  // The one ModelOps deployed last (highest revision), else the first.
  const latest = (objects: readonly KubeObject[]) =>
    objects.reduce<KubeObject | undefined>(
      (best, o) =>
        (revisionOf(o) ?? -1) > (revisionOf(best) ?? -1) ? o : best,
      objects[0],
    );
  const main = latest(deployments);
  const isvc = latest(inferenceServices);

  let failed = false;
  let progressing = false;
  const replicas = { desired: 0, updated: 0, ready: 0, available: 0 };
  for (const d of deployments) {
    const spec = (d.spec ?? {}) as any;
    const status = (d.status ?? {}) as any;
    const desired = spec.replicas === undefined ? 1 : num(spec.replicas);
    replicas.desired += desired;
    replicas.updated += num(status.updatedReplicas);
    replicas.ready += num(status.readyReplicas);
    replicas.available += num(status.availableReplicas);
    const conditions = conditionsOf(d);
    if (
      conditions.some(
        c =>
          c.type === 'Progressing' &&
          c.status === 'False' &&
          c.reason === 'ProgressDeadlineExceeded',
      )
    ) {
      failed = true;
    }
    const generation = num(d.metadata.generation);
    if (
      status.observedGeneration === undefined ||
      num(status.observedGeneration) < generation ||
      num(status.updatedReplicas) < desired ||
      num(status.readyReplicas) < desired ||
      num(status.availableReplicas) < desired ||
      // old pods still terminating
      num(status.replicas) > desired
    ) {
      progressing = true;
    }
  }
  for (const i of inferenceServices) {
    const ready = conditionsOf(i).find(c => c.type === 'Ready');
    if (
      ready?.status === 'False' &&
      ISVC_FAILURE_REASON.test(ready.reason ?? '')
    ) {
      failed = true;
    } else if (ready?.status !== 'True') {
      progressing = true;
    }
  }

  const conditions = [
    ...conditionsOf(main),
    ...conditionsOf(isvc).filter(c =>
      ['Ready', 'PredictorReady', 'IngressReady'].includes(c.type),
    ),
  ];
  const currentImage = main && modelImage(main, imageRepository);
  if (progressing && currentImage && stuckPods(pods, currentImage).length) {
    failed = true;
  }
  let phase: RolloutPhase = 'Available';
  if (failed) phase = 'Failed';
  else if (progressing) phase = 'Progressing';

  const result: RolloutStatus = { phase, conditions, problems };
  const image = currentImage ?? (isvc && isvcImage(isvc));
  if (image) result.image = image;
  const revision = revisionOf(main) ?? revisionOf(isvc);
  if (revision !== undefined) result.revision = revision;
  if (deployments.length) result.replicas = replicas;
  const source = main ?? isvc;
  if (source?.metadata.generation !== undefined) {
    result.generation = num(source.metadata.generation);
  }
  const observed = (source?.status as any)?.observedGeneration;
  if (observed !== undefined) result.observedGeneration = num(observed);
  return result;
}

/**
 * Reads the Deployment(s), InferenceService(s), Services and pods labelled
 * `backstage.io/kubernetes-id=<id>` and reports the rollout phase:
 * NotDeployed (nothing found), Failed (progress deadline exceeded, a pod of
 * the current release stuck pulling its image or crash-looping, or an
 * InferenceService failing), Progressing (not yet observed, updated or
 * ready), Available otherwise; with pod problems from the Kubernetes
 * plugin's error detection.
 */
export async function readRolloutStatus(
  client: ClusterClient,
  options: RolloutStatusOptions,
): Promise<RolloutStatus> {
  const { namespace, kubernetesId } = options;
  if (!isLabelValue(kubernetesId)) {
    throw new InputError(
      `"${kubernetesId}" is not a valid Kubernetes label value for ${LABEL_KUBERNETES_ID}`,
    );
  }
  const labelSelector = `${LABEL_KUBERNETES_ID}=${kubernetesId}`;
  const index = await client.discover();
  const deploymentRes = index.lookup('apps/v1', 'Deployment');
  const podRes = index.lookup('v1', 'Pod');
  const serviceRes = index.lookup('v1', 'Service');
  const isvcRes =
    index.lookup('serving.kserve.io/v1beta1', 'InferenceService') ??
    index
      .servedBy('InferenceService')
      .find(r => r.group === 'serving.kserve.io');
  const [deployments, pods, services, isvcs] = await Promise.all([
    deploymentRes
      ? client.list(deploymentRes, namespace, { labelSelector })
      : Promise.resolve([]),
    podRes
      ? client.list(podRes, namespace, { labelSelector })
      : Promise.resolve([]),
    serviceRes
      ? client.list(serviceRes, namespace, { labelSelector })
      : Promise.resolve([]),
    isvcRes
      ? client
          .list(isvcRes, namespace, { labelSelector })
          .catch((e: unknown) => {
            // InferenceServices are optional: a missing grant must not hide the Deployment.
            if (e instanceof NotAllowedError || e instanceof NotFoundError) {
              return [];
            }
            throw e;
          })
      : Promise.resolve([]),
  ]);
  const problems = detectWorkloadProblems(client.name, pods, deployments);
  const status = computeRolloutStatus(
    deployments,
    isvcs,
    problems,
    options.imageRepository,
    pods,
  );
  if (services.length) {
    status.services = serviceStatuses(services, { cluster: client.name });
  }
  return status;
}

/**
 * Polls `readRolloutStatus` until the rollout is Available or Failed, or
 * the timeout passes; resolves with the last status and whether it timed
 * out. NotDeployed is waited on too (the objects may be about to appear).
 */
export async function waitForRollout(
  client: ClusterClient,
  options: RolloutStatusOptions & {
    timeoutMs: number;
    intervalMs?: number;
    signal?: AbortSignal;
  },
): Promise<RolloutStatus & { timedOut: boolean }> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 1000;
  for (;;) {
    const status = await readRolloutStatus(client, options);
    if (status.phase === 'Available' || status.phase === 'Failed') {
      return { ...status, timedOut: false };
    }
    const left = deadline - Date.now();
    if (left <= 0 || options.signal?.aborted) {
      return { ...status, timedOut: true };
    }
    await new Promise(resolve => setTimeout(resolve, Math.min(interval, left)));
  }
}
