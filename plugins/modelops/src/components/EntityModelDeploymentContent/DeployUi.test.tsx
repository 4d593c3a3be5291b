import { registerMswTestHooks } from '@backstage/test-utils';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent, {
  PointerEventsCheckLevel,
} from '@testing-library/user-event';
import {
  DeployRequest,
  DeployResponse,
  EntityEnvironmentsResponse,
} from '@modelops/plugin-modelops-common';
import {
  RollbackCall,
  backstageErrorResponse,
  buildRecord,
  buildsHandlers,
  createModelOpsBackend,
  deployHandler,
  deploymentHistoryHandler,
  deploymentRecord,
  deploymentStatusHandler,
  environmentStatus,
  environmentsHandler,
  environmentsResponse,
  modelServiceEntity,
  renderForEntity,
  rollbackHandler,
  statusResponse,
} from '../../__testUtils__/modelOpsBackend';
import { EntityModelDeploymentContent } from './EntityModelDeploymentContent';

const ENTITY_REF = 'component:default/fraud-scorer';
const NEW_IMAGE = 'ghcr.io/acme/fraud-scorer:1.5.0';

/** dev and prod, both usable. */
const twoEnvironments: EntityEnvironmentsResponse = {
  ...environmentsResponse,
  environments: [
    {
      name: 'dev',
      cluster: 'dev-cluster',
      namespace: 'ml-fraud',
      namespaceSource: 'annotation',
    },
    {
      name: 'prod',
      cluster: 'prod-eu-1',
      namespace: 'ml-fraud',
      namespaceSource: 'annotation',
    },
  ],
};

const healthyStatus = statusResponse([
  environmentStatus(),
  environmentStatus({
    environment: 'prod',
    cluster: 'prod-eu-1',
    image: 'ghcr.io/acme/fraud-scorer:1.4.1',
    revision: 7,
    lastDeployment: deploymentRecord({
      id: 'dep-p7',
      environment: 'prod',
      cluster: 'prod-eu-1',
      image: 'ghcr.io/acme/fraud-scorer:1.4.1',
      revision: 7,
      requestedBy: 'user:default/ops.admin',
    }),
  }),
]);

function diffFor(body: DeployRequest): DeployResponse['diff'] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'fraud-scorer',
      operation: 'update',
      changes: [
        {
          path: 'spec.template.spec.containers[0].image',
          before: 'ghcr.io/acme/fraud-scorer:1.4.2',
          after: body.image ?? 'ghcr.io/acme/fraud-scorer:1.4.2',
        },
        {
          path: 'spec.template.metadata.labels',
          before: { app: 'fraud-scorer' },
          after: { app: 'fraud-scorer', 'modelops/revision': '4' },
        },
      ],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      name: 'fraud-scorer',
      operation: 'unchanged',
      changes: [],
    },
  ];
}

/** The backend's answer to a deploy request. */
function deployed(body: DeployRequest): DeployResponse {
  return {
    deployment: deploymentRecord({
      id: body.dryRun ? 'dry-1' : 'dep-4',
      environment: body.environment,
      image: body.image ?? 'ghcr.io/acme/fraud-scorer:1.4.2',
      action: body.fromEnvironment ? 'promote' : 'deploy',
      revision: body.dryRun ? undefined : 4,
      dryRun: !!body.dryRun,
      requestedBy: 'user:default/guest',
      createdAt: new Date().toISOString(),
    }),
    diff: diffFor(body),
  };
}

describe('Model deployment tab: deploy UI (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  /**
   * No delay between key strokes, and no pointer-events check: every button
   * clicked here is asserted enabled first (the check walks the computed style
   * of every ancestor, the most expensive thing jsdom does).
   */
  const setupUser = () =>
    userEvent.setup({
      delay: null,
      pointerEventsCheck: PointerEventsCheckLevel.Never,
    });

  const card = (name: string) =>
    screen.getByRole('region', { name: `${name} environment` });

  /** Waits until the permission check let the button be enabled. */
  const enabledButton = (
    container: () => HTMLElement,
    name: string,
  ): Promise<HTMLElement> =>
    waitFor(() => {
      const button = within(container()).getByRole('button', { name });
      expect(button).toBeEnabled();
      return button;
    });

  async function render(options: { pollMs?: number; deny?: boolean } = {}) {
    await renderForEntity(
      <EntityModelDeploymentContent
        statusPollIntervalMs={options.pollMs ?? 5000}
      />,
      modelServiceEntity,
      { permission: options.deny ? 'DENY' : undefined },
    );
  }

  describe('environment cards', () => {
    it('shows one card per environment with its phase, problems with fixes, conditions and last deployment', async () => {
      const user = setupUser();
      const names = ['dev', 'staging', 'prod', 'qa', 'eu'];
      server.use(
        environmentsHandler({
          ...environmentsResponse,
          environments: names.map(name => ({
            name,
            cluster: `${name}-cluster`,
            namespace: 'ml-fraud',
            namespaceSource: 'annotation' as const,
          })),
        }),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(
          statusResponse([
            environmentStatus(),
            environmentStatus({
              environment: 'staging',
              cluster: 'staging-cluster',
              phase: 'Progressing',
              replicas: { desired: 3, updated: 1, ready: 2, available: 2 },
            }),
            environmentStatus({
              environment: 'prod',
              cluster: 'prod-cluster',
              phase: 'Failed',
              image: 'ghcr.io/acme/fraud-scorer:broken',
              replicas: { desired: 2, updated: 1, ready: 0, available: 0 },
              conditions: [
                {
                  type: 'Progressing',
                  status: 'False',
                  reason: 'ProgressDeadlineExceeded',
                  message:
                    'ReplicaSet "fraud-scorer-7d9" has timed out progressing.',
                },
              ],
              problems: [
                {
                  kind: 'Pod',
                  name: 'fraud-scorer-7d9-abcde',
                  severity: 10,
                  message:
                    'Back-off pulling image "ghcr.io/acme/fraud-scorer:broken"',
                  fix: {
                    explanation:
                      'The image could not be pulled from the registry.',
                    actions: [
                      'Check that the tag exists',
                      'Check the image pull secret',
                    ],
                    docsLink:
                      'https://kubernetes.io/docs/concepts/containers/images/',
                  },
                },
              ],
            }),
            {
              environment: 'qa',
              cluster: 'qa-cluster',
              namespace: 'ml-fraud',
              phase: 'NotDeployed',
              conditions: [],
              problems: [],
            },
            {
              environment: 'eu',
              cluster: 'eu-cluster',
              namespace: 'ml-fraud',
              phase: 'Unknown',
              conditions: [],
              problems: [],
              error: {
                reason: 'ClusterUnreachable',
                message:
                  'Cluster "eu-cluster" did not answer: connect ECONNREFUSED',
              },
            },
          ]),
        ),
      );

      await render();

      expect(
        await within(card('dev')).findByText('Available'),
      ).toBeInTheDocument();
      // Every card is looked up once: nothing below draws them again.
      const cards = Object.fromEntries(names.map(name => [name, card(name)]));
      const chip = (name: string, text: string) =>
        within(cards[name]).getByText(text).closest('[aria-label^="Status"]');
      expect(chip('dev', 'Available')).toHaveAttribute(
        'aria-label',
        'Status ok',
      );
      expect(chip('staging', 'Progressing')).toHaveAttribute(
        'aria-label',
        'Status running',
      );
      expect(chip('prod', 'Failed')).toHaveAttribute(
        'aria-label',
        'Status error',
      );
      expect(chip('qa', 'Not deployed')).toHaveAttribute(
        'aria-label',
        'Status aborted',
      );
      expect(chip('eu', 'Unknown')).toHaveAttribute(
        'aria-label',
        'Status warning',
      );

      // Card title is the environment name; cluster, image, tag, revision, replicas.
      const dev = cards.dev;
      expect(
        within(dev).getByRole('heading', { name: 'dev' }),
      ).toBeInTheDocument();
      expect(within(dev).getByText('dev-cluster')).toBeInTheDocument();
      expect(
        within(dev).getByText('ghcr.io/acme/fraud-scorer'),
      ).toBeInTheDocument();
      expect(within(dev).getByText('1.4.2')).toBeInTheDocument();
      expect(within(dev).getByText('3')).toBeInTheDocument();
      expect(within(dev).getByText('2/2 ready')).toBeInTheDocument();
      expect(within(cards.staging).getByText('2/3 ready')).toBeInTheDocument();
      // Last deployment: who as an entity link and when.
      const who = within(dev).getByRole('link', { name: /jane\.doe/ });
      expect(who).toHaveAttribute('href', '/catalog/default/user/jane.doe');
      expect(within(dev).getByText('5 minutes ago')).toBeInTheDocument();

      // Problems with the proposed fix.
      const prod = cards.prod;
      expect(
        within(prod).getByText(
          'Back-off pulling image "ghcr.io/acme/fraud-scorer:broken"',
        ),
      ).toBeInTheDocument();
      expect(
        within(prod).getByText(
          'Suggested fix: The image could not be pulled from the registry.',
        ),
      ).toBeInTheDocument();
      expect(
        within(prod).getByText('Check that the tag exists'),
      ).toBeInTheDocument();
      expect(
        within(prod).getByRole('link', {
          name: /Read more about this problem/,
        }),
      ).toHaveAttribute(
        'href',
        'https://kubernetes.io/docs/concepts/containers/images/',
      );

      // Conditions are collapsed until opened.
      const conditions = within(prod).getByRole('button', {
        name: /Conditions \(1\)/,
      });
      expect(conditions).toHaveAttribute('aria-expanded', 'false');
      expect(
        within(prod).queryByText(/has timed out progressing/),
      ).not.toBeInTheDocument();
      await user.click(conditions);
      expect(
        await within(prod).findByText(/has timed out progressing/),
      ).toBeInTheDocument();

      // The unreachable cluster is an error in its card only.
      const eu = cards.eu;
      expect(
        within(eu).getByText(
          'Error: Cluster "eu-cluster" did not answer: connect ECONNREFUSED',
        ),
      ).toBeInTheDocument();
      expect(within(dev).queryByText(/ECONNREFUSED/)).not.toBeInTheDocument();
      expect(within(dev).getByText('2/2 ready')).toBeInTheDocument();
    });

    it('polls the status while an environment is Progressing and stops once it is Available', async () => {
      const requests: string[] = [];
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(
          n =>
            statusResponse([
              environmentStatus({
                phase: n < 3 ? 'Progressing' : 'Available',
                replicas: {
                  desired: 2,
                  updated: n < 3 ? 1 : 2,
                  ready: n < 3 ? 1 : 2,
                  available: 2,
                },
              }),
            ]),
          requests,
        ),
      );

      await render({ pollMs: 20 });

      expect(
        await within(card('dev')).findByText('Progressing'),
      ).toBeInTheDocument();
      expect(
        screen.getByText(/A rollout is in progress; the status refreshes/),
      ).toBeInTheDocument();
      expect(
        await within(card('dev')).findByText('Available'),
      ).toBeInTheDocument();
      expect(requests).toEqual([ENTITY_REF, ENTITY_REF, ENTITY_REF]);
      await new Promise(resolve => setTimeout(resolve, 150));
      expect(requests).toHaveLength(3);
      expect(
        screen.queryByText(/A rollout is in progress/),
      ).not.toBeInTheDocument();
    });

    it('still shows the cards from the environments when the status cannot be loaded', async () => {
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(() =>
          backstageErrorResponse({
            status: 500,
            name: 'Error',
            message: 'status store is down',
            url: '/api/modelops/deployments/status',
          }),
        ),
      );

      await render();

      expect(
        await screen.findByText(/Could not load the rollout status/),
      ).toBeInTheDocument();
      expect(within(card('dev')).getByText('dev-cluster')).toBeInTheDocument();
      expect(within(card('prod')).getByText('prod-eu-1')).toBeInTheDocument();
    });
  });

  describe('deploy dialog', () => {
    it('previews the diff, deploys and follows the rollout until Available', async () => {
      const user = setupUser();
      const bodies: DeployRequest[] = [];
      let applied = false;
      let pollsAfterApply = 0;
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(() => {
          if (!applied) return healthyStatus;
          pollsAfterApply += 1;
          return statusResponse([
            pollsAfterApply < 3
              ? environmentStatus({
                  phase: 'Progressing',
                  image: NEW_IMAGE,
                  revision: 4,
                  replicas: { desired: 2, updated: 1, ready: 1, available: 1 },
                })
              : environmentStatus({ image: NEW_IMAGE, revision: 4 }),
            healthyStatus.environments[1],
          ]);
        }),
        deployHandler(body => {
          if (!body.dryRun) applied = true;
          return deployed(body);
        }, bodies),
      );

      await render({ pollMs: 20 });
      await within(card('dev')).findByText('Available');

      await user.click(await enabledButton(() => document.body, 'Deploy'));
      const dialog = await screen.findByRole('dialog', {
        name: 'Deploy an image',
      });
      expect(within(dialog).getByLabelText('Environment')).toHaveValue('dev');
      const image = within(dialog).getByLabelText('Image');
      // Prefilled with the image running in the environment.
      expect(image).toHaveValue('ghcr.io/acme/fraud-scorer:1.4.2');

      // A reference without tag is caught before anything is sent.
      await user.clear(image);
      await user.paste('ghcr.io/acme/fraud-scorer');
      await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
      expect(within(dialog).getByText(/Add a tag/)).toBeInTheDocument();
      expect(bodies).toEqual([]);

      await user.type(image, ':1.5.0');
      await user.click(within(dialog).getByRole('button', { name: 'Preview' }));

      const preview = await within(dialog).findByRole('region', {
        name: 'Preview (dry run)',
      });
      expect(
        within(preview).getByText('2 objects: 1 to update, 1 unchanged'),
      ).toBeInTheDocument();
      const deployment = within(preview).getByRole('region', {
        name: 'Deployment fraud-scorer',
      });
      expect(within(deployment).getByText('update')).toBeInTheDocument();
      const imageRow = within(deployment)
        .getByText('spec.template.spec.containers[0].image')
        .closest('tr')!;
      expect(imageRow).toHaveTextContent(
        '"ghcr.io/acme/fraud-scorer:1.4.2" → "ghcr.io/acme/fraud-scorer:1.5.0"',
      );
      expect(
        within(deployment)
          .getByText('spec.template.metadata.labels')
          .closest('tr'),
      ).toHaveTextContent(
        '{"app":"fraud-scorer"} → {"app":"fraud-scorer","modelops/revision":"4"}',
      );
      const service = within(preview).getByRole('region', {
        name: 'Service fraud-scorer',
      });
      expect(within(service).getByText('unchanged')).toBeInTheDocument();
      expect(within(service).getByText('No changes.')).toBeInTheDocument();

      await user.click(within(dialog).getByRole('button', { name: 'Deploy' }));

      expect(
        await within(dialog).findByText(
          `Applied revision 4: ${NEW_IMAGE} to dev`,
        ),
      ).toBeInTheDocument();
      expect(
        await within(dialog).findByText('Rollout complete'),
      ).toBeInTheDocument();
      expect(pollsAfterApply).toBeGreaterThanOrEqual(3);
      expect(bodies).toEqual([
        {
          entityRef: ENTITY_REF,
          environment: 'dev',
          image: NEW_IMAGE,
          dryRun: true,
        },
        {
          entityRef: ENTITY_REF,
          environment: 'dev',
          image: NEW_IMAGE,
          dryRun: false,
        },
      ]);

      await user.click(within(dialog).getByRole('button', { name: 'Close' }));
      await waitFor(() =>
        expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
      );
      expect(within(card('dev')).getByText('1.5.0')).toBeInTheDocument();
    });

    it('shows a failed rollout with the problems and their fix', async () => {
      const user = setupUser();
      let applied = false;
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(() =>
          applied
            ? statusResponse([
                environmentStatus({
                  phase: 'Failed',
                  image: NEW_IMAGE,
                  revision: 4,
                  replicas: { desired: 2, updated: 1, ready: 1, available: 1 },
                  problems: [
                    {
                      kind: 'Pod',
                      name: 'fraud-scorer-5f6-xyz',
                      severity: 10,
                      message: 'CrashLoopBackOff: model file not found',
                      fix: {
                        explanation: 'The container exits right after start.',
                        actions: ['Check the logs of the pod'],
                      },
                    },
                  ],
                }),
              ])
            : healthyStatus,
        ),
        deployHandler(body => {
          if (!body.dryRun) applied = true;
          return deployed(body);
        }),
      );

      await render({ pollMs: 20 });
      await within(card('dev')).findByText('Available');
      await user.click(await enabledButton(() => document.body, 'Deploy'));
      const dialog = await screen.findByRole('dialog', {
        name: 'Deploy an image',
      });
      const image = within(dialog).getByLabelText('Image');
      await user.clear(image);
      await user.paste(NEW_IMAGE);
      await user.click(within(dialog).getByRole('button', { name: 'Deploy' }));

      expect(
        await within(dialog).findByText('Rollout failed'),
      ).toBeInTheDocument();
      expect(
        within(dialog).getByText('CrashLoopBackOff: model file not found'),
      ).toBeInTheDocument();
      expect(
        within(dialog).getByText(
          'Suggested fix: The container exits right after start.',
        ),
      ).toBeInTheDocument();
      expect(within(dialog).queryByText('Rollout complete')).toBeNull();
    });

    it('deploys to the environment of the card it was opened from', async () => {
      const user = setupUser();
      const bodies: DeployRequest[] = [];
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(healthyStatus),
        deployHandler(deployed, bodies),
      );

      await render();
      await within(card('prod')).findByText('Available');
      await user.click(
        await enabledButton(() => card('prod'), 'Deploy to prod'),
      );
      const dialog = await screen.findByRole('dialog', {
        name: 'Deploy an image',
      });
      expect(within(dialog).getByLabelText('Environment')).toHaveValue('prod');
      expect(within(dialog).getByLabelText('Image')).toHaveValue(
        'ghcr.io/acme/fraud-scorer:1.4.1',
      );
      await user.selectOptions(
        within(dialog).getByLabelText('Environment'),
        'dev',
      );
      expect(within(dialog).getByLabelText('Image')).toHaveValue(
        'ghcr.io/acme/fraud-scorer:1.4.2',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
      await within(dialog).findByRole('region', { name: 'Preview (dry run)' });
      expect(bodies).toEqual([
        {
          entityRef: ENTITY_REF,
          environment: 'dev',
          image: 'ghcr.io/acme/fraud-scorer:1.4.2',
          dryRun: true,
        },
      ]);
    });

    it('deploys a build from the Builds card by its id, and by image once the image is edited; the history names the build', async () => {
      const user = setupUser();
      const bodies: DeployRequest[] = [];
      const built = buildRecord({ entityRef: ENTITY_REF });
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({
          items: [
            deploymentRecord({
              image: `${built.image}@${built.digest}`,
              buildId: built.id,
            }),
          ],
        }),
        deploymentStatusHandler(healthyStatus),
        deployHandler(deployed, bodies),
        ...buildsHandlers({ list: () => ({ items: [built] }) }),
      );

      await render();
      expect(
        await screen.findByText(`from build ${built.id.slice(0, 8)}`),
      ).toBeInTheDocument();
      const builds = await screen.findByRole('table', { name: 'Builds' });
      await user.click(
        await enabledButton(() => builds as HTMLElement, 'Deploy'),
      );
      const dialog = await screen.findByRole('dialog', {
        name: 'Deploy an image',
      });
      const image = within(dialog).getByLabelText('Image');
      expect(image).toHaveValue(`${built.image}@${built.digest}`);
      await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
      await within(dialog).findByRole('region', { name: 'Preview (dry run)' });
      await user.clear(image);
      await user.type(image, 'ghcr.io/acme/fraud-scorer:1.4.2');
      await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
      await waitFor(() => expect(bodies).toHaveLength(2));
      expect(bodies).toEqual([
        {
          entityRef: ENTITY_REF,
          environment: 'dev',
          buildId: built.id,
          dryRun: true,
        },
        {
          entityRef: ENTITY_REF,
          environment: 'dev',
          image: 'ghcr.io/acme/fraud-scorer:1.4.2',
          dryRun: true,
        },
      ]);
    });

    it('shows a 409 conflict with the backend message and retries with force', async () => {
      const user = setupUser();
      const bodies: DeployRequest[] = [];
      const conflict =
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas';
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(healthyStatus),
        deployHandler(body => {
          if (!body.force) {
            return backstageErrorResponse({
              status: 409,
              name: 'ConflictError',
              message: conflict,
              url: '/api/modelops/deployments',
            });
          }
          return deployed(body);
        }, bodies),
      );

      await render();
      await within(card('dev')).findByText('Available');
      await user.click(await enabledButton(() => document.body, 'Deploy'));
      const dialog = await screen.findByRole('dialog', {
        name: 'Deploy an image',
      });
      const image = within(dialog).getByLabelText('Image');
      await user.clear(image);
      await user.paste(NEW_IMAGE);
      await user.click(within(dialog).getByRole('button', { name: 'Deploy' }));

      expect(await within(dialog).findByText(conflict)).toBeInTheDocument();
      await user.click(
        within(dialog).getByRole('button', { name: 'Deploy anyway (force)' }),
      );
      expect(
        await within(dialog).findByText(
          `Applied revision 4: ${NEW_IMAGE} to dev`,
        ),
      ).toBeInTheDocument();
      expect(bodies).toEqual([
        {
          entityRef: ENTITY_REF,
          environment: 'dev',
          image: NEW_IMAGE,
          dryRun: false,
        },
        {
          entityRef: ENTITY_REF,
          environment: 'dev',
          image: NEW_IMAGE,
          dryRun: false,
          force: true,
        },
      ]);
    });

    it('shows other backend errors with their message', async () => {
      const user = setupUser();
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(healthyStatus),
        deployHandler(() =>
          backstageErrorResponse({
            status: 400,
            name: 'InputError',
            message: 'image repository must be ghcr.io/acme/fraud-scorer',
            url: '/api/modelops/deployments',
          }),
        ),
      );

      await render();
      await within(card('dev')).findByText('Available');
      await user.click(await enabledButton(() => document.body, 'Deploy'));
      const dialog = await screen.findByRole('dialog', {
        name: 'Deploy an image',
      });
      await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
      expect(
        await within(dialog).findByText(
          'Error: image repository must be ghcr.io/acme/fraud-scorer',
        ),
      ).toBeInTheDocument();
      expect(
        within(dialog).queryByRole('button', { name: 'Deploy anyway (force)' }),
      ).not.toBeInTheDocument();
    });
  });

  describe('rollback and promote', () => {
    it('rolls back to a recorded revision after previewing it', async () => {
      const user = setupUser();
      const calls: RollbackCall[] = [];
      const queries: URLSearchParams[] = [];
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentStatusHandler(healthyStatus),
        deploymentHistoryHandler(
          {
            items: [
              deploymentRecord({ id: 'dep-4', revision: 4, image: NEW_IMAGE }),
              deploymentRecord({
                id: 'dry-9',
                revision: undefined,
                dryRun: true,
              }),
              deploymentRecord({
                id: 'fail-8',
                revision: undefined,
                result: 'failed',
                error: 'admission webhook denied the request',
              }),
              deploymentRecord({ id: 'dep-2', revision: 2 }),
            ],
          },
          queries,
        ),
        rollbackHandler(
          ({ body }) => ({
            deployment: deploymentRecord({
              id: body.dryRun ? 'dry-10' : 'dep-5',
              action: 'rollback',
              revision: body.dryRun ? undefined : 5,
              dryRun: !!body.dryRun,
              sourceDeploymentId: 'dep-2',
            }),
            diff: diffFor({
              entityRef: ENTITY_REF,
              environment: 'dev',
              image: 'ghcr.io/acme/fraud-scorer:1.4.2',
            }),
          }),
          calls,
        ),
      );

      await render();
      const history = await screen.findByRole('table', {
        name: 'Deployment history',
      });
      // Only applied, succeeded records with a revision can be rolled back to.
      expect(
        within(history).getAllByRole('button', { name: 'Rollback' }),
      ).toHaveLength(2);
      expect(
        within(history).getByText(
          'Failed: admission webhook denied the request',
        ),
      ).toBeInTheDocument();

      const row = within(history).getByText('2').closest('tr')!;
      await user.click(await enabledButton(() => row, 'Rollback'));
      const dialog = await screen.findByRole('dialog', {
        name: 'Roll back dev to revision 2',
      });
      await within(dialog).findByRole('region', { name: 'Preview (dry run)' });
      expect(calls).toEqual([{ id: 'dep-2', body: { dryRun: true } }]);

      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      expect(
        await within(dialog).findByText(/Applied revision 5/),
      ).toBeInTheDocument();
      expect(calls).toEqual([
        { id: 'dep-2', body: { dryRun: true } },
        { id: 'dep-2', body: { dryRun: false } },
      ]);
      // The history is loaded again after the rollback.
      await waitFor(() => expect(queries).toHaveLength(2));
    });

    it('promotes the image of one environment to the next after previewing it', async () => {
      const user = setupUser();
      const bodies: DeployRequest[] = [];
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentHistoryHandler({ items: [] }),
        deploymentStatusHandler(healthyStatus),
        deployHandler(deployed, bodies),
      );

      await render();
      await within(card('dev')).findByText('Available');
      // The last environment has nothing to promote to.
      expect(
        within(card('prod')).queryByRole('button', { name: /Promote/ }),
      ).not.toBeInTheDocument();

      await user.click(
        await enabledButton(() => card('dev'), 'Promote to prod'),
      );
      const dialog = await screen.findByRole('dialog', {
        name: 'Promote dev to prod',
      });
      expect(dialog).toHaveTextContent(
        'Deploys the image running in dev (ghcr.io/acme/fraud-scorer:1.4.2) to prod.',
      );
      await within(dialog).findByRole('region', { name: 'Preview (dry run)' });
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      expect(
        await within(dialog).findByText(/Applied revision 4/),
      ).toBeInTheDocument();
      expect(bodies).toEqual([
        {
          entityRef: ENTITY_REF,
          environment: 'prod',
          fromEnvironment: 'dev',
          dryRun: true,
        },
        {
          entityRef: ENTITY_REF,
          environment: 'prod',
          fromEnvironment: 'dev',
          dryRun: false,
        },
      ]);
    });
  });

  describe('history', () => {
    it('pages with the cursor and filters by environment', async () => {
      const user = setupUser();
      const queries: URLSearchParams[] = [];
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentStatusHandler(healthyStatus),
        deploymentHistoryHandler(query => {
          if (query.get('environment') === 'prod') {
            return { items: [] };
          }
          if (query.get('cursor') === 'page-2') {
            return {
              items: [
                deploymentRecord({
                  id: 'dep-1',
                  revision: 1,
                  image: 'ghcr.io/acme/fraud-scorer:1.0.0',
                }),
              ],
            };
          }
          return {
            items: [
              deploymentRecord({
                id: 'dep-3',
                action: 'promote',
                requestedBy: 'user:default/ops.admin',
              }),
            ],
            nextCursor: 'page-2',
          };
        }, queries),
      );

      await render();
      const history = await screen.findByRole('table', {
        name: 'Deployment history',
      });
      const first = within(history).getAllByRole('row')[1];
      expect(first).toHaveTextContent('5 minutes ago');
      expect(
        within(first).getByRole('link', { name: /ops\.admin/ }),
      ).toBeInTheDocument();
      expect(first).toHaveTextContent('promote');
      expect(first).toHaveTextContent('ghcr.io/acme/fraud-scorer:1.4.2');
      expect(first).toHaveTextContent('No');
      expect(within(first).getByText('Succeeded')).toBeInTheDocument();

      await user.click(screen.getByRole('button', { name: 'Load more' }));
      expect(
        await within(history).findByText('ghcr.io/acme/fraud-scorer:1.0.0'),
      ).toBeInTheDocument();
      expect(within(history).getAllByRole('row')).toHaveLength(3);
      expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
      expect(Object.fromEntries(queries[1])).toEqual({
        entityRef: ENTITY_REF,
        limit: '20',
        cursor: 'page-2',
      });

      // The label stays above the value the native select always shows.
      expect(
        screen.getByText('Environment filter', { selector: 'label' }),
      ).toHaveAttribute('data-shrink', 'true');
      expect(screen.getByLabelText('Environment filter')).toHaveDisplayValue(
        'All environments',
      );
      await user.selectOptions(
        screen.getByLabelText('Environment filter'),
        'prod',
      );
      expect(
        await screen.findByText('No deployments to prod yet.'),
      ).toBeInTheDocument();
      expect(Object.fromEntries(queries[2])).toEqual({
        entityRef: ENTITY_REF,
        environment: 'prod',
        limit: '20',
      });
    });

    it('explains an empty history and shows errors', async () => {
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentStatusHandler(healthyStatus),
        deploymentHistoryHandler({ items: [] }),
      );
      await render();
      expect(
        await screen.findByText(
          'No deployments yet. Deploy an image to start the history.',
        ),
      ).toBeInTheDocument();
    });

    it('shows a history error', async () => {
      server.use(
        environmentsHandler(twoEnvironments),
        deploymentStatusHandler(healthyStatus),
        deploymentHistoryHandler(() =>
          backstageErrorResponse({
            status: 403,
            name: 'NotAllowedError',
            message: 'You may not read the deployments of this entity',
            url: '/api/modelops/deployments',
          }),
        ),
      );
      await render();
      expect(
        (
          await screen.findAllByText(
            'You may not read the deployments of this entity',
          )
        ).length,
      ).toBeGreaterThan(0);
    });
  });
});
