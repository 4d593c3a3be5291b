import {
  TestApiProvider,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/test-utils';
import { Analysis } from '@modelops/plugin-modelops-common';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import {
  DEPLOYMENTS_URL,
  createModelOpsBackend,
  createModelOpsClient,
} from '../../__testUtils__/modelOpsBackend';
import { modelOpsApiRef } from '../../api';
import { AnalysisPanel, timeLeft } from './AnalysisPanel';

const running: Analysis = {
  id: 'a-1',
  deploymentId: 'dep-7',
  entityRef: 'component:default/fraud-scorer',
  environment: 'prod',
  revision: 7,
  status: 'running',
  startedAt: new Date(Date.now() - 60_000).toISOString(),
  endsAt: new Date(Date.now() + 240_000).toISOString(),
  intervalSeconds: 30,
  window: '1m',
  onInconclusive: 'pass',
  evaluations: 2,
  conclusiveEvaluations: 2,
  message: 'within its SLOs at 5.0 requests/s',
  signals: [
    {
      signal: 'requestRate',
      unit: 'requestsPerSecond',
      status: 'ok',
      value: 5,
    },
    {
      signal: 'latencyP95',
      unit: 'seconds',
      status: 'ok',
      value: 0.042,
      warning: 0.2,
      critical: 0.25,
    },
  ],
};

describe('AnalysisPanel (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  const render = (deniedReason?: string) =>
    renderInTestApp(
      <TestApiProvider apis={[[modelOpsApiRef, createModelOpsClient()]]}>
        <AnalysisPanel deploymentId="dep-7" deniedReason={deniedReason} />
      </TestApiProvider>,
    );

  it('shows a running analysis: time left, and each signal of the new pods against its SLO', async () => {
    server.use(
      http.get(`${DEPLOYMENTS_URL}/dep-7/analysis`, () =>
        HttpResponse.json(running),
      ),
    );
    await render();
    expect(
      await screen.findByText(/SLO analysis of revision 7: running · 4 min/),
    ).toBeInTheDocument();
    expect(
      screen.getByText('p95 latency 42 ms (SLO 250 ms)'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/every 30 s over 1m; 2 of 2 evaluations judged/),
    ).toBeInTheDocument();
  });

  it('stops a running analysis', async () => {
    let cancelled = false;
    server.use(
      http.get(`${DEPLOYMENTS_URL}/dep-7/analysis`, () =>
        HttpResponse.json(
          cancelled
            ? {
                ...running,
                status: 'cancelled',
                finishedAt: new Date().toISOString(),
                message: 'cancelled by user:default/ada; revision 7 stays',
              }
            : running,
        ),
      ),
      http.post(`${DEPLOYMENTS_URL}/dep-7/analysis/cancel`, () => {
        cancelled = true;
        return HttpResponse.json({ ...running, status: 'cancelled' });
      }),
    );
    await render();
    await userEvent.click(
      await screen.findByRole('button', { name: 'Stop analysis' }),
    );
    expect(
      await screen.findByText(
        'cancelled by user:default/ada; revision 7 stays',
      ),
    ).toBeInTheDocument();
    expect(cancelled).toBe(true);
  });

  it('lets only users who may deploy stop it', async () => {
    server.use(
      http.get(`${DEPLOYMENTS_URL}/dep-7/analysis`, () =>
        HttpResponse.json(running),
      ),
    );
    await render('You may not deploy this service');
    expect(
      await screen.findByRole('button', { name: 'Stop analysis' }),
    ).toBeDisabled();
  });

  it('says why an analysis failed and what it rolled back to', async () => {
    server.use(
      http.get(`${DEPLOYMENTS_URL}/dep-7/analysis`, () =>
        HttpResponse.json({
          ...running,
          status: 'failed',
          finishedAt: new Date().toISOString(),
          breach: { signal: 'errorRate', value: 0.3, threshold: 0.01 },
          message:
            'errorRate 30.0 % is over its SLO of 1.0 % (over 1m); rolled back to revision 6 as revision 8',
        }),
      ),
    );
    await render();
    expect(
      await screen.findByText(/rolled back to revision 6 as revision 8/),
    ).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Stop analysis' })).toBeNull();
  });

  it('shows a canary: its share of the pods, its signals beside the stable pods', async () => {
    server.use(
      http.get(`${DEPLOYMENTS_URL}/dep-7/analysis`, () =>
        HttpResponse.json({
          ...running,
          canary: {
            percent: 25,
            replicas: 1,
            stableReplicas: 2,
            share: 1 / 3,
            deployments: ['fraud-scorer-canary'],
            stableSignals: [
              {
                signal: 'latencyP95',
                unit: 'seconds',
                status: 'ok',
                value: 0.038,
                warning: 0.2,
                critical: 0.25,
              },
            ],
          },
        }),
      ),
    );
    await render();
    expect(
      await screen.findByText(
        'Canary: 1 canary pod next to 2 stable (33 % of the pods, 25 % asked)',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/The canary's pods, with the stable pods beside them/),
    ).toBeInTheDocument();
    expect(
      within(screen.getByRole('list', { name: 'Canary signals' })).getByText(
        'p95 latency 42 ms (SLO 250 ms)',
      ),
    ).toBeInTheDocument();
    expect(
      within(screen.getByRole('list', { name: 'Stable signals' })).getByText(
        'p95 latency 38 ms (SLO 250 ms)',
      ),
    ).toBeInTheDocument();
  });

  it('says a failed canary was removed before the stable pods ran it', async () => {
    server.use(
      http.get(`${DEPLOYMENTS_URL}/dep-7/analysis`, () =>
        HttpResponse.json({
          ...running,
          status: 'failed',
          finishedAt: new Date().toISOString(),
          canary: {
            percent: 25,
            replicas: 1,
            stableReplicas: 3,
            share: 0.25,
            deployments: ['fraud-scorer-canary'],
            outcome: 'removed',
          },
        }),
      ),
    );
    await render();
    expect(
      await screen.findByText(
        'Canary: 1 canary pod next to 3 stable (25 % of the pods); removed, the stable pods never ran it',
      ),
    ).toBeInTheDocument();
  });

  it('shows nothing for a revision deployed without an analysis', async () => {
    await render();
    await waitFor(() =>
      expect(screen.queryByText(/SLO analysis/)).not.toBeInTheDocument(),
    );
  });

  it('counts the time left down to the second', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    expect(timeLeft('2026-12-06T10:04:10Z', now)).toBe('4 min 10 s left');
    expect(timeLeft('2026-12-06T10:00:09Z', now)).toBe('9 s left');
    expect(timeLeft('2026-12-06T09:59:00Z', now)).toBe('0 s left');
  });
});
