import { registerMswTestHooks } from '@backstage/test-utils';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  buildRecord,
  buildsHandlers,
  createModelOpsBackend,
  environmentsResponse,
  modelServiceEntity,
  renderForEntity,
} from '../../__testUtils__/modelOpsBackend';
import { BuildsCard } from './BuildsCard';

describe('BuildsCard (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  const render = (
    onDeploy = jest.fn(),
    permission?: Parameters<typeof renderForEntity>[2],
    // The permission hook caches decisions per permission and ref across
    // renders: a test of another decision uses a ref of its own.
    entityRef = 'component:default/fraud-scorer',
  ) =>
    renderForEntity(
      <BuildsCard
        entityRef={entityRef}
        environments={environmentsResponse.environments}
        onDeploy={onDeploy}
      />,
      modelServiceEntity,
      permission,
    );

  it('lists the builds with status, tag, commit and who, and deploys a succeeded one by digest', async () => {
    const failed = buildRecord({
      id: '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5c',
      status: 'failed',
      reason: 'BackoffLimitExceeded',
      message: 'buildctl exited with 1\nlast lines...',
      tag: 'fedcba987654',
      digest: undefined,
    });
    server.use(
      ...buildsHandlers({ list: () => ({ items: [buildRecord(), failed] }) }),
    );
    const onDeploy = jest.fn();
    await render(onDeploy);

    const table = await screen.findByRole('table', { name: 'Builds' });
    const [, ok, bad] = within(table).getAllByRole('row');
    expect(ok).toHaveTextContent('succeeded');
    expect(ok).toHaveTextContent('0123456789ab');
    expect(ok).toHaveTextContent('1 min 25 s');
    expect(bad).toHaveTextContent('failed (BackoffLimitExceeded)');
    expect(bad).toHaveTextContent('buildctl exited with 1');
    expect(within(bad).queryByRole('button', { name: 'Deploy' })).toBeNull();
    await userEvent.click(within(ok).getByRole('button', { name: 'Deploy' }));
    expect(onDeploy).toHaveBeenCalledWith(
      `ghcr.io/acme/fraud-scorer@sha256:${'ab'.repeat(32)}`,
      '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b',
    );
  });

  it('says what became of the deploy after a build: done, or why it failed', async () => {
    const deployed = buildRecord({
      deployTo: 'dev',
      deploymentId: '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a60',
    });
    const refused = buildRecord({
      id: '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5d',
      tag: 'fedcba987654',
      deployTo: 'prod',
      message:
        'built, but the deploy to prod failed: Another deploy of component:default/fraud-scorer to prod is still being applied',
    });
    server.use(
      ...buildsHandlers({ list: () => ({ items: [deployed, refused] }) }),
    );
    await render();
    const table = await screen.findByRole('table', { name: 'Builds' });
    const [, done, failed] = within(table).getAllByRole('row');
    expect(done).toHaveTextContent('deployed to dev');
    expect(failed).toHaveTextContent(
      'built, but the deploy to prod failed: Another deploy',
    );
  });

  it('triggers a build of a ref with one idempotency key, and deploys it when asked', async () => {
    const triggers: any[] = [];
    server.use(...buildsHandlers({ list: () => ({ items: [] }), triggers }));
    await render();
    await screen.findByText(/No builds yet/);
    await userEvent.click(screen.getByRole('button', { name: 'Build' }));
    const ref = screen.getByLabelText(/Git ref/);
    await userEvent.clear(ref);
    await userEvent.type(ref, 'release/1.2');
    await userEvent.click(screen.getByLabelText(/Deploy to when it succeeds/));
    await userEvent.click(await screen.findByRole('option', { name: 'dev' }));
    await userEvent.click(
      within(screen.getByRole('dialog')).getByRole('button', { name: 'Build' }),
    );
    await waitFor(() => expect(triggers).toHaveLength(1));
    expect(triggers[0]).toEqual({
      entityRef: 'component:default/fraud-scorer',
      ref: 'release/1.2',
      deployTo: 'dev',
      idempotencyKey: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('says when the backend gave back an earlier build of the same inputs, and builds again when asked', async () => {
    const triggers: any[] = [];
    const earlier = buildRecord();
    server.use(
      ...buildsHandlers({
        list: () => ({ items: [earlier] }),
        triggers,
        trigger: body =>
          body.rebuild
            ? { build: buildRecord({ status: 'queued' }), status: 201 }
            : { build: earlier, status: 200 },
      }),
    );
    await render();
    await screen.findByRole('table', { name: 'Builds' });
    await userEvent.click(screen.getByRole('button', { name: 'Build' }));
    const dialog = screen.getByRole('dialog');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Build' }),
    );
    expect(await within(dialog).findByRole('status')).toHaveTextContent(
      /Commit 0123456789ab was already built with the same inputs: image 0123456789ab.*Nothing was built/,
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Build again' }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(triggers).toHaveLength(2);
    expect(triggers[0].rebuild).toBeUndefined();
    expect(triggers[1]).toMatchObject({ ref: 'main', rebuild: true });
    expect(triggers[1].idempotencyKey).not.toBe(triggers[0].idempotencyKey);
  });

  it("follows a running build's log page by page", async () => {
    const running = buildRecord({
      status: 'running',
      digest: undefined,
      finishedAt: undefined,
    });
    const afters: (string | null)[] = [];
    server.use(
      ...buildsHandlers({
        list: () => ({ items: [running] }),
        logs: after => {
          afters.push(after);
          return after
            ? { text: '#2 pushing manifest\n', complete: true, next: 'b 1' }
            : { text: '#1 [1/2] FROM base\n', complete: false, next: 'a 1' };
        },
      }),
    );
    await render();
    await userEvent.click(await screen.findByRole('button', { name: 'Log' }));
    const log = await screen.findByLabelText('Build log');
    await waitFor(() => expect(log).toHaveTextContent('#2 pushing manifest'), {
      timeout: 5000,
    });
    expect(log).toHaveTextContent('#1 [1/2] FROM base');
    expect(afters).toEqual([null, 'a 1']);
  });

  it('keeps following a log through a failed read, and clears the error once a read succeeds', async () => {
    const running = buildRecord({
      status: 'running',
      digest: undefined,
      finishedAt: undefined,
    });
    let reads = 0;
    server.use(
      ...buildsHandlers({
        list: () => ({ items: [running] }),
        logs: () => {
          reads += 1;
          if (reads === 1) throw new Error('cluster busy');
          return { text: '#7 exporting to image\n', complete: true };
        },
      }),
    );
    await render();
    await userEvent.click(await screen.findByRole('button', { name: 'Log' }));
    const log = await screen.findByLabelText('Build log');
    await waitFor(
      () => expect(log).toHaveTextContent('#7 exporting to image'),
      { timeout: 10_000 },
    );
    expect(screen.queryByText('Could not read the log')).toBeNull();
  });

  it('tells the tab when a build it followed has deployed its digest', async () => {
    let calls = 0;
    const running = buildRecord({
      status: 'running',
      deployTo: 'dev',
      digest: undefined,
      finishedAt: undefined,
    });
    const deployed = buildRecord({
      deployTo: 'dev',
      deploymentId: '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a60',
    });
    server.use(
      ...buildsHandlers({
        list: () => ({ items: [calls++ < 2 ? running : deployed] }),
      }),
    );
    const onDeployed = jest.fn();
    await renderForEntity(
      <BuildsCard
        entityRef="component:default/fraud-scorer"
        environments={environmentsResponse.environments}
        onDeploy={jest.fn()}
        onDeployed={onDeployed}
      />,
      modelServiceEntity,
    );
    await waitFor(() => expect(onDeployed).toHaveBeenCalledTimes(1), {
      timeout: 15_000,
    });
  });

  it('disables Build with the reason when the user may not build', async () => {
    server.use(...buildsHandlers({ list: () => ({ items: [] }) }));
    await render(
      jest.fn(),
      { permission: 'DENY' },
      'component:default/fraud-scorer-denied',
    );
    await screen.findByText(/No builds yet/);
    expect(screen.getByRole('button', { name: 'Build' })).toBeDisabled();
  });
});
