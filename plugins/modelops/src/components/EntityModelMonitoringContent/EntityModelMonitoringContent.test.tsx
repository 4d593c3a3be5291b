import { registerMswTestHooks } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { HttpResponse } from 'msw';
import {
  backstageErrorResponse,
  createModelOpsBackend,
  environmentsHandler,
  environmentsResponse,
  healthHandler,
  healthResponse,
  metricsHandler,
  metricsResponse,
  modelServiceEntity,
  renderForEntity,
  withAnnotations,
} from '../../__testUtils__/modelOpsBackend';
import { EntityModelMonitoringContent } from './EntityModelMonitoringContent';

describe('EntityModelMonitoringContent (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);
  beforeEach(() =>
    server.use(
      healthHandler(healthResponse),
      metricsHandler(metricsResponse()),
    ),
  );

  it("shows each environment's signals against their thresholds", async () => {
    server.use(environmentsHandler(environmentsResponse));

    await renderForEntity(<EntityModelMonitoringContent />, modelServiceEntity);

    expect(await screen.findByText('dev: critical')).toBeInTheDocument();
    expect(screen.getByText('prod: ok')).toBeInTheDocument();
    const dev = screen
      .getByText('dev: critical')
      .closest('[class*="MuiPaper-root"]') as HTMLElement;
    const drift = within(dev).getByText('drift').closest('tr') as HTMLElement;
    expect(within(drift).getByText('PSI 0.31')).toBeInTheDocument();
    expect(within(drift).getByText('PSI 0.20')).toBeInTheDocument();
    expect(within(drift).getByText('feature amount')).toBeInTheDocument();
    expect(within(drift).getByText('critical')).toBeInTheDocument();
    const latency = within(dev)
      .getByText('p95 latency')
      .closest('tr') as HTMLElement;
    expect(within(latency).getByText('118 ms')).toBeInTheDocument();
    expect(within(latency).getByText('250 ms')).toBeInTheDocument();
  });

  it('shows progress until the backend answers', async () => {
    let answer: () => void = () => {};
    const answered = new Promise<void>(resolve => {
      answer = resolve;
    });
    server.use(
      environmentsHandler(async () => {
        await answered;
        return HttpResponse.json(environmentsResponse);
      }),
    );

    await renderForEntity(<EntityModelMonitoringContent />, modelServiceEntity);

    expect(screen.getByTestId('progress')).toBeInTheDocument();
    expect(screen.queryByText('Monitoring contract')).not.toBeInTheDocument();

    answer();
    expect(await screen.findByText('Monitoring contract')).toBeInTheDocument();
    expect(screen.queryByTestId('progress')).not.toBeInTheDocument();
  });

  it('shows runtime, SLO thresholds and the monitored environments', async () => {
    const requested: string[] = [];
    server.use(environmentsHandler(environmentsResponse, requested));

    await renderForEntity(<EntityModelMonitoringContent />, modelServiceEntity);

    expect(
      await screen.findByText('Monitored environments'),
    ).toBeInTheDocument();
    expect(requested).toEqual(['component:default/fraud-scorer']);

    // Runtime as resolved by the backend, SLOs parsed from modelops/slo.
    expect(screen.getByText('kserve')).toBeInTheDocument();
    expect(
      screen.getByText(
        'latency-p95-ms = 250 (p95 request latency in milliseconds)',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('error-rate = 0.01 (share of failed requests, 0 to 1)'),
    ).toBeInTheDocument();
    // Without modelops/metrics-selector the selector is derived.
    expect(
      screen.getByText(
        "derived from backstage.io/kubernetes-id=fraud-scorer and each environment's namespace",
      ),
    ).toBeInTheDocument();

    const monitored = screen
      .getByText('Monitored environments')
      .closest('[class*="MuiPaper-root"]') as HTMLElement;
    const devRow = within(monitored).getByText('dev').closest('tr')!;
    expect(within(devRow).getByText('dev-cluster')).toBeInTheDocument();
    expect(within(devRow).getByText('ml-fraud')).toBeInTheDocument();
    expect(
      within(devRow).getByText('from backstage.io/kubernetes-namespace'),
    ).toBeInTheDocument();

    const prodRow = within(monitored).getByText('prod').closest('tr')!;
    expect(within(prodRow).getByText('prod-eu-1')).toBeInTheDocument();
    expect(
      within(prodRow)
        .getByText(
          'Cluster "prod-eu-1" is not configured in kubernetes.clusterLocatorMethods',
        )
        .closest('[aria-label="Status error"]'),
    ).not.toBeNull();
  });

  it('shows an explicit metrics selector and platform-default SLOs', async () => {
    server.use(environmentsHandler(environmentsResponse));

    await renderForEntity(
      <EntityModelMonitoringContent />,
      withAnnotations({
        'modelops/slo': undefined,
        'modelops/metrics-selector': 'app="fraud",team="risk"',
      }),
    );

    expect(
      await screen.findByText('app="fraud",team="risk"'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('platform defaults (modelops/slo not set)'),
    ).toBeInTheDocument();
  });

  it('lists contract problems in a warning panel', async () => {
    server.use(
      environmentsHandler({
        ...environmentsResponse,
        problems: [
          {
            annotation: 'modelops/runtime',
            message: 'unknown runtime "torchserve"',
          },
        ],
      }),
    );

    await renderForEntity(<EntityModelMonitoringContent />, modelServiceEntity);

    expect(
      await screen.findByText(
        "Warning: The entity's ModelOps annotations need attention (1)",
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('unknown runtime "torchserve"'),
    ).toBeInTheDocument();
  });

  it('shows a backend error with its message', async () => {
    server.use(
      environmentsHandler(() =>
        backstageErrorResponse({
          status: 503,
          name: 'ServiceUnavailableError',
          message: 'Prometheus is unreachable',
          url: '/api/modelops/environments',
        }),
      ),
    );

    await renderForEntity(<EntityModelMonitoringContent />, modelServiceEntity);

    expect(
      await screen.findByText(/Request failed with 503/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText('Prometheus is unreachable').length,
    ).toBeGreaterThan(0);
    expect(screen.queryByText('Monitoring contract')).not.toBeInTheDocument();
  });

  it('asks for backstage.io/kubernetes-id when it is missing', async () => {
    const requested: string[] = [];
    server.use(environmentsHandler(environmentsResponse, requested));

    await renderForEntity(
      <EntityModelMonitoringContent />,
      withAnnotations({ 'backstage.io/kubernetes-id': '  ' }),
    );

    expect(screen.getByText('Missing Annotation')).toBeInTheDocument();
    expect(requested).toEqual([]);
  });

  it('explains that a System is not a model service', async () => {
    await renderForEntity(<EntityModelMonitoringContent />, {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'System',
      metadata: { name: 'payments' },
      spec: { owner: 'group:default/ml-platform' },
    });

    expect(screen.getByText('Not a model service')).toBeInTheDocument();
  });
});
