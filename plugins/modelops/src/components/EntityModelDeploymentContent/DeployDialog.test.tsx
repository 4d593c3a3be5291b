import {
  TestApiProvider,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/test-utils';
import {
  DeployRequest,
  DeployResponse,
} from '@modelops/plugin-modelops-common';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { modelOpsApiRef } from '../../api';
import {
  createModelOpsBackend,
  createModelOpsClient,
  deployHandler,
  deploymentRecord,
  environmentStatus,
  environmentsResponse,
} from '../../__testUtils__/modelOpsBackend';
import { DeployDialog } from './DeploymentDialogs';

const ENTITY_REF = 'component:default/fraud-scorer';
const IMAGE = 'ghcr.io/acme/fraud-scorer:1.4.2';

/** The backend's answer: with prune, the object dropped from the manifests is deleted. */
function answer(body: DeployRequest): DeployResponse {
  return {
    deployment: deploymentRecord({
      id: 'dry-1',
      dryRun: !!body.dryRun,
      revision: undefined,
    }),
    diff: [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'fraud-scorer',
        operation: 'unchanged',
        changes: [],
      },
      ...(body.prune
        ? [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: 'fraud-scorer-features',
              operation: 'delete' as const,
              changes: [],
            },
          ]
        : []),
    ],
  };
}

/** The dialog for the first environment of the simulated backend. */
async function renderDialog() {
  await renderInTestApp(
    <TestApiProvider apis={[[modelOpsApiRef, createModelOpsClient()]]}>
      <DeployDialog
        entityRef={ENTITY_REF}
        environments={environmentsResponse.environments.slice(0, 1)}
        imageRepository="ghcr.io/acme/fraud-scorer"
        statusOf={() => environmentStatus()}
        onApplied={() => {}}
        onClose={() => {}}
      />
    </TestApiProvider>,
  );
  return screen.getByRole('dialog', { name: 'Deploy an image' });
}

describe('DeployDialog (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  it('sends prune: true when asked to prune and previews what would be deleted', async () => {
    const user = userEvent.setup({ delay: null });
    const bodies: DeployRequest[] = [];
    server.use(deployHandler(answer, bodies));
    const dialog = await renderDialog();
    const prune = within(dialog).getByRole('checkbox', {
      name: 'Prune objects dropped from the manifests',
    });
    expect(prune).not.toBeChecked();
    expect(prune).toHaveAccessibleDescription(/no longer contain/);

    // Without prune nothing is deleted and the request says nothing of it.
    await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
    const preview = await within(dialog).findByRole('region', {
      name: 'Preview (dry run)',
    });
    expect(within(preview).getByText('1 object: 1 unchanged')).toBeVisible();

    // Ticking it makes the earlier preview stale and sends prune: true.
    await user.click(prune);
    expect(prune).toBeChecked();
    expect(
      within(dialog).queryByRole('region', { name: 'Preview (dry run)' }),
    ).toBeNull();
    await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
    const pruned = await within(dialog).findByText(
      '2 objects: 1 to delete, 1 unchanged',
    );
    expect(pruned).toBeInTheDocument();
    expect(
      within(dialog).getByRole('region', {
        name: 'ConfigMap fraud-scorer-features',
      }),
    ).toHaveTextContent('delete');
    expect(bodies).toEqual([
      { entityRef: ENTITY_REF, environment: 'dev', image: IMAGE, dryRun: true },
      {
        entityRef: ENTITY_REF,
        environment: 'dev',
        image: IMAGE,
        dryRun: true,
        prune: true,
      },
    ]);
  });

  it('sends a canary share with the analysis, and offers none without an analysis', async () => {
    const user = userEvent.setup({ delay: null });
    const bodies: DeployRequest[] = [];
    server.use(deployHandler(answer, bodies));
    const dialog = await renderDialog();
    const canary = within(dialog).getByRole('combobox', { name: 'Canary' });
    const analysis = within(dialog).getByRole('combobox', {
      name: 'SLO analysis',
    });

    // The environment's default analysis, with a canary of 25 %.
    await user.selectOptions(canary, '25');
    await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
    await within(dialog).findByRole('region', { name: 'Preview (dry run)' });

    // No analysis: nothing judges a canary, so none is offered or sent.
    await user.selectOptions(analysis, '0');
    expect(canary).toBeDisabled();
    expect(canary).toHaveAccessibleDescription(/judged by its analysis/);
    await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
    await within(dialog).findByRole('region', { name: 'Preview (dry run)' });

    // A 10-minute analysis keeps the canary chosen before.
    await user.selectOptions(analysis, '600');
    expect(canary).toBeEnabled();
    await user.click(within(dialog).getByRole('button', { name: 'Preview' }));
    await within(dialog).findByRole('region', { name: 'Preview (dry run)' });

    const base = {
      entityRef: ENTITY_REF,
      environment: 'dev',
      image: IMAGE,
      dryRun: true,
    };
    expect(bodies).toEqual([
      { ...base, analysis: { canaryPercent: 25 } },
      { ...base, analysis: { durationSeconds: 0 } },
      { ...base, analysis: { durationSeconds: 600, canaryPercent: 25 } },
    ]);
  });
});
