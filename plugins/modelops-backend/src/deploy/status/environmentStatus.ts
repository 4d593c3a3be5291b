import {
  DeploymentStatusResponse,
  EnvironmentStatus,
} from '@modelops/plugin-modelops-common';
import { DeploymentStore, toRecord } from '../../database/DeploymentStore';
import { ClusterClients } from '../../kubernetes/ClusterClients';
import { ModelServiceTarget } from '../../service/entities';
import { EnvironmentService } from '../../service/EnvironmentService';
import { readRolloutStatus } from './status';

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The status of a model service in every environment: its last successful
 * deploy and the live rollout. A cluster that cannot be asked is an error
 * in its environment only.
 */
export async function environmentStatuses(options: {
  target: ModelServiceTarget;
  environments: EnvironmentService;
  store: DeploymentStore;
  clusters: ClusterClients;
}): Promise<DeploymentStatusResponse> {
  const { target } = options;
  const resolved = options.environments.resolve({ target });
  const { contract } = target;
  const environments = await Promise.all(
    resolved.environments.map(async (env): Promise<EnvironmentStatus> => {
      const lastDeployment = await options.store.lastSuccessful({
        entityRef: resolved.entityRef,
        environment: env.name,
      });
      const base: EnvironmentStatus = {
        environment: env.name,
        cluster: env.cluster,
        namespace: env.namespace,
        phase: 'Unknown',
        conditions: [],
        problems: [],
        lastDeployment: lastDeployment ? toRecord(lastDeployment) : undefined,
      };
      if (env.error) {
        return { ...base, error: env.error };
      }
      if (!contract.kubernetesId) {
        return {
          ...base,
          error: {
            reason: 'MissingAnnotation',
            message:
              'The entity has no backstage.io/kubernetes-id annotation, so its workloads cannot be found',
          },
        };
      }
      try {
        const live = await readRolloutStatus(
          options.clusters.get(env.cluster),
          {
            namespace: env.namespace,
            kubernetesId: contract.kubernetesId,
            imageRepository: contract.image,
          },
        );
        return { ...base, ...live };
      } catch (error) {
        // An unreachable cluster says when it last answered, for the tab.
        const { lastReachableAt } = error as { lastReachableAt?: string };
        return {
          ...base,
          error: {
            reason: (error as Error)?.name ?? 'Error',
            message: errorMessage(error),
            ...(lastReachableAt ? { lastReachableAt } : {}),
          },
        };
      }
    }),
  );
  return { entityRef: resolved.entityRef, environments };
}
