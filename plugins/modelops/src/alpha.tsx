/**
 * ModelOps for the new Backstage frontend system.
 *
 * @packageDocumentation
 */
import {
  compatWrapper,
  convertLegacyRouteRef,
} from '@backstage/core-compat-api';
import {
  ApiBlueprint,
  PageBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';
import {
  ModelOpsClient,
  isModelService,
} from '@modelops/plugin-modelops-common';
import { modelOpsApiRef } from './api';
import { rootRouteRef } from './routes';

const modelOpsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: modelOpsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new ModelOpsClient({ discoveryApi, fetchApi }),
    }),
});

const modelDeploymentContent = EntityContentBlueprint.make({
  name: 'deployment',
  params: {
    path: '/model-deployment',
    title: 'Model deployment',
    filter: isModelService,
    loader: () =>
      import('./components/EntityModelDeploymentContent').then(m =>
        compatWrapper(<m.EntityModelDeploymentContent />),
      ),
  },
});

const modelMonitoringContent = EntityContentBlueprint.make({
  name: 'monitoring',
  params: {
    path: '/model-monitoring',
    title: 'Monitoring',
    filter: isModelService,
    loader: () =>
      import('./components/EntityModelMonitoringContent').then(m =>
        compatWrapper(<m.EntityModelMonitoringContent />),
      ),
  },
});

const modelHealthCard = EntityCardBlueprint.make({
  name: 'health',
  params: {
    filter: isModelService,
    loader: () =>
      import('./components/EntityModelHealthCard').then(m =>
        compatWrapper(<m.EntityModelHealthCard />),
      ),
  },
});

const modelHealthPage = PageBlueprint.make({
  params: {
    path: '/model-health',
    title: 'Model health',
    routeRef: convertLegacyRouteRef(rootRouteRef),
    loader: () =>
      import('./components/ModelHealthOverviewPage').then(m =>
        compatWrapper(<m.ModelHealthOverviewPage />),
      ),
  },
});

/** The `ModelOpsEnvironmentPicker` field of software template forms. */
const environmentPickerField = FormFieldBlueprint.make({
  name: 'environment-picker',
  params: {
    field: () =>
      import('./components/EnvironmentPicker/formField').then(
        m => m.environmentPickerFormField,
      ),
  },
});

/**
 * The ModelOps plugin for the new frontend system.
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'modelops',
  routes: { root: convertLegacyRouteRef(rootRouteRef) },
  extensions: [
    modelOpsApi,
    modelDeploymentContent,
    modelMonitoringContent,
    modelHealthCard,
    modelHealthPage,
    environmentPickerField,
  ],
});
