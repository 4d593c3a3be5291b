import { escapeRegex, isLabelValue } from '@modelops/plugin-modelops-common';
import { ClusterClient } from '../kubernetes/ClusterClient';
import { KubeObject, ResourceInfo } from '../kubernetes/types';
import {
  ANNOTATION_REVISION,
  isCanary,
  LABEL_KUBERNETES_ID,
} from '../deploy/labels';

/** The Deployment controller's revision of a Deployment and its ReplicaSets. */
const K8S_REVISION = 'deployment.kubernetes.io/revision';

/** Which pods serve one ModelOps revision, or why that is not known. */
export type RevisionPods =
  /** A regular expression for the `pod` label: the revision's ReplicaSets' pods. */
  | { podPattern: string; replicaSets: string[] }
  /** Not yet: the Deployment controller has not made the new ReplicaSet. */
  | { waiting: string }
  /** Never again: another revision replaced this one, or it is gone. */
  | { gone: string };

interface OwnerReference {
  kind?: string;
  uid?: string;
}
const uidOf = (o: KubeObject) => o.metadata.uid as string | undefined;
const ownersOf = (o: KubeObject) =>
  (o.metadata.ownerReferences ?? []) as OwnerReference[];
const generationOf = (o: KubeObject) =>
  typeof o.metadata.generation === 'number' ? o.metadata.generation : 0;

function revisionOf(o: KubeObject): number | undefined {
  const v = Number(o.metadata.annotations?.[ANNOTATION_REVISION]);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/** The service's Deployments in a namespace, and how to list their ReplicaSets; or why there are none. */
async function serviceDeployments(
  client: ClusterClient,
  options: { namespace: string; kubernetesId: string },
): Promise<
  | {
      deployments: KubeObject[];
      list: {
        namespace: string;
        labelSelector: string;
        replicaSetRes: ResourceInfo;
      };
    }
  | { gone: string }
> {
  const { namespace, kubernetesId } = options;
  if (!isLabelValue(kubernetesId))
    return { gone: `"${kubernetesId}" is not a valid label value` };
  const labelSelector = `${LABEL_KUBERNETES_ID}=${kubernetesId}`;
  const index = await client.discover();
  const deploymentRes = index.lookup('apps/v1', 'Deployment');
  const replicaSetRes = index.lookup('apps/v1', 'ReplicaSet');
  if (!deploymentRes || !replicaSetRes)
    return { gone: 'the cluster serves no apps/v1 Deployments' };
  return {
    deployments: await client.list(deploymentRes, namespace, { labelSelector }),
    list: { namespace, labelSelector, replicaSetRes },
  };
}

/**
 * Finds the pods of one deployed revision: the Deployments ModelOps applied
 * at that revision, and of each the ReplicaSet the Deployment controller
 * made for its current template. Pods are named after their ReplicaSet, so
 * `<replicaset>-<suffix>` selects exactly the revision's pods in the metrics
 * (a pod replaced during the analysis included), and none of the stable
 * ones.
 */
export async function revisionPods(
  client: ClusterClient,
  options: { namespace: string; kubernetesId: string; revision: number },
): Promise<RevisionPods> {
  const { namespace, kubernetesId, revision } = options;
  const found = await serviceDeployments(client, options);
  if ('gone' in found) return found;
  const mine = found.deployments.filter(d => revisionOf(d) === revision);
  if (!mine.length) {
    const newer = found.deployments
      .map(revisionOf)
      .filter((r): r is number => r !== undefined && r > revision);
    return {
      gone: newer.length
        ? `revision ${Math.max(...newer)} replaced revision ${revision}`
        : `no Deployment of ${kubernetesId} in ${namespace} is at revision ${revision}; an analysis watches Deployments only`,
    };
  }
  return currentPods(client, found.list, mine);
}

/**
 * The pods of the stable Deployments of a canary release (every Deployment
 * of the service but the canaries), to compare the canary with.
 */
export async function stablePods(
  client: ClusterClient,
  options: { namespace: string; kubernetesId: string },
): Promise<RevisionPods> {
  const found = await serviceDeployments(client, options);
  if ('gone' in found) return found;
  const stable = found.deployments.filter(d => !isCanary(d));
  if (!stable.length)
    return {
      gone: `no stable Deployment of ${options.kubernetesId} in ${options.namespace}`,
    };
  return currentPods(client, found.list, stable);
}

/** The pods of each Deployment's ReplicaSet for its current template. */
async function currentPods(
  client: ClusterClient,
  options: {
    namespace: string;
    labelSelector: string;
    replicaSetRes: ResourceInfo;
  },
  deployments: KubeObject[],
): Promise<RevisionPods> {
  for (const d of deployments) {
    const status = (d.status ?? {}) as { observedGeneration?: number };
    if ((status.observedGeneration ?? 0) < generationOf(d))
      return {
        waiting: `the Deployment controller has not yet seen ${d.metadata.name}'s new template`,
      };
  }
  const replicaSets = await client.list(
    options.replicaSetRes,
    options.namespace,
    { labelSelector: options.labelSelector },
  );
  const names: string[] = [];
  for (const d of deployments) {
    const wanted = d.metadata.annotations?.[K8S_REVISION];
    const rs = replicaSets.find(
      r =>
        ownersOf(r).some(o => o.kind === 'Deployment' && o.uid === uidOf(d)) &&
        r.metadata.annotations?.[K8S_REVISION] === wanted,
    );
    if (!wanted || !rs)
      return {
        waiting: `no ReplicaSet of ${d.metadata.name} for its current template yet`,
      };
    names.push(rs.metadata.name);
  }
  return {
    replicaSets: names,
    podPattern: names.map(n => `${escapeRegex(n)}-[a-z0-9]+`).join('|'),
  };
}
