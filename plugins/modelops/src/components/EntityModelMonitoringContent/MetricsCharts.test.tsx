import { registerMswTestHooks } from '@backstage/test-utils';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  backstageErrorResponse,
  createModelOpsBackend,
  metricsHandler,
  metricsResponse,
  modelServiceEntity,
  renderForEntity,
} from '../../__testUtils__/modelOpsBackend';
import { analysisLabel, markerLabel, MetricsCharts } from './MetricsCharts';

function renderCharts() {
  return renderForEntity(
    <MetricsCharts
      entityRef="component:default/fraud-scorer"
      environments={['dev', 'prod']}
    />,
    modelServiceEntity,
  );
}

describe('MetricsCharts (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  it('asks for the last hour of the first environment', async () => {
    const requests: URLSearchParams[] = [];
    server.use(metricsHandler(metricsResponse(), requests));

    await renderCharts();

    await screen.findByText('Traffic');
    expect(requests).toHaveLength(1);
    const q = requests[0];
    expect(q.get('entityRef')).toBe('component:default/fraud-scorer');
    expect(q.get('environment')).toBe('dev');
    expect(Date.parse(q.get('end')!) - Date.parse(q.get('start')!)).toBe(
      3600_000,
    );
  });

  it('draws a chart per signal group, with the SLO line and the deploy marker', async () => {
    server.use(metricsHandler(metricsResponse()));

    await renderCharts();

    const latency = await screen.findByLabelText('Latency chart');
    expect(latency.querySelector('svg')).not.toBeNull();
    expect(within(latency).getByText('SLO 250 ms')).toBeInTheDocument();
    expect(within(latency).getByText('r3 0.1.2')).toBeInTheDocument();
    const drift = screen.getByLabelText('Drift chart');
    expect(within(drift).getByText('SLO PSI 0.20')).toBeInTheDocument();
    // One line per feature, named by it.
    expect(within(drift).getByText('amount')).toBeInTheDocument();
    expect(within(drift).getByText('country')).toBeInTheDocument();
    expect(
      screen.getByLabelText('Traffic chart').querySelector('svg'),
    ).not.toBeNull();
    // Replicas over time, in pods.
    const replicas = screen.getByLabelText(
      'Replicas (pods answering scrapes) chart',
    );
    expect(replicas.querySelector('svg')).not.toBeNull();
    expect(within(replicas).getByText('pods')).toBeInTheDocument();
  });

  it('says why a chart is empty instead of drawing nothing', async () => {
    server.use(metricsHandler(metricsResponse()));

    await renderCharts();

    const classes = await screen.findByLabelText('Predictions by class chart');
    expect(classes.querySelector('svg')).toBeNull();
    expect(
      within(classes).getByText(
        'no series match {cluster="dev-cluster",namespace="ml-fraud",backstage_io_kubernetes_id="fraud-scorer"}',
      ),
    ).toBeInTheDocument();
  });

  it('says how computed series were worked out under their chart', async () => {
    const response = metricsResponse();
    const note =
      'PSI computed from the input histograms, each point against the first 24 h after the revision serving then was deployed';
    response.signals = response.signals.map(s =>
      s.signal === 'featureDrift' ? { ...s, note } : s,
    );
    server.use(metricsHandler(response));

    await renderCharts();

    const drift = await screen.findByLabelText('Drift chart');
    expect(drift.querySelector('svg')).not.toBeNull();
    expect(within(drift).getByText(note, { exact: false })).toBeInTheDocument();
  });

  it('lists the deploys of the range with a link to the deployment history', async () => {
    server.use(metricsHandler(metricsResponse()));

    await renderCharts();

    const list = await screen.findByRole('list', {
      name: 'Deploys in this range',
    });
    expect(list).toHaveTextContent(
      'deploy revision 3 of registry.example.com/fraud-scorer:0.1.2 by user:default/alice (succeeded)',
    );
    expect(
      within(list).getByRole('link', { name: 'deploy revision 3' }),
    ).toHaveAttribute('href', expect.stringMatching(/model-deployment$/));
  });

  it('reads the range and environment the user picks', async () => {
    const requests: URLSearchParams[] = [];
    server.use(
      metricsHandler(
        params => metricsResponse(params.get('environment')!),
        requests,
      ),
    );

    await renderCharts();
    await screen.findByText('Traffic');

    await userEvent.click(screen.getByRole('button', { name: '6h' }));
    await waitFor(() => expect(requests).toHaveLength(2));
    const q = requests[1];
    expect(Date.parse(q.get('end')!) - Date.parse(q.get('start')!)).toBe(
      6 * 3600_000,
    );
    expect(screen.getByRole('button', { name: '6h' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );

    await userEvent.click(screen.getByRole('button', { name: /Environment/ }));
    await userEvent.click(await screen.findByRole('option', { name: 'prod' }));
    await waitFor(() => expect(requests).toHaveLength(3));
    expect(requests[2].get('environment')).toBe('prod');
    expect(await screen.findByText(/· a point every 15 s/)).toHaveTextContent(
      '{cluster="prod-cluster",namespace="ml-fraud"',
    );
  });

  it("shows the backend's error, e.g. an unknown environment", async () => {
    server.use(
      metricsHandler(() =>
        backstageErrorResponse({
          status: 400,
          name: 'InputError',
          message:
            'Unknown environment "dev" for component:default/fraud-scorer',
          url: '/api/modelops/metrics',
        }),
      ),
    );

    await renderCharts();

    expect(
      (await screen.findAllByText(/Unknown environment "dev"/)).length,
    ).toBeGreaterThan(0);
  });
});

describe('markerLabel', () => {
  it('names the revision and the tag', () => {
    expect(
      markerLabel({
        deploymentId: 'x',
        time: '2026-12-01T09:30:00Z',
        action: 'rollback',
        image: 'registry.modelops.local/risk/fraud-detector:0.1.1',
        revision: 7,
        requestedBy: 'user:default/alice',
        status: 'succeeded',
      }),
    ).toBe('r7 0.1.1');
  });
});

describe('markerLabel and analysisLabel', () => {
  it('names an automatic rollback as such', () => {
    expect(
      markerLabel({
        deploymentId: 'y',
        time: '2026-12-01T09:31:00Z',
        action: 'rollback',
        image: 'registry.modelops.local/risk/fraud-detector:0.1.1',
        revision: 9,
        requestedBy: 'user:default/alice',
        status: 'succeeded',
        automatic: true,
        reason: 'Automatic rollback: the analysis of revision 8 failed',
      }),
    ).toBe('r9 0.1.1 (automatic rollback)');
  });

  it('names the revision an analysis watched and its outcome', () => {
    expect(
      analysisLabel({
        deploymentId: 'z',
        revision: 8,
        status: 'failed',
        start: '2026-12-01T09:30:00Z',
        end: '2026-12-01T09:31:00Z',
      }),
    ).toBe('analysis r8: failed');
  });
});
