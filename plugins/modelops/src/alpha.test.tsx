import { Entity } from '@backstage/catalog-model';
import {
  ApiBlueprint,
  coreExtensionData,
} from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  mockApis,
  registerMswTestHooks,
  renderTestApp,
} from '@backstage/frontend-test-utils';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';
import { createTestEntityPage } from '@backstage/plugin-catalog-react/testUtils';
import { ModelOpsClient } from '@modelops/plugin-modelops-common';
import { screen } from '@testing-library/react';
import {
  BACKEND_BASE_URL,
  createModelOpsBackend,
  deploymentTabHandlers,
  environmentsHandler,
  environmentsResponse,
  modelServiceEntity,
} from './__testUtils__/modelOpsBackend';
import plugin from './alpha';
import { modelOpsApiRef } from './api';

const website: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'storefront' },
  spec: { type: 'website' },
};
const modelServiceApi: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'API',
  metadata: { name: 'fraud-scorer-api' },
  spec: { type: 'model-service' },
};

describe('modelops alpha plugin (new frontend system)', () => {
  it('has the plugin id modelops', () => {
    expect(plugin.id).toBe('modelops');
  });

  describe.each([
    [
      'entity-content:modelops/deployment',
      '/model-deployment',
      'Model deployment',
    ],
    ['entity-content:modelops/monitoring', '/model-monitoring', 'Monitoring'],
  ] as const)('%s', (id, path, title) => {
    const extension = plugin.getExtension(id);

    it(`is mounted at ${path} with the title "${title}"`, () => {
      const tester = createExtensionTester(extension);
      expect(tester.get(coreExtensionData.routePath)).toBe(path);
      expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe(title);
    });

    it('shows only on model-service components', () => {
      const filter = createExtensionTester(extension).get(
        EntityContentBlueprint.dataRefs.filterFunction,
      )!;
      expect(filter).toBeInstanceOf(Function);
      expect(filter(modelServiceEntity)).toBe(true);
      expect(
        filter({
          ...modelServiceEntity,
          kind: 'component',
          spec: { type: 'Model-Service' },
        }),
      ).toBe(true);
      expect(filter(website)).toBe(false);
      expect(filter(modelServiceApi)).toBe(false);
    });

    it('lets app-config move it to another path', () => {
      const tester = createExtensionTester(extension, {
        config: { path: '/ml' },
      });
      expect(tester.get(coreExtensionData.routePath)).toBe('/ml');
    });
  });

  it('provides an entity card for model services', () => {
    const filter = createExtensionTester(
      plugin.getExtension('entity-card:modelops/health'),
    ).get(EntityCardBlueprint.dataRefs.filterFunction)!;
    expect(filter(modelServiceEntity)).toBe(true);
    expect(filter(website)).toBe(false);
  });

  it('mounts the health overview page at /model-health', () => {
    const tester = createExtensionTester(plugin.getExtension('page:modelops'));
    expect(tester.get(coreExtensionData.routePath)).toBe('/model-health');
    expect(tester.get(coreExtensionData.title)).toBe('Model health');
  });

  it('provides the ModelOpsEnvironmentPicker template form field', async () => {
    const loader = createExtensionTester(
      plugin.getExtension('scaffolder-form-field:modelops/environment-picker'),
    ).get(FormFieldBlueprint.dataRefs.formFieldLoader);
    expect(await loader()).toMatchObject({
      name: 'ModelOpsEnvironmentPicker',
    });
  });

  it('registers an API factory that builds the ModelOps client', () => {
    const factory = createExtensionTester(
      plugin.getExtension('api:modelops'),
    ).get(ApiBlueprint.dataRefs.factory);
    expect(factory.api.id).toBe(modelOpsApiRef.id);
    expect(Object.keys(factory.deps).sort()).toEqual([
      'discoveryApi',
      'fetchApi',
    ]);
    const client = factory.factory({
      discoveryApi: mockApis.discovery(),
      fetchApi: { fetch: jest.fn() },
    });
    expect(client).toBeInstanceOf(ModelOpsClient);
  });

  describe('rendered on an entity page (backend simulated with msw)', () => {
    const server = createModelOpsBackend();
    registerMswTestHooks(server);

    const extensions = [
      plugin.getExtension('api:modelops'),
      plugin.getExtension('entity-content:modelops/deployment'),
    ];
    const apis = [
      mockApis.discovery({ baseUrl: BACKEND_BASE_URL }),
      mockApis.permission(),
    ] as const;

    it('renders the deployment tab through the plugin API for a model service', async () => {
      const requested: string[] = [];
      server.use(
        environmentsHandler(environmentsResponse, requested),
        ...deploymentTabHandlers(),
      );

      renderTestApp({
        extensions: [
          createTestEntityPage({ entity: modelServiceEntity }),
          ...extensions,
        ],
        apis,
      });

      expect(
        await screen.findByText('Deployment contract'),
      ).toBeInTheDocument();
      expect(await screen.findByText('dev-cluster')).toBeInTheDocument();
      expect(screen.getByText('prod-eu-1')).toBeInTheDocument();
      // Live status and history come from the deployment routes.
      expect(await screen.findByText('Not deployed')).toBeInTheDocument();
      expect(
        await screen.findByText(
          'No deployments yet. Deploy an image to start the history.',
        ),
      ).toBeInTheDocument();
      expect(requested).toEqual(['component:default/fraud-scorer']);
    });

    it('leaves the tab out for entities that are not model services', async () => {
      const requested: string[] = [];
      server.use(environmentsHandler(environmentsResponse, requested));

      renderTestApp({
        extensions: [createTestEntityPage({ entity: website }), ...extensions],
        apis,
      });

      expect(
        await screen.findByTestId('empty-entity-page'),
      ).toBeInTheDocument();
      expect(screen.queryByText('Deployment contract')).not.toBeInTheDocument();
      expect(requested).toEqual([]);
    });
  });
});
