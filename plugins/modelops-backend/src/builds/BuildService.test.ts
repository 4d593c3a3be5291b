import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { ModelOpsImageBuilder } from '@modelops/plugin-modelops-node';
import { Knex } from 'knex';
import { migrationsDir } from '../database/migrations';
import { toModelServiceTarget } from '../service/entities';
import { BuildService, candidateTags } from './BuildService';
import { BuildStore } from './BuildStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

// The builder is a stand-in reporting a fixed status: what is under test is
// how the service records what a builder says (the real BuildKit builder is
// exercised in builds.integration).
function service(store: BuildStore, status: ModelOpsImageBuilder['status']) {
  const builder: ModelOpsImageBuilder = {
    type: 'buildkit',
    trigger: async () => ({ externalRef: 'dev/modelops-builds/job' }),
    status,
    logs: async () => ({ text: '', complete: true }),
    cancel: async () => ({ cancelled: true }),
  };
  return new BuildService({
    config: {} as any,
    builders: new Map([['buildkit', builder]]),
    store,
    environments: {} as any,
    deployments: {} as any,
    loadTarget: async () => {
      throw new Error('not used');
    },
    logger: mockServices.logger.mock(),
  });
}

const newBuild = {
  entityRef: 'component:default/fraud-detector',
  builder: 'buildkit',
  source: {
    url: 'http://git.example.com/acme/fraud.git',
    ref: 'main',
    contextPath: '.',
    dockerfile: 'Dockerfile',
  },
  buildArgs: {},
  image: 'registry.example.com/acme/fraud',
  tags: ['t1'],
  idempotencyKey: 'k',
  requestedBy: 'user:default/ada',
};

describe('BuildService.reconcile', () => {
  let knex: Knex;
  let store: BuildStore;
  beforeEach(async () => {
    knex = await databases.init('SQLITE_3');
    await knex.migrate.latest({ directory: migrationsDir });
    store = new BuildStore(knex);
  });
  afterEach(() => knex.destroy());

  it('fails a build that no builder took within five minutes as lost', async () => {
    const { build } = await store.create(newBuild, 600_000);
    const builds = service(store, async () => ({ phase: 'running' }));
    // Just recorded: a trigger may still be under way.
    expect((await builds.reconcile(build)).status).toBe('queued');
    await knex('modelops_builds')
      .where({ id: build.id })
      .update({ created_at: new Date(Date.now() - 6 * 60_000) });
    const stale = (await store.get(build.id))!;
    expect(await builds.reconcile(stale)).toMatchObject({
      status: 'failed',
      reason: 'lost',
    });
  });

  it('records a start once, however the builder spells its time', async () => {
    const { build } = await store.create(newBuild, 600_000);
    await store.updateUnfinished(build.id, { externalRef: 'dev/ns/job' });
    const builds = service(store, async () => ({
      phase: 'running',
      startedAt: '2026-12-02T10:00:00Z',
    }));
    const first = await builds.reconcile((await store.get(build.id))!);
    expect(first).toMatchObject({
      status: 'running',
      startedAt: '2026-12-02T10:00:00.000Z',
    });
    const second = await builds.reconcile(first);
    expect(second.updatedAt).toBe(first.updatedAt);
  });

  it('turns a success without a digest into a failure that says so', async () => {
    const { build } = await store.create(newBuild, 600_000);
    await store.updateUnfinished(build.id, { externalRef: 'dev/ns/job' });
    const builds = service(store, async () => ({ phase: 'succeeded' }));
    expect(await builds.reconcile((await store.get(build.id))!)).toMatchObject({
      status: 'failed',
      reason: 'NoDigest',
    });
  });
});

describe('BuildService.trigger with the inputs of a succeeded build', () => {
  const COMMIT = '0123456789abcdef0123456789abcdef01234567';
  const OTHER = 'fedcba9876543210fedcba9876543210fedcba98';
  const target = toModelServiceTarget({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: 'fraud-detector',
      annotations: {
        'backstage.io/kubernetes-id': 'fraud-detector',
        'backstage.io/source-location':
          'url:http://git.example.com/acme/fraud/src/branch/main/',
        'modelops/image': 'registry.example.com/acme/fraud',
      },
    },
    spec: { type: 'model-service', owner: 'team-a', lifecycle: 'production' },
  });
  let knex: Knex;
  let store: BuildStore;
  let triggered: number;
  let commitOf: Record<string, string>;
  const builds = (reuseSucceeded = true) =>
    new BuildService({
      config: {
        builds: {
          builder: 'buildkit',
          allowedBuildArgs: ['PYTHON_VERSION', 'EXTRAS'],
          reuseSucceeded,
        },
        environments: { dev: {} },
      } as any,
      builders: new Map([
        [
          'buildkit',
          {
            type: 'buildkit',
            trigger: async () => {
              triggered++;
              return { externalRef: `dev/modelops-builds/job-${triggered}` };
            },
            status: async () => ({ phase: 'running' }),
            logs: async () => ({ text: '', complete: false }),
            cancel: async () => ({ cancelled: true }),
          },
        ],
      ]),
      store,
      environments: { resolveOne: () => ({ name: 'dev' }) } as any,
      deployments: {} as any,
      loadTarget: async () => target,
      logger: mockServices.logger.mock(),
      resolveCommit: async (_url, ref) => commitOf[ref],
    });
  let keys = 0;
  const trigger = (request: Record<string, unknown> = {}, reuse = true) =>
    builds(reuse).trigger({
      target,
      request: {
        entityRef: target.ref,
        idempotencyKey: `key-${++keys}`,
        ...request,
      },
      requestedBy: 'user:default/ada',
    });
  /** A build the builder finished: succeeded with a digest. */
  const succeed = async (id: string, digest = `sha256:${'a'.repeat(64)}`) =>
    store.updateUnfinished(id, {
      status: 'succeeded',
      digest,
      finishedAt: new Date().toISOString(),
    });

  beforeEach(async () => {
    knex = await databases.init('SQLITE_3');
    await knex.migrate.latest({ directory: migrationsDir });
    store = new BuildStore(knex);
    triggered = 0;
    commitOf = { main: COMMIT, release: COMMIT, next: OTHER };
  });
  afterEach(() => knex.destroy());

  it('gives the succeeded build back, building nothing, whatever names its commit and in whatever order its args come', async () => {
    const first = await trigger({
      buildArgs: { PYTHON_VERSION: '3.12', EXTRAS: 'cpu' },
    });
    expect(first).toMatchObject({ created: true });
    expect(first.reused).toBeUndefined();
    await succeed(first.build.id);
    const again = await trigger({
      ref: 'release',
      buildArgs: { EXTRAS: 'cpu', PYTHON_VERSION: '3.12' },
    });
    expect(again).toMatchObject({ created: false, reused: true });
    expect(again.build).toMatchObject({
      id: first.build.id,
      status: 'succeeded',
      tag: '0123456789ab',
      digest: `sha256:${'a'.repeat(64)}`,
    });
    expect(triggered).toBe(1);
    expect(await knex('modelops_builds').count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('builds again for other inputs, for rebuild, for a deploy, or with reuse turned off', async () => {
    const first = await trigger();
    await succeed(first.build.id);
    const others = [
      await trigger({ ref: 'next' }),
      await trigger({ buildArgs: { PYTHON_VERSION: '3.11' } }),
      await trigger({ dockerfile: 'serving/Dockerfile' }),
      await trigger({ contextPath: 'model' }),
      await trigger({ rebuild: true }),
      await trigger({ deployTo: 'dev' }),
      await trigger({}, false),
    ];
    for (const other of others) {
      expect(other).toMatchObject({ created: true });
      expect(other.build.id).not.toBe(first.build.id);
    }
    expect(triggered).toBe(1 + others.length);
    // One tag never names two contents: the same commit built again gets
    // the commit's tag with the build's own suffix.
    expect(others[4].build.tag).toMatch(/^0123456789ab-[0-9a-f]+$/);
  });

  it('reuses only a build that succeeded with a digest, and never without a commit', async () => {
    const running = await trigger();
    expect((await trigger()).created).toBe(true);
    await store.updateUnfinished(running.build.id, {
      status: 'failed',
      reason: 'BuildFailed',
    });
    expect((await trigger()).created).toBe(true);
    // A ref the server cannot resolve: built, and never matched later.
    delete commitOf.main;
    const unresolved = await trigger();
    await succeed(unresolved.build.id);
    expect((await trigger()).created).toBe(true);
    expect(triggered).toBe(5);
  });
});

describe('candidateTags', () => {
  it("uses the commit's first 12 digits, then with the build's suffix; a timestamp without a commit", () => {
    expect(
      candidateTags('0123456789abcdef0123456789abcdef01234567', 'a1b2c3'),
    ).toEqual(['0123456789ab', '0123456789ab-a1b2c3']);
    expect(
      candidateTags(undefined, 'a1b2c3', new Date('2026-12-02T10:11:12.345Z')),
    ).toEqual(['20261202t101112-a1b2c3']);
  });
});
