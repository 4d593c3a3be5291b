import { randomUUID } from 'node:crypto';
import { ActionsRegistryService } from '@backstage/backend-plugin-api/alpha';
import {
  triggerBuildInputSchema,
  triggerBuildOutputSchema,
  triggerModelBuild,
} from './build';
import { ModelOpsActionsOptions } from './common';
import { deployInputSchema, deployModel, deployOutputSchema } from './deploy';

/** The name of the build action in the actions registry. */
export const TRIGGER_BUILD_REGISTRY_NAME = 'modelops-trigger-build';
/** The name of the deploy action in the actions registry. */
export const DEPLOY_REGISTRY_NAME = 'modelops-deploy';

/**
 * Registers the build and deploy operations in the actions registry, for
 * agents and other callers of the actions service. They run with the
 * credentials the registry passes on, under the same ModelOps permission
 * checks as the template actions.
 */
export function registerModelOpsActions(
  registry: ActionsRegistryService,
  options: ModelOpsActionsOptions,
): void {
  registry.register({
    name: TRIGGER_BUILD_REGISTRY_NAME,
    title: 'Build a model service image',
    description:
      "Builds a model service's image through ModelOps as the caller, optionally deploying it to an environment when the build succeeds. Needs the modelops.build.create permission on the entity (and modelops.deployment.create with deployTo). Returns the build id; with wait, returns once the build has finished and fails when it fails. Pass the same idempotencyKey again to get the same build instead of a second one.",
    attributes: { readOnly: false, destructive: true, idempotent: false },
    schema: {
      input: z =>
        triggerBuildInputSchema(z).extend({
          idempotencyKey: z
            .string()
            .min(1)
            .max(255)
            .optional()
            .describe(
              'Requests with the same key within 10 minutes get the same build; a new key per call when absent.',
            ),
        }),
      output: triggerBuildOutputSchema,
    },
    action: async ({ input, credentials, logger }) => {
      const output = await triggerModelBuild(
        options,
        {
          ...input,
          idempotencyKey: input.idempotencyKey ?? `actions:${randomUUID()}`,
        },
        { credentials, logger },
      );
      return { output };
    },
  });

  registry.register({
    name: DEPLOY_REGISTRY_NAME,
    title: 'Deploy a model service',
    description:
      'Deploys a model service to a ModelOps environment as the caller: either an image or the image a succeeded build pushed (buildId), not both. Needs the modelops.deployment.create permission on the entity. With dryRun, only previews the change. With wait, returns once the deployed revision is Available and fails when the rollout fails.',
    attributes: { readOnly: false, destructive: true, idempotent: false },
    schema: {
      input: deployInputSchema,
      output: deployOutputSchema,
    },
    action: async ({ input, credentials, logger }) => {
      const output = await deployModel(options, input, {
        credentials,
        logger,
      });
      return { output };
    },
  });
}
