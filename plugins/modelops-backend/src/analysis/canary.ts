/**
 * Canary releases on plain Deployments: the new revision runs as a canary
 * Deployment `<name>-canary` next to each stable Deployment that runs the
 * model, with a share of the replicas. The Service selects both, so the
 * traffic follows the endpoints: replicas are the split. The stable
 * Deployments are not changed until the canary's analysis passes.
 */
import { ConflictError, InputError } from '@backstage/errors';
import { AnalysisCanary } from '@modelops/plugin-modelops-common';
import { ClusterClient } from '../kubernetes/ClusterClient';
import { KubeObject } from '../kubernetes/types';
import {
  ANNOTATION_REVISION,
  isCanary,
  LABEL_KUBERNETES_ID,
  LABEL_TRACK,
  TRACK_CANARY,
} from '../deploy/labels';
import { ResolvedObject } from '../deploy/policy/policy';
import { modelImageOf } from '../deploy/render/render';

/** The canary Deployment's name for a stable Deployment's. */
export const canaryName = (stable: string) => `${stable}-canary`;

/** Deployment names are DNS subdomains; their pods' names add two suffixes, so stay well within 253. */
const MAX_CANARY_NAME = 200;

/**
 * The canary's replicas for a stable Deployment of `stable` replicas and a
 * share of `percent`: the whole number of pods nearest to that share of the
 * canary and stable pods together, at least one. With 3 stable pods 25 %
 * is 1 canary pod (25 %); with 2 stable pods it is still 1 (33 %), the
 * nearest a whole pod gets.
 */
export function canaryReplicas(stable: number, percent: number): number {
  return Math.max(1, Math.round((stable * percent) / (100 - percent)));
}

/** A rendered Deployment as its canary: renamed, `modelops/track: canary` on it, its selector and its pods, `replicas` pods. */
export function toCanary(deployment: KubeObject, replicas: number): KubeObject {
  const copy = structuredClone(deployment) as KubeObject & { spec: any };
  copy.metadata.name = canaryName(deployment.metadata.name);
  copy.metadata.labels = {
    ...(copy.metadata.labels ?? {}),
    [LABEL_TRACK]: TRACK_CANARY,
  };
  const spec = copy.spec;
  spec.replicas = replicas;
  spec.selector = {
    ...(spec.selector ?? {}),
    matchLabels: {
      ...(spec.selector?.matchLabels ?? {}),
      [LABEL_TRACK]: TRACK_CANARY,
    },
  };
  spec.template = spec.template ?? {};
  spec.template.metadata = spec.template.metadata ?? {};
  spec.template.metadata.labels = {
    ...(spec.template.metadata.labels ?? {}),
    [LABEL_TRACK]: TRACK_CANARY,
  };
  return copy;
}

/** What a canary deploy applies, and the canary it makes. */
export interface CanaryPlan {
  /** The canary Deployments, to apply instead of the release's objects. */
  objects: ResolvedObject[];
  canary: AnalysisCanary;
}

/**
 * Plans a canary release of `resolved` (the release's rendered, checked
 * objects): one canary per Deployment of the release that runs the model
 * and has a stable Deployment serving in the namespace. Refuses (400) a
 * release without such a Deployment or with an InferenceService (KServe
 * splits traffic itself: `canaryTrafficPercent`), and (409) one whose
 * stable Deployment is missing or not serving.
 */
export async function planCanary(
  client: ClusterClient,
  options: {
    resolved: readonly ResolvedObject[];
    namespace: string;
    imageRepository?: string;
    percent: number;
  },
): Promise<CanaryPlan> {
  const { resolved, namespace, percent } = options;
  if (resolved.some(r => r.object.kind === 'InferenceService'))
    throw new InputError(
      'Invalid deploy request: analysis.canaryPercent canaries Deployments; an InferenceService splits its own traffic, set spec.predictor.canaryTrafficPercent in its manifest instead',
    );
  const models = resolved.filter(
    r =>
      r.object.kind === 'Deployment' &&
      !isCanary(r.object) &&
      modelImageOf([r.object], options.imageRepository) !== undefined,
  );
  if (!models.length)
    throw new InputError(
      'Invalid deploy request: analysis.canaryPercent needs a Deployment running the model in the manifests; they have none',
    );
  const names = new Set(
    resolved.map(r => `${r.object.kind}/${r.object.metadata.name}`),
  );
  const objects: ResolvedObject[] = [];
  let replicas = 0;
  let stableReplicas = 0;
  for (const model of models) {
    const name = canaryName(model.object.metadata.name);
    if (names.has(`Deployment/${name}`) || name.length > MAX_CANARY_NAME)
      throw new InputError(
        `Invalid deploy request: the canary of Deployment ${model.object.metadata.name} would be named ${name}, which the manifests already use or which is too long; rename the Deployment to release it as a canary`,
      );
    const live = await client.get(
      model.resource,
      namespace,
      model.object.metadata.name,
    );
    const available = Number((live?.status as any)?.availableReplicas ?? 0);
    if (!live || isCanary(live) || available < 1)
      throw new ConflictError(
        `Cannot release a canary: Deployment ${model.object.metadata.name} ${
          live ? 'has no available pods' : 'does not exist'
        } in ${namespace} on cluster ${
          client.name
        }, so there is no stable release to compare the canary with; deploy without a canary first`,
      );
    const stable = Number((live.spec as any)?.replicas ?? 1);
    const count = canaryReplicas(Math.max(stable, 1), percent);
    objects.push({ ...model, object: toCanary(model.object, count) });
    replicas += count;
    stableReplicas += stable;
  }
  return {
    objects,
    canary: {
      percent,
      replicas,
      stableReplicas,
      share: replicas / (replicas + stableReplicas),
      deployments: objects.map(o => o.object.metadata.name),
    },
  };
}

/**
 * Deletes the canary Deployments of one revision (their ReplicaSets and
 * pods follow); a canary of another revision (a newer canary release reuses
 * the name) is left. Answers the names deleted.
 */
export async function removeCanary(
  client: ClusterClient,
  options: { namespace: string; kubernetesId: string; revision: number },
): Promise<string[]> {
  const index = await client.discover();
  const deploymentRes = index.lookup('apps/v1', 'Deployment');
  if (!deploymentRes) return [];
  const canaries = await client.list(deploymentRes, options.namespace, {
    labelSelector: `${LABEL_KUBERNETES_ID}=${options.kubernetesId},${LABEL_TRACK}=${TRACK_CANARY}`,
  });
  const removed: string[] = [];
  for (const c of canaries) {
    if (
      c.metadata.annotations?.[ANNOTATION_REVISION] !== String(options.revision)
    )
      continue;
    if (await client.delete(deploymentRes, options.namespace, c.metadata.name))
      removed.push(c.metadata.name);
  }
  return removed;
}
