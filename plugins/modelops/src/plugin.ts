import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import {
  FieldExtensionComponent,
  createScaffolderFieldExtension,
} from '@backstage/plugin-scaffolder-react';
import { ModelOpsClient } from '@modelops/plugin-modelops-common';
import { modelOpsApiRef } from './api';
import { deploymentRouteRef, monitoringRouteRef, rootRouteRef } from './routes';
import {
  ENVIRONMENT_PICKER_FIELD,
  EnvironmentPicker,
  environmentPickerValidation,
} from './components/EnvironmentPicker';
import type { EntityModelDeploymentContentProps } from './components/EntityModelDeploymentContent/EntityModelDeploymentContent';

/**
 * The ModelOps frontend plugin.
 * @public
 */
export const modelOpsPlugin = createPlugin({
  id: 'modelops',
  apis: [
    createApiFactory({
      api: modelOpsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new ModelOpsClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { root: rootRouteRef },
});

/**
 * The health overview of every model service in the catalog.
 * @public
 */
export const ModelHealthOverviewPage: () => JSX.Element =
  modelOpsPlugin.provide(
    createRoutableExtension({
      name: 'ModelHealthOverviewPage',
      component: () =>
        import('./components/ModelHealthOverviewPage').then(
          m => m.ModelHealthOverviewPage,
        ),
      mountPoint: rootRouteRef,
    }),
  );

/**
 * The Model deployment tab of a model service.
 * @public
 */
export const EntityModelDeploymentContent: (
  props: EntityModelDeploymentContentProps,
) => JSX.Element = modelOpsPlugin.provide(
  createRoutableExtension({
    name: 'EntityModelDeploymentContent',
    component: () =>
      import('./components/EntityModelDeploymentContent').then(
        m => m.EntityModelDeploymentContent,
      ),
    mountPoint: deploymentRouteRef,
  }),
);

/**
 * The Monitoring tab of a model service.
 * @public
 */
export const EntityModelMonitoringContent: () => JSX.Element =
  modelOpsPlugin.provide(
    createRoutableExtension({
      name: 'EntityModelMonitoringContent',
      component: () =>
        import('./components/EntityModelMonitoringContent').then(
          m => m.EntityModelMonitoringContent,
        ),
      mountPoint: monitoringRouteRef,
    }),
  );

/**
 * A card for the entity overview: contract and environments of a model service.
 * @public
 */
export const EntityModelHealthCard: () => JSX.Element = modelOpsPlugin.provide(
  createComponentExtension({
    name: 'EntityModelHealthCard',
    component: {
      lazy: () =>
        import('./components/EntityModelHealthCard').then(
          m => m.EntityModelHealthCard,
        ),
    },
  }),
);

/**
 * A software template form field that chooses ModelOps environments
 * (`ui:field: ModelOpsEnvironmentPicker` on an array of strings): it offers
 * the environments configured in the backend and refuses, before the task
 * starts, any that is not configured. Add it to the scaffolder page inside
 * `<ScaffolderFieldExtensions>`.
 * @public
 */
export const ModelOpsEnvironmentPickerFieldExtension: FieldExtensionComponent<
  string[],
  {}
> = modelOpsPlugin.provide(
  createScaffolderFieldExtension({
    name: ENVIRONMENT_PICKER_FIELD,
    component: EnvironmentPicker,
    validation: environmentPickerValidation,
    schema: {
      returnValue: { type: 'array', items: { type: 'string' } },
    },
  }),
);
