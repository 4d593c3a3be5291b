import { entityRouteRef } from '@backstage/plugin-catalog-react';
import {
  TestApiProvider,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/test-utils';
import { EnvironmentStatus } from '@modelops/plugin-modelops-common';
import { screen, within } from '@testing-library/react';
import {
  createModelOpsBackend,
  createModelOpsClient,
  environmentStatus,
} from '../../__testUtils__/modelOpsBackend';
import { modelOpsApiRef } from '../../api';
import { EnvironmentCard } from './EnvironmentCard';

// The card asks for its revision's analysis: none, unless a test says so.
const server = createModelOpsBackend();
registerMswTestHooks(server);

/** Renders one card on its own; the page around it is tested in DeployUi.test.tsx. */
async function renderCard(status: EnvironmentStatus) {
  await renderInTestApp(
    <TestApiProvider apis={[[modelOpsApiRef, createModelOpsClient()]]}>
      <EnvironmentCard
        name={status.environment}
        status={status}
        statusLoading={false}
        onDeploy={() => {}}
        onPromote={() => {}}
      />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
  return screen.getByRole('region', {
    name: `${status.environment} environment`,
  });
}

const unreachable = (lastReachableAt?: string): EnvironmentStatus => ({
  environment: 'eu',
  cluster: 'eu-cluster',
  namespace: 'ml-fraud',
  phase: 'Unknown',
  conditions: [],
  problems: [],
  error: {
    reason: 'ServiceUnavailableError',
    message:
      'Cluster eu-cluster at https://127.0.0.1:6443 is unreachable: connection refused',
    ...(lastReachableAt ? { lastReachableAt } : {}),
  },
});

describe('EnvironmentCard', () => {
  it('says when an unreachable cluster was last reachable', async () => {
    const card = await renderCard(
      unreachable(new Date(Date.now() - 3 * 60 * 1000).toISOString()),
    );
    expect(
      within(card).getByText(
        'Error: Cluster eu-cluster at https://127.0.0.1:6443 is unreachable: connection refused',
      ),
    ).toBeInTheDocument();
    expect(
      within(card)
        .getByText(/^Last reachable/)
        .closest('p'),
    ).toHaveTextContent('Last reachable 3 minutes ago.');
  });

  it('says when an unreachable cluster has not answered since the backend started', async () => {
    const card = await renderCard(unreachable());
    expect(
      within(card).getByText('Not reachable since the backend started.'),
    ).toBeInTheDocument();
    expect(within(card).queryByText(/Last reachable/)).toBeNull();
  });

  it('labels a running digest as the digest, and a tag as the tag', async () => {
    const digest = `sha256:${'cd'.repeat(32)}`;
    const pinned = await renderCard(
      environmentStatus({ image: `ghcr.io/acme/fraud-scorer@${digest}` }),
    );
    const row = within(pinned).getByText(digest).closest('tr')!;
    expect(row).toHaveTextContent(/^Digest/);
    expect(within(pinned).queryByText('Tag')).toBeNull();
  });

  it('shows a canary apart from the stable release', async () => {
    const card = await renderCard(
      environmentStatus({
        canary: {
          deployments: ['fraud-scorer-canary'],
          phase: 'Available',
          image: 'ghcr.io/acme/fraud-scorer:1.5.0',
          revision: 8,
          replicas: { desired: 1, updated: 1, ready: 1, available: 1 },
        },
      }),
    );
    const row = within(card).getByText('1.5.0').closest('tr')!;
    expect(row).toHaveTextContent(/^Canary1\.5\.0 · revision 8 · 1\/1 ready$/);
  });

  it('says nothing about reachability for other errors', async () => {
    const card = await renderCard({
      ...unreachable(),
      error: {
        reason: 'ClusterNotConfigured',
        message: 'Cluster "eu-cluster" is not configured',
      },
    });
    expect(
      within(card).getByText('Error: Cluster "eu-cluster" is not configured'),
    ).toBeInTheDocument();
    expect(within(card).queryByText(/reachable/i)).toBeNull();
  });

  it('lists the Services: LoadBalancer addresses, a pending address with its reason, other types', async () => {
    const card = await renderCard(
      environmentStatus({
        services: [
          {
            name: 'fraud-scorer-public',
            type: 'LoadBalancer',
            addresses: ['203.0.113.7', 'scorer.example.com'],
          },
          {
            name: 'fraud-scorer-canary',
            type: 'LoadBalancer',
            addresses: [],
            pending: 'no load-balancer controller runs on the cluster',
          },
          { name: 'fraud-scorer', type: 'ClusterIP', addresses: [] },
        ],
      }),
    );
    const row = within(card).getByText('Services').closest('tr')!;
    const items = within(row).getAllByRole('listitem');
    expect(items).toHaveLength(3);
    expect(items[0]).toHaveTextContent(
      'fraud-scorer-public 203.0.113.7, scorer.example.com',
    );
    expect(items[1]).toHaveTextContent(
      'fraud-scorer-canary address pending: no load-balancer controller runs on the cluster',
    );
    expect(items[2]).toHaveTextContent('fraud-scorer (ClusterIP)');
  });

  it('has no Services row when the status lists none', async () => {
    const card = await renderCard(environmentStatus());
    expect(within(card).getByText('2/2 ready')).toBeInTheDocument();
    expect(within(card).queryByText('Services')).toBeNull();
  });
});
