/*
 * The watched Deployment list against the local platform's dev cluster, as
 * the backend's own namespace-scoped service account: listed once, then
 * kept current by the watch (created, changed and deleted Deployments
 * show without another list), resumed after the server ends a watch, and
 * refused cluster-wide where RBAC grants one namespace only.
 */
import { NotAllowedError } from '@backstage/errors';
import { mockServices } from '@backstage/backend-test-utils';
import {
  explainSkip,
  kubectl,
  platformAvailable,
  platformClusters,
  uniqueId,
  waitFor,
} from '../deploy/testUtils/platform';
import { slimDeployment } from '../deploy/status/status';
import { ClusterClients } from './ClusterClients';
import { WatchedList } from './WatchedList';

const available = platformAvailable();
if (!available) explainSkip('WatchedList.integration');
const describeIfPlatform = available ? describe : describe.skip;

jest.setTimeout(120_000);

describeIfPlatform('WatchedList against the local platform', () => {
  let clusters: ClusterClients;
  const watches: WatchedList[] = [];
  const id = uniqueId('it-watch');
  const logger = mockServices.logger.mock();

  const deployment = (name: string) =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace: 'models',
        labels: { 'backstage.io/kubernetes-id': id },
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'model-server', image: 'r/m:1' }] },
        },
      },
    });

  const watch = async (namespace?: string, watchSeconds?: number) => {
    const client = clusters.get('dev');
    const res = (await client.discover()).lookup('apps/v1', 'Deployment')!;
    const w = new WatchedList({
      client,
      resource: res,
      namespace,
      labelSelector: `backstage.io/kubernetes-id=${id}`,
      slim: slimDeployment,
      logger,
      watchSeconds,
    });
    watches.push(w);
    return w;
  };

  const names = async (w: WatchedList) =>
    (await w.objects()).map(o => o.metadata.name).sort();

  beforeAll(() => {
    clusters = platformClusters();
  });

  afterAll(async () => {
    for (const w of watches) w.stop();
    await kubectl('dev', [
      'delete',
      '-n',
      'models',
      'deployment',
      '-l',
      `backstage.io/kubernetes-id=${id}`,
      '--ignore-not-found',
      '--wait=false',
    ]);
    clusters?.close();
  });

  it('refuses a cluster-wide watch where only a namespace is granted', async () => {
    const w = await watch();
    await expect(w.objects()).rejects.toBeInstanceOf(NotAllowedError);
  });

  it('lists once, then follows creations, changes and deletions by the watch alone', async () => {
    expect(
      (await kubectl('dev', ['apply', '-f', '-'], deployment(`${id}-a`))).code,
    ).toBe(0);
    const w = await watch('models', 3);
    expect(await names(w)).toEqual([`${id}-a`]);
    const [a] = await w.objects();
    // Kept slim: what a rollout status reads, not the managed fields.
    expect(a.metadata).not.toHaveProperty('managedFields');
    expect((a.spec as any).template.spec.containers).toEqual([
      { name: 'model-server', image: 'r/m:1' },
    ]);

    expect(
      (await kubectl('dev', ['apply', '-f', '-'], deployment(`${id}-b`))).code,
    ).toBe(0);
    await waitFor(
      'the new Deployment to be watched',
      async () => ((await names(w)).length === 2 ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    await kubectl('dev', [
      'annotate',
      '-n',
      'models',
      'deployment',
      `${id}-a`,
      'modelops/revision=7',
    ]);
    await waitFor(
      'the change to be watched',
      async () =>
        (await w.objects()).find(o => o.metadata.name === `${id}-a`)?.metadata
          .annotations?.['modelops/revision'] === '7'
          ? true
          : undefined,
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    // The server ended the first watch (3 s); it resumed where it was.
    await new Promise(r => setTimeout(r, 4_000));
    await kubectl('dev', [
      'delete',
      '-n',
      'models',
      'deployment',
      `${id}-b`,
      '--wait=false',
    ]);
    await waitFor(
      'the deletion to be watched',
      async () => ((await names(w)).length === 1 ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(await names(w)).toEqual([`${id}-a`]);
    expect(w.lists).toBe(1);
  });

  it('answers nothing once stopped', async () => {
    const w = await watch('models');
    await w.objects();
    w.stop();
    await expect(w.objects()).rejects.toThrow(/stopped/);
  });
});
