import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  EntityEnvironmentsResponse,
  ModelOpsEnvironment,
  readModelServiceContract,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import { KnownClusters } from './clusters';

/** Resolves which environments, clusters and namespaces an entity deploys to. */
export class EnvironmentService {
  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      clusters: KnownClusters;
    },
  ) {}

  /** Names of the configured environments, in configuration order. */
  environmentNames(): string[] {
    return Object.keys(this.options.config.environments);
  }

  resolve(options: { entity: Entity }): EntityEnvironmentsResponse {
    const { entity } = options;
    const contract = readModelServiceContract(entity);
    const { clusters } = this.options;
    const environments = Object.entries(this.options.config.environments).map(
      ([name, env]): ModelOpsEnvironment => {
        const namespaceValid = !contract.problems.some(
          p => p.annotation === 'backstage.io/kubernetes-namespace',
        );
        const fromAnnotation = Boolean(
          contract.namespaceOverride && namespaceValid,
        );
        const resolved: ModelOpsEnvironment = {
          name,
          cluster: env.cluster,
          namespace: fromAnnotation
            ? contract.namespaceOverride!
            : env.namespace,
          namespaceSource: fromAnnotation ? 'annotation' : 'environment',
        };
        if (clusters.complete && !clusters.names.has(env.cluster)) {
          resolved.error = {
            reason: 'ClusterNotConfigured',
            message: `Environment "${name}" uses cluster "${
              env.cluster
            }", which is not configured in kubernetes.clusterLocatorMethods${
              clusters.names.size
                ? ` (configured: ${[...clusters.names].join(', ')})`
                : ''
            }`,
          };
        }
        return resolved;
      },
    );
    return {
      entityRef: stringifyEntityRef(entity),
      kubernetesId: contract.kubernetesId,
      runtime: contract.runtime,
      problems: contract.problems,
      environments,
    };
  }
}
