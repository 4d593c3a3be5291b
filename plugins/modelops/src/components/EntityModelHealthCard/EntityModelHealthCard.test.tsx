import { registerMswTestHooks } from '@backstage/test-utils';
import { act, screen, within } from '@testing-library/react';
import { HttpResponse } from 'msw';
import {
  backstageErrorResponse,
  createModelOpsBackend,
  healthHandler,
  healthResponse,
  modelServiceEntity,
  renderForEntity,
  withAnnotations,
} from '../../__testUtils__/modelOpsBackend';
import { HEALTH_REFRESH_MS } from '../common';
import { EntityModelHealthCard } from './EntityModelHealthCard';

describe('EntityModelHealthCard (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  it('shows progress inside the card until the backend answers', async () => {
    let answer: () => void = () => {};
    const answered = new Promise<void>(resolve => {
      answer = resolve;
    });
    server.use(
      healthHandler(async () => {
        await answered;
        return HttpResponse.json(healthResponse);
      }),
    );

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    expect(screen.getByText('Model health')).toBeInTheDocument();
    expect(screen.getByTestId('progress')).toBeInTheDocument();
    answer();
    expect(await screen.findByText('dev: critical')).toBeInTheDocument();
    expect(screen.queryByTestId('progress')).not.toBeInTheDocument();
  });

  it('reads the health again every minute, keeping what it shows meanwhile', async () => {
    jest.useFakeTimers({ advanceTimers: true });
    try {
      let calls = 0;
      server.use(
        healthHandler(() => {
          calls++;
          return HttpResponse.json(
            calls === 1
              ? healthResponse
              : {
                  ...healthResponse,
                  status: 'ok',
                  environments: healthResponse.environments.map(e => ({
                    ...e,
                    status: 'ok',
                  })),
                },
          );
        }),
      );
      await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);
      expect(await screen.findByText('dev: critical')).toBeInTheDocument();
      await act(async () => {
        jest.advanceTimersByTime(HEALTH_REFRESH_MS);
      });
      expect(await screen.findByText('dev: ok')).toBeInTheDocument();
      expect(screen.queryByTestId('progress')).not.toBeInTheDocument();
      expect(calls).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives each environment its status and names the worst signal against its SLO', async () => {
    const requested: string[] = [];
    server.use(healthHandler(healthResponse, requested));

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    const dev = await screen.findByText('dev: critical');
    expect(requested).toEqual(['component:default/fraud-scorer']);
    expect(dev.closest('[aria-label="Status error"]')).not.toBeNull();
    expect(
      screen.getByText('drift PSI 0.31 (feature amount; SLO 0.20)'),
    ).toBeInTheDocument();
    const prod = screen.getByText('prod: ok');
    expect(prod.closest('[aria-label="Status ok"]')).not.toBeNull();
    expect(
      screen.getByText(
        'within thresholds: error rate 0.00 %, p95 latency 90 ms, drift PSI 0.04',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText(/Over the last 5m/)).toBeInTheDocument();
    const link = screen.getByRole('link', { name: /Monitoring/ });
    expect(link.getAttribute('href')).toMatch(/monitoring$/);
  });

  it('says why an environment is unknown (the metrics source down)', async () => {
    server.use(
      healthHandler({
        ...healthResponse,
        status: 'unknown',
        environments: [
          {
            ...healthResponse.environments[1]!,
            status: 'unknown',
            signals: [
              {
                signal: 'errorRate',
                unit: 'ratio',
                status: 'unknown',
                reason:
                  'Prometheus at http://prometheus:9090 is unreachable: ECONNREFUSED',
              },
            ],
          },
        ],
      }),
    );

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    const prod = await screen.findByText('prod: unknown');
    expect(prod.closest('[aria-label="Status pending"]')).not.toBeNull();
    expect(
      screen.getByText(
        'error rate: Prometheus at http://prometheus:9090 is unreachable: ECONNREFUSED',
      ),
    ).toBeInTheDocument();
  });

  it('says when no environments are configured', async () => {
    server.use(healthHandler({ ...healthResponse, environments: [] }));

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    expect(
      await screen.findByText(
        'No environments are configured (modelops.environments).',
      ),
    ).toBeInTheDocument();
  });

  it('shows a refusal with the message naming the annotation', async () => {
    server.use(
      healthHandler(() =>
        backstageErrorResponse({
          status: 400,
          name: 'InputError',
          message:
            'Cannot read the metrics of component:default/fraud-scorer until its annotations are fixed: modelops/metrics-selector is not a list of label matchers',
          url: '/api/modelops/health',
        }),
      ),
    );

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    expect(
      await screen.findByText(/Request failed with 400/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText(/modelops\/metrics-selector is not a list/).length,
    ).toBeGreaterThan(0);
  });

  it('asks for backstage.io/kubernetes-id when it is missing, without calling the backend', async () => {
    const requested: string[] = [];
    server.use(healthHandler(healthResponse, requested));

    await renderForEntity(
      <EntityModelHealthCard />,
      withAnnotations({ 'backstage.io/kubernetes-id': undefined }),
    );

    expect(screen.getByText('Missing Annotation')).toBeInTheDocument();
    expect(requested).toEqual([]);
    expect(within(document.body).queryByText('dev: critical')).toBeNull();
  });
});
