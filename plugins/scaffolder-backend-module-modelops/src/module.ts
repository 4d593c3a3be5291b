import { createBackendModule } from '@backstage/backend-plugin-api';
import { actionsRegistryServiceRef } from '@backstage/backend-plugin-api/alpha';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { modelOpsServiceRef } from '@modelops/plugin-modelops-node';
import { registerModelOpsActions } from './actions/registryActions';
import {
  createModelOpsCheckEnvironmentsAction,
  createModelOpsDeployAction,
  createModelOpsTriggerBuildAction,
} from './actions/templateActions';

/**
 * Adds the `modelops:build:trigger`, `modelops:deploy` and
 * `modelops:environments:check` actions to the scaffolder, and the same two operations to the actions registry
 * (`scaffolder:modelops-trigger-build`, `scaffolder:modelops-deploy`). Every
 * call to ModelOps is made as the user (or agent) who runs them.
 * @public
 */
export const scaffolderModuleModelOps = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'modelops',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        actionsRegistry: actionsRegistryServiceRef,
        modelOps: modelOpsServiceRef,
      },
      async init({ scaffolder, actionsRegistry, modelOps }) {
        scaffolder.addActions(
          createModelOpsTriggerBuildAction({ modelOps }),
          createModelOpsDeployAction({ modelOps }),
          createModelOpsCheckEnvironmentsAction({ modelOps }),
        );
        registerModelOpsActions(actionsRegistry, { modelOps });
      },
    });
  },
});
