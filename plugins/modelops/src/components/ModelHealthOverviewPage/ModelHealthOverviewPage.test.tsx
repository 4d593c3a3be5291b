import { Entity } from '@backstage/catalog-model';
import { TestApiProvider, renderInTestApp } from '@backstage/test-utils';
import { catalogApiRef, entityRouteRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { screen, waitFor, within } from '@testing-library/react';
import { modelServiceEntity } from '../../__testUtils__/modelOpsBackend';
import { ModelHealthOverviewPage } from './ModelHealthOverviewPage';

const churnModel: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'churn-model',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'churn-model',
      'modelops/runtime': 'torchserve',
    },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/growth',
    lifecycle: 'experimental',
  },
};

const website: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'storefront', namespace: 'default' },
  spec: {
    type: 'website',
    owner: 'group:default/web',
    lifecycle: 'production',
  },
};

function renderPage(catalogApi: typeof catalogApiRef.T) {
  return renderInTestApp(
    <TestApiProvider apis={[[catalogApiRef, catalogApi]]}>
      <ModelHealthOverviewPage />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

function rowOf(text: string) {
  return screen.getByText(text).closest('tr')!;
}

describe('ModelHealthOverviewPage (catalog simulated with catalogApiMock)', () => {
  it('asks the catalog for model-service components only', async () => {
    const catalogApi = catalogApiMock.mock({
      getEntities: jest.fn().mockResolvedValue({ items: [] }),
    });

    await renderPage(catalogApi);

    await waitFor(() => expect(catalogApi.getEntities).toHaveBeenCalled());
    expect(catalogApi.getEntities).toHaveBeenCalledWith({
      filter: { kind: 'Component', 'spec.type': 'model-service' },
      order: { field: 'metadata.name', order: 'asc' },
    });
  });

  it('shows a loading table while the catalog answers', async () => {
    const catalogApi = catalogApiMock.mock({
      getEntities: jest.fn().mockReturnValue(new Promise(() => {})),
    });

    await renderPage(catalogApi);

    expect(screen.getByText('Model health')).toBeInTheDocument();
    expect(screen.getByRole('progressbar')).toBeInTheDocument();
    expect(screen.queryByText(/No model services yet/)).not.toBeInTheDocument();
  });

  it('lists the model services of the catalog with owner, system, lifecycle and runtime', async () => {
    await renderPage(
      catalogApiMock({ entities: [modelServiceEntity, churnModel, website] }),
    );

    const fraud = await waitFor(() => rowOf('Fraud scorer'));
    expect(
      within(fraud).getByRole('link', { name: 'ml-platform' }),
    ).toHaveAttribute('href', '/catalog/default/group/ml-platform');
    expect(within(fraud).getByText('payments')).toBeInTheDocument();
    expect(within(fraud).getByText('production')).toBeInTheDocument();
    expect(within(fraud).getByText('kserve')).toBeInTheDocument();
    expect(within(fraud).getByText('complete')).toBeInTheDocument();
    expect(
      within(fraud).getByRole('link', { name: /Fraud scorer/ }),
    ).toHaveAttribute('href', '/catalog/default/component/fraud-scorer');

    const churn = rowOf('churn-model');
    expect(within(churn).getByRole('link', { name: 'growth' })).toHaveAttribute(
      'href',
      '/catalog/default/group/growth',
    );
    expect(within(churn).getByText('—')).toBeInTheDocument(); // no system
    expect(within(churn).getByText('experimental')).toBeInTheDocument();
    expect(within(churn).getByText('generic')).toBeInTheDocument();

    // Not a model service: filtered out by the catalog query.
    expect(screen.queryByText('storefront')).not.toBeInTheDocument();
  });

  it('shows annotation problems per service', async () => {
    await renderPage(
      catalogApiMock({
        entities: [
          churnModel,
          {
            ...churnModel,
            metadata: { name: 'no-id-model', namespace: 'default' },
          },
        ],
      }),
    );

    const churn = await waitFor(() => rowOf('churn-model'));
    const problem = within(churn).getByText(
      'modelops/runtime unknown runtime "torchserve" (known: kserve, seldon, triton, generic)',
    );
    expect(problem.closest('[aria-label="Status warning"]')).not.toBeNull();

    const noId = rowOf('no-id-model');
    expect(
      within(noId).getByText(
        /^backstage.io\/kubernetes-id is required: it names the workload label/,
      ),
    ).toBeInTheDocument();
  });

  it('explains how to add a model service when there is none', async () => {
    await renderPage(catalogApiMock({ entities: [website] }));

    expect(
      await screen.findByText(/No model services yet/),
    ).toBeInTheDocument();
    expect(screen.queryByText('storefront')).not.toBeInTheDocument();
  });

  it('shows the catalog error instead of the table', async () => {
    const catalogApi = catalogApiMock.mock({
      getEntities: jest
        .fn()
        .mockRejectedValue(new Error('catalog is unavailable')),
    });

    await renderPage(catalogApi);

    expect(
      (await screen.findAllByText('catalog is unavailable')).length,
    ).toBeGreaterThan(0);
    expect(screen.queryByText(/No model services yet/)).not.toBeInTheDocument();
    expect(screen.queryByText('Owner')).not.toBeInTheDocument();
  });
});
