import { TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { migrationsDir } from '../database/migrations';
import { BuildStore, NewBuild } from './BuildStore';

jest.setTimeout(60_000);

// SQLite always; PostgreSQL when scripts/test started one and exported its
// connection string.
const databases = TestDatabases.create({
  ids: ['POSTGRES_18', 'POSTGRES_17', 'POSTGRES_16', 'POSTGRES_15', 'SQLITE_3'],
});

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const build = (over: Partial<NewBuild> = {}): NewBuild => ({
  entityRef: 'component:default/fraud-detector',
  builder: 'buildkit',
  source: {
    url: 'http://127.0.0.1:13000/modelops-demo/fraud-detector.git',
    ref: 'main',
    commit: COMMIT,
    contextPath: '.',
    dockerfile: 'Dockerfile',
  },
  buildArgs: {},
  image: 'registry.modelops.local/models/fraud-detector',
  tags: ['0123456789ab', '0123456789ab-aaaaaa'],
  idempotencyKey: 'click-1',
  requestedBy: 'user:default/ada',
  ...over,
});

describe.each(databases.eachSupportedId())('BuildStore on %p', databaseId => {
  let knex: Knex;
  let store: BuildStore;

  beforeEach(async () => {
    knex = await databases.init(databaseId);
    await knex.migrate.latest({ directory: migrationsDir });
    store = new BuildStore(knex);
  });

  afterEach(async () => {
    await knex.destroy();
  });

  it('gives concurrent triggers with one key one build', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.create(build(), 600_000)),
    );
    const ids = new Set(results.map(r => r.build.id));
    expect(ids.size).toBe(1);
    expect(results.filter(r => r.created)).toHaveLength(1);
    expect(await knex('modelops_builds')).toHaveLength(1);
    expect(results[0]!.build).toMatchObject({
      status: 'queued',
      tag: '0123456789ab',
      source: { commit: COMMIT },
    });
  });

  it('makes a new build for a key older than the window, and never reuses a tag', async () => {
    const first = await store.create(build(), 600_000);
    // The same key, past its window.
    const again = await store.create(build(), 0);
    expect(again.created).toBe(true);
    expect(again.build.id).not.toBe(first.build.id);
    // The same commit again: its plain tag is taken, so the suffixed one.
    expect(again.build.tag).toBe('0123456789ab-aaaaaa');
    const third = store.create(build({ idempotencyKey: 'click-2' }), 600_000);
    await expect(third).rejects.toThrow('every candidate tag');
  });

  it('never changes a finished build, and lets one caller claim its deploy', async () => {
    const { build: b } = await store.create(
      build({ deployTo: 'dev' }),
      600_000,
    );
    const done = await store.updateUnfinished(b.id, {
      status: 'succeeded',
      digest: `sha256:${'a'.repeat(64)}`,
      finishedAt: '2026-12-02T10:00:00.000Z',
    });
    expect(done).toMatchObject({ status: 'succeeded' });
    expect(
      await store.updateUnfinished(b.id, { status: 'failed', reason: 'lost' }),
    ).toBeUndefined();
    expect(await store.undeployed(10)).toHaveLength(1);
    const claims = await Promise.all([
      store.claimDeploy(b.id),
      store.claimDeploy(b.id),
      store.claimDeploy(b.id),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.undeployed(10)).toHaveLength(0);
    const deploymentId = '01234567-89ab-cdef-0123-456789abcdef';
    await store.recordDeploy(b.id, { deploymentId });
    expect(await store.get(b.id)).toMatchObject({
      status: 'succeeded',
      deploymentId,
      finishedAt: '2026-12-02T10:00:00.000Z',
    });
  });

  it('finds the newest succeeded build of the same inputs, whatever the order of its build args', async () => {
    const inputs = {
      entityRef: 'component:default/fraud-detector',
      builder: 'buildkit',
      source: build().source,
      buildArgs: { MODEL_VERSION: '3', EXTRAS: 'cpu' },
      image: build().image,
    };
    const succeed = (id: string, digest: string) =>
      store.updateUnfinished(id, {
        status: 'succeeded',
        digest,
        finishedAt: new Date().toISOString(),
      });
    expect(await store.succeededLike(inputs)).toBeUndefined();
    const first = (
      await store.create(
        build({ buildArgs: { EXTRAS: 'cpu', MODEL_VERSION: '3' } }),
        600_000,
      )
    ).build;
    // Unfinished, then succeeded without a digest: neither is an image.
    expect(await store.succeededLike(inputs)).toBeUndefined();
    await store.updateUnfinished(first.id, { status: 'succeeded' });
    expect(await store.succeededLike(inputs)).toBeUndefined();
    const second = (
      await store.create(
        build({ idempotencyKey: 'click-2', buildArgs: inputs.buildArgs }),
        600_000,
      )
    ).build;
    await succeed(second.id, `sha256:${'b'.repeat(64)}`);
    expect(await store.succeededLike(inputs)).toMatchObject({
      id: second.id,
      digest: `sha256:${'b'.repeat(64)}`,
    });
    // Any other input, or no commit, matches nothing.
    const others: Parameters<BuildStore['succeededLike']>[0][] = [
      { ...inputs, buildArgs: { MODEL_VERSION: '4', EXTRAS: 'cpu' } },
      { ...inputs, buildArgs: {} },
      { ...inputs, builder: 'github-actions' },
      { ...inputs, image: 'registry.modelops.local/models/other' },
      { ...inputs, source: { ...inputs.source, dockerfile: 'Dockerfile.gpu' } },
      { ...inputs, source: { ...inputs.source, contextPath: 'serving' } },
      { ...inputs, source: { ...inputs.source, commit: 'f'.repeat(40) } },
      { ...inputs, source: { ...inputs.source, commit: undefined } },
      { ...inputs, entityRef: 'component:default/churn-predictor' },
    ];
    for (const other of others)
      expect(await store.succeededLike(other)).toBeUndefined();
  });

  it("lists an entity's builds newest first, a page at a time", async () => {
    for (const key of ['a', 'b', 'c'])
      await store.create(
        build({ idempotencyKey: key, tags: [`t-${key}`] }),
        600_000,
      );
    const first = await store.list({
      entityRef: 'component:default/fraud-detector',
      limit: 2,
    });
    expect(first.items.map(b => b.tag)).toEqual(['t-c', 't-b']);
    const second = await store.list({
      entityRef: 'component:default/fraud-detector',
      limit: 2,
      cursor: first.nextCursor,
    });
    expect(second.items.map(b => b.tag)).toEqual(['t-a']);
    expect(second.nextCursor).toBeUndefined();
    expect(await store.unfinished(10)).toHaveLength(3);
  });
});
