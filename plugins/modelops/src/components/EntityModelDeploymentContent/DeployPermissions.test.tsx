/*
 * Kept in its own file: usePermission caches answers per permission and
 * resource for the whole module, so a denied answer would leak into tests
 * that expect the buttons enabled.
 */
import { registerMswTestHooks } from '@backstage/test-utils';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  createModelOpsBackend,
  deploymentHistoryHandler,
  deploymentRecord,
  deploymentStatusHandler,
  environmentStatus,
  environmentsHandler,
  environmentsResponse,
  modelServiceEntity,
  renderForEntity,
  statusResponse,
} from '../../__testUtils__/modelOpsBackend';
import { EntityModelDeploymentContent } from './EntityModelDeploymentContent';

describe('Model deployment tab: permissions (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  it('disables deploy, promote and rollback with a tooltip that says why', async () => {
    const user = userEvent.setup({ delay: null });
    server.use(
      environmentsHandler({
        ...environmentsResponse,
        environments: environmentsResponse.environments.map(e => ({
          ...e,
          error: undefined,
        })),
      }),
      deploymentHistoryHandler({ items: [deploymentRecord({ id: 'dep-3' })] }),
      deploymentStatusHandler(
        statusResponse([
          environmentStatus(),
          environmentStatus({ environment: 'prod', cluster: 'prod-eu-1' }),
        ]),
      ),
    );

    await renderForEntity(
      <EntityModelDeploymentContent />,
      modelServiceEntity,
      {
        permission: 'DENY',
      },
    );

    const card = (name: string) =>
      screen.getByRole('region', { name: `${name} environment` });
    await within(card('dev')).findByText('Available');
    await screen.findByRole('button', { name: 'Rollback' });

    const why =
      'You need the modelops.deployment.create permission on component:default/fraud-scorer — owners of this service and platform admins have it';
    // The buttons are drawn again once the permission is denied; wait for
    // that on one of them, then check all of them once.
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Deploy' })).toBeDisabled(),
    );
    const deploy = screen.getByRole('button', { name: 'Deploy' });
    const promote = within(card('dev')).getByRole('button', {
      name: 'Promote to prod',
    });
    const rollback = screen.getByRole('button', { name: 'Rollback' });
    for (const button of [
      deploy,
      within(card('dev')).getByRole('button', { name: 'Deploy to dev' }),
      promote,
      rollback,
    ]) {
      expect(button).toBeDisabled();
    }

    for (const button of [deploy, promote, rollback]) {
      // Disabled buttons get no pointer events; the wrapper shows the tooltip.
      await user.hover(button.parentElement!);
      expect(await screen.findByRole('tooltip')).toHaveTextContent(why);
      await user.unhover(button.parentElement!);
      await waitFor(() =>
        expect(screen.queryByRole('tooltip')).not.toBeInTheDocument(),
      );
    }
    // Nothing can be opened.
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
