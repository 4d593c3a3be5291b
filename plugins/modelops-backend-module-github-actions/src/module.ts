import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  DefaultGithubCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import { modelOpsImageBuildersExtensionPoint } from '@modelops/plugin-modelops-node';
import { readGithubActionsConfig } from './config';
import { GithubActionsBuilder } from './GithubActionsBuilder';

/**
 * Adds the `github-actions` image builder to the ModelOps backend: a build
 * dispatches a workflow in the model service's GitHub repository. Needs no
 * configuration of its own and does not call GitHub until a build is
 * triggered; credentials come from `integrations.github`.
 * @public
 */
export const modelOpsModuleGithubActions = createBackendModule({
  pluginId: 'modelops',
  moduleId: 'github-actions',
  register(reg) {
    reg.registerInit({
      deps: {
        config: coreServices.rootConfig,
        builders: modelOpsImageBuildersExtensionPoint,
      },
      async init({ config, builders }) {
        const integrations = ScmIntegrations.fromConfig(config);
        builders.addImageBuilder(
          new GithubActionsBuilder({
            config: readGithubActionsConfig(config),
            integrations,
            credentials:
              DefaultGithubCredentialsProvider.fromIntegrations(integrations),
          }),
        );
      },
    });
  },
});
