import { InputError } from '@backstage/errors';
import {
  ConfiguredEnvironment,
  EntityEnvironmentsResponse,
  ModelOpsEnvironment,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import { KnownClusters } from '../kubernetes/ClusterClients';
import { ModelServiceTarget } from './entities';

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

  /**
   * The configured environments before any entity's annotations apply, each
   * with its default namespace and an error when its cluster is unknown.
   */
  configured(): ConfiguredEnvironment[] {
    return Object.entries(this.options.config.environments).map(
      ([name, env]) => {
        const error = this.clusterError(name, env.cluster);
        return {
          name,
          cluster: env.cluster,
          namespace: env.namespace,
          ...(error ? { error } : {}),
        };
      },
    );
  }

  private clusterError(
    environment: string,
    cluster: string,
  ): ModelOpsEnvironment['error'] {
    const { clusters } = this.options;
    if (!clusters.complete || clusters.names.has(cluster)) return undefined;
    return {
      reason: 'ClusterNotConfigured',
      message: `Environment "${environment}" uses cluster "${cluster}", which is not configured in kubernetes.clusterLocatorMethods${
        clusters.names.size
          ? ` (configured: ${[...clusters.names].join(', ')})`
          : ''
      }`,
    };
  }

  /**
   * Resolves one environment of an entity. Unknown names are a 400 that
   * lists the configured ones; an environment whose cluster is not
   * configured is a 400 with the reason.
   */
  resolveOne(options: {
    target: ModelServiceTarget;
    environment: string;
  }): ModelOpsEnvironment {
    const resolved = this.resolve({ target: options.target });
    const env = resolved.environments.find(e => e.name === options.environment);
    if (!env) {
      throw new InputError(
        `Unknown environment "${options.environment}" for ${
          resolved.entityRef
        }; configured environments: ${
          resolved.environments.map(e => e.name).join(', ') || 'none'
        }`,
      );
    }
    if (env.error) {
      throw new InputError(env.error.message);
    }
    return env;
  }

  resolve(options: { target: ModelServiceTarget }): EntityEnvironmentsResponse {
    const { ref, contract } = options.target;
    const environments = Object.entries(this.options.config.environments).map(
      ([name, env]): ModelOpsEnvironment => {
        const namespaceValid = !contract.problems.some(
          p => p.annotation === 'backstage.io/kubernetes-namespace',
        );
        const override =
          contract.namespaceOverride && namespaceValid
            ? contract.namespaceOverride
            : undefined;
        const allowed = env.allowedNamespaces ?? [env.namespace];
        const fromAnnotation = Boolean(
          override && override !== env.namespace && allowed.includes(override),
        );
        const resolved: ModelOpsEnvironment = {
          name,
          cluster: env.cluster,
          namespace: fromAnnotation
            ? contract.namespaceOverride!
            : env.namespace,
          namespaceSource: fromAnnotation ? 'annotation' : 'environment',
        };
        if (
          override &&
          override !== env.namespace &&
          !allowed.includes(override)
        ) {
          resolved.error = {
            reason: 'NamespaceNotAllowed',
            message: `backstage.io/kubernetes-namespace "${override}" is not allowed in environment "${name}" (allowed: ${allowed.join(
              ', ',
            )}); a platform engineer can add it to modelops.environments.${name}.allowedNamespaces`,
          };
        } else {
          const error = this.clusterError(name, env.cluster);
          if (error) resolved.error = error;
        }
        return resolved;
      },
    );
    return {
      entityRef: ref,
      kubernetesId: contract.kubernetesId,
      runtime: contract.runtime,
      problems: contract.problems,
      environments,
    };
  }
}
