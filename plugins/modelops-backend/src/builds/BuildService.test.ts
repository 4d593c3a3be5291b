import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { ModelOpsImageBuilder } from '@modelops/plugin-modelops-node';
import { Knex } from 'knex';
import { migrationsDir } from '../database/migrations';
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
