import {
  registerMswTestHooks,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  backstageErrorResponse,
  createModelOpsBackend,
  createModelOpsClient,
  healthQueryHandler,
  healthQueryResponse,
} from '../../__testUtils__/modelOpsBackend';
import { modelOpsApiRef } from '../../api';
import { ModelHealthOverviewPage } from './ModelHealthOverviewPage';

function renderPage() {
  return renderInTestApp(
    <TestApiProvider apis={[[modelOpsApiRef, createModelOpsClient()]]}>
      <ModelHealthOverviewPage />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

function rowOf(text: string) {
  return screen.getByText(text).closest('tr')!;
}

describe('ModelHealthOverviewPage (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  it('asks the backend once for every model service the user may see', async () => {
    const bodies: unknown[] = [];
    server.use(healthQueryHandler(healthQueryResponse, bodies));

    await renderPage();

    await screen.findByText('Fraud scorer');
    expect(bodies).toEqual([{}]);
  });

  it('shows a loading table while the backend answers', async () => {
    server.use(healthQueryHandler(() => new Promise(() => {})));

    await renderPage();

    expect(screen.getByText('Model health')).toBeInTheDocument();
    expect(screen.getByRole('progressbar')).toBeInTheDocument();
    expect(screen.queryByText(/No model services/)).not.toBeInTheDocument();
  });

  it('lists each service worst first with its status per environment, worst signal, latency, error rate and drift', async () => {
    server.use(healthQueryHandler(healthQueryResponse));

    await renderPage();

    const fraud = await waitFor(() => rowOf('Fraud scorer'));
    const rows = screen.getAllByRole('row').slice(1);
    expect(
      rows.map(r => within(r).queryAllByRole('link')[0]?.textContent),
    ).toEqual(['Fraud scorer', 'churn-model', 'image-classifier', 'ranker']);
    expect(
      within(fraud).getByRole('link', { name: 'ml-platform' }),
    ).toHaveAttribute('href', '/catalog/default/group/ml-platform');
    expect(within(fraud).getByText('payments')).toBeInTheDocument();
    expect(within(fraud).getByText('production')).toBeInTheDocument();
    expect(
      within(fraud)
        .getByText('critical')
        .closest('[aria-label="Status error"]'),
    ).not.toBeNull();
    expect(
      within(fraud).getByText('dev').closest('[aria-label="Status error"]'),
    ).not.toBeNull();
    expect(
      within(fraud).getByText('prod').closest('[aria-label="Status ok"]'),
    ).not.toBeNull();
    // The worst signal links into the service's Monitoring tab.
    expect(
      within(fraud).getByRole('link', { name: 'dev: drift' }),
    ).toHaveAttribute(
      'href',
      '/catalog/default/component/fraud-scorer/model-monitoring',
    );
    // The largest value over the environments.
    expect(within(fraud).getByText('p95 120 ms')).toBeInTheDocument();
    expect(within(fraud).getByText('0.20 %')).toBeInTheDocument();
    expect(within(fraud).getByText('0.31')).toBeInTheDocument();

    const triton = rowOf('image-classifier');
    expect(within(triton).getByText('mean 45 ms')).toBeInTheDocument();
    const ranker = rowOf('ranker');
    expect(
      within(ranker).getByText(
        'dev: no series match {cluster="dev-cluster",namespace="growth",backstage_io_kubernetes_id="ranker"}',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText(/Over the last 5m; read at/)).toBeInTheDocument();
  });

  it('filters by status', async () => {
    server.use(healthQueryHandler(healthQueryResponse));
    await renderPage();
    await screen.findByText('Fraud scorer');

    await userEvent.click(screen.getByRole('button', { name: 'filter list' }));
    const panel = screen
      .getByText('Clear all')
      .closest('[class*="BackstageTableFilters-root"]') as HTMLElement;
    // Owner, System, Lifecycle, Status: one select each, in that order.
    const selects = within(panel).getAllByRole('button', {
      name: /All results/,
    });
    expect(selects).toHaveLength(4);
    await userEvent.click(selects[3]);
    await userEvent.click(
      await screen.findByRole('option', { name: 'critical' }),
    );
    await waitFor(() =>
      expect(screen.queryByText('churn-model')).not.toBeInTheDocument(),
    );
    expect(screen.getByText('Fraud scorer')).toBeInTheDocument();
  });

  it('explains how to add a model service when there is none', async () => {
    server.use(healthQueryHandler({ ...healthQueryResponse, items: [] }));

    await renderPage();

    expect(
      await screen.findByText(/No model services you may see yet/),
    ).toBeInTheDocument();
  });

  it("shows the backend's error instead of the table", async () => {
    server.use(
      healthQueryHandler(() =>
        backstageErrorResponse({
          status: 503,
          name: 'ServiceUnavailableError',
          message: 'catalog is unavailable',
          url: '/api/modelops/health/query',
        }),
      ),
    );

    await renderPage();

    expect(
      (await screen.findAllByText(/catalog is unavailable/)).length,
    ).toBeGreaterThan(0);
    expect(screen.queryByText('Owner')).not.toBeInTheDocument();
  });
});
