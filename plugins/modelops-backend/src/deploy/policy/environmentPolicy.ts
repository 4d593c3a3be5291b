import { ModelOpsConfig } from '../../config';
import { DeployPolicy } from './policy';

/** What one environment allows a deploy to bring and create. */
export interface EnvironmentPolicy extends DeployPolicy {
  environment: string;
  allowInlineManifests: boolean;
  allowedServiceTypes: readonly string[];
  allowExternalIPs: boolean;
}

/**
 * The deploy policy of an environment: `modelops.deployments`, with the
 * environment's own `allowInlineManifests`, `allowedServiceTypes` and
 * `allowExternalIPs` where it sets them.
 */
export function environmentPolicy(
  config: ModelOpsConfig,
  environment: string,
): EnvironmentPolicy {
  const defaults = config.deployments;
  const env = config.environments[environment] ?? {};
  return {
    environment,
    allowInlineManifests:
      env.allowInlineManifests ?? defaults.allowInlineManifests,
    allowedServiceTypes:
      env.allowedServiceTypes ?? defaults.allowedServiceTypes,
    allowExternalIPs: env.allowExternalIPs ?? defaults.allowExternalIPs,
  };
}
