import { TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { DatabaseDeploymentStore } from './DatabaseDeploymentStore';
import { NewDeployment } from './DeploymentStore';
import { migrationsDir } from './migrations';

jest.setTimeout(60_000);

// SQLite always; PostgreSQL when scripts/test started one and exported its
// connection string.
const databases = TestDatabases.create({
  ids: ['POSTGRES_18', 'POSTGRES_17', 'POSTGRES_16', 'POSTGRES_15', 'SQLITE_3'],
});

const deployment: NewDeployment = {
  entityRef: 'component:default/fraud-detector',
  environment: 'dev',
  cluster: 'dev',
  namespace: 'models',
  action: 'deploy',
  image: 'registry.local/risk/fraud-detector:1.0.0',
  requestedBy: 'user:default/ada',
};

const manifests = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'fraud-detector' },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fraud-detector' } },
];

describe.each(databases.eachSupportedId())(
  'DatabaseDeploymentStore on %p',
  databaseId => {
    let knex: Knex;
    let store: DatabaseDeploymentStore;

    beforeEach(async () => {
      knex = await databases.init(databaseId);
      await knex.migrate.latest({ directory: migrationsDir });
      store = new DatabaseDeploymentStore(knex);
    });

    afterEach(async () => {
      await knex.destroy();
    });

    /** Begins an attempt and gives it its revision, as a deploy that writes. */
    async function reserve(d: NewDeployment = deployment) {
      const { attempt, nextRevision } = await store.begin(d);
      await store.commitRevision({ id: attempt.id, revision: nextRevision });
      return (await store.get(attempt.id))!;
    }

    async function reserveAndFinish(d: NewDeployment = deployment) {
      const reserved = await reserve(d);
      await store.finish({ id: reserved.id, result: 'succeeded', manifests });
      return reserved;
    }

    it('reserves increasing revisions per entity and environment', async () => {
      const first = await reserveAndFinish();
      const second = await reserveAndFinish();
      const prod = await reserve({
        ...deployment,
        environment: 'prod',
      });
      expect([first.revision, second.revision, prod.revision]).toEqual([
        1, 2, 1,
      ]);
      expect(prod).toMatchObject({
        result: 'pending',
        dryRun: false,
        objects: [],
      });
    });

    it('lets one of many concurrent reservations through and refuses the rest', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, () => reserve(deployment)),
      );
      const won = outcomes.filter(o => o.status === 'fulfilled');
      const lost = outcomes.filter(
        o => o.status === 'rejected',
      ) as PromiseRejectedResult[];
      expect(won).toHaveLength(1);
      expect((won[0] as PromiseFulfilledResult<any>).value.revision).toBe(1);
      for (const o of lost) {
        expect(o.reason.name).toBe('ConflictError');
        expect(o.reason.message).toContain('is still being applied');
      }
      await store.finish({
        id: (won[0] as PromiseFulfilledResult<any>).value.id,
        result: 'succeeded',
        manifests,
      });
      expect((await reserve(deployment)).revision).toBe(2);
    });

    it('gives revisions only to attempts that reach the cluster', async () => {
      const first = await reserveAndFinish();
      // Refused before any write: begun, never given its revision.
      const refused = await store.begin(deployment);
      expect(refused.nextRevision).toBe(2);
      await store.finish({
        id: refused.attempt.id,
        result: 'failed',
        error: 'conflict',
        manifests,
      });
      await store.recordFinished({
        ...deployment,
        dryRun: false,
        result: 'failed',
        error: 'not allowed',
        manifests: [],
      });
      await store.recordFinished({
        ...deployment,
        dryRun: true,
        result: 'succeeded',
        manifests,
      });
      const second = await reserveAndFinish();
      expect([first.revision, second.revision]).toEqual([1, 2]);
      expect((await store.get(refused.attempt.id))!.revision).toBeUndefined();
      const history = await store.list({
        entityRef: deployment.entityRef,
        limit: 10,
      });
      expect(history.items.map(i => [i.revision, i.result, i.dryRun])).toEqual([
        [2, 'succeeded', false],
        [undefined, 'succeeded', true],
        [undefined, 'failed', false],
        [undefined, 'failed', false],
        [1, 'succeeded', false],
      ]);
      await expect(
        store.commitRevision({ id: second.id, revision: 3 }),
      ).rejects.toThrow('is not pending');
    });

    it('fails attempts left pending by a stopped backend', async () => {
      const stale = await reserve(deployment);
      await knex('modelops_deployments')
        .where({ id: stale.id })
        .update({ created_at: new Date(Date.now() - 10 * 60 * 1000) });
      // A stale pending attempt no longer blocks new deploys...
      const fresh = await reserve(deployment);
      expect(fresh.revision).toBe(2);
      // ...and is marked failed; the fresh one is left alone.
      expect(await store.failInterrupted()).toBe(1);
      expect(await store.get(stale.id)).toMatchObject({
        result: 'failed',
        error: expect.stringContaining('Interrupted'),
      });
      expect((await store.get(fresh.id))!.result).toBe('pending');
    });

    it('finishes an attempt with its manifests and keeps it across reads', async () => {
      const reserved = await reserve(deployment);
      const finished = await store.finish({
        id: reserved.id,
        result: 'succeeded',
        manifests,
      });
      expect(finished).toMatchObject({
        result: 'succeeded',
        revision: 1,
        objects: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fraud-detector' },
          { apiVersion: 'v1', kind: 'Service', name: 'fraud-detector' },
        ],
        manifests,
      });
      await expect(
        store.finish({ id: reserved.id, result: 'failed', manifests }),
      ).rejects.toThrow('is not pending');
      expect(await store.get(reserved.id)).toEqual(finished);
    });

    it('names the build a deploy came from, in the record and the history', async () => {
      const buildId = '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b';
      const reserved = await reserve({
        ...deployment,
        image: `registry.local/risk/fraud-detector@sha256:${'a'.repeat(64)}`,
        buildId,
      });
      expect(reserved.buildId).toBe(buildId);
      await store.finish({ id: reserved.id, result: 'succeeded', manifests });
      const plain = await reserveAndFinish(deployment);
      expect(plain).not.toHaveProperty('buildId');
      const page = await store.list({
        entityRef: deployment.entityRef,
        limit: 10,
      });
      expect(page.items.map(i => i.buildId)).toEqual([undefined, buildId]);
    });

    it('records dry runs without a revision', async () => {
      const dry = await store.recordFinished({
        ...deployment,
        dryRun: true,
        result: 'failed',
        error: 'boom',
        manifests,
      });
      expect(dry).toMatchObject({
        dryRun: true,
        result: 'failed',
        error: 'boom',
      });
      expect(dry.revision).toBeUndefined();
      const next = await reserve(deployment);
      expect(next.revision).toBe(1);
    });

    it('pages history newest first with a cursor and filters by environment', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await reserveAndFinish({
          ...deployment,
          environment: i % 2 ? 'prod' : 'dev',
        });
        ids.push(r.id);
      }
      const page1 = await store.list({
        entityRef: deployment.entityRef,
        limit: 2,
      });
      expect(page1.items.map(i => i.id)).toEqual([ids[4], ids[3]]);
      // History pages carry the object refs, not the manifests.
      expect(page1.items[0].objects).toEqual([
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fraud-detector' },
        { apiVersion: 'v1', kind: 'Service', name: 'fraud-detector' },
      ]);
      expect((page1.items[0] as any).manifests).toBeUndefined();
      const page2 = await store.list({
        entityRef: deployment.entityRef,
        limit: 2,
        cursor: page1.nextCursor,
      });
      expect(page2.items.map(i => i.id)).toEqual([ids[2], ids[1]]);
      const page3 = await store.list({
        entityRef: deployment.entityRef,
        limit: 2,
        cursor: page2.nextCursor,
      });
      expect(page3.items.map(i => i.id)).toEqual([ids[0]]);
      expect(page3.nextCursor).toBeUndefined();

      const dev = await store.list({
        entityRef: deployment.entityRef,
        environment: 'dev',
        limit: 10,
      });
      expect(dev.items.map(i => i.id)).toEqual([ids[4], ids[2], ids[0]]);
      await expect(
        store.list({
          entityRef: deployment.entityRef,
          limit: 2,
          cursor: 'garbage',
        }),
      ).rejects.toThrow('Invalid cursor');
    });

    it('finds the last successful deployment of an environment', async () => {
      const a = await reserve(deployment);
      await store.finish({ id: a.id, result: 'succeeded', manifests });
      const b = await reserve(deployment);
      await store.finish({ id: b.id, result: 'failed', error: 'x', manifests });
      await store.recordFinished({
        ...deployment,
        dryRun: true,
        result: 'succeeded',
        manifests,
      });
      const last = await store.lastSuccessful({
        entityRef: deployment.entityRef,
        environment: 'dev',
      });
      expect(last?.id).toBe(a.id);
      expect(
        await store.lastSuccessful({
          entityRef: deployment.entityRef,
          environment: 'prod',
        }),
      ).toBeUndefined();
    });

    it('finds the rollout in effect at a time: the newest one before it that did not fail', async () => {
      const at = (id: string, iso: string) =>
        knex('modelops_deployments')
          .where({ id })
          .update({ created_at: new Date(iso) });
      const first = await reserveAndFinish();
      const second = await reserveAndFinish();
      const broken = await reserve(deployment);
      await store.finish({
        id: broken.id,
        result: 'failed',
        error: 'x',
        manifests,
      });
      await at(first.id, '2026-12-01T10:00:00Z');
      await at(second.id, '2026-12-01T11:00:00Z');
      await at(broken.id, '2026-12-01T11:30:00Z');
      const inEffect = (iso: string) =>
        store
          .rolloutInEffect({
            entityRef: deployment.entityRef,
            environment: 'dev',
            at: new Date(iso),
          })
          .then(r => r?.id);
      expect(await inEffect('2026-12-01T09:59:59Z')).toBeUndefined();
      expect(await inEffect('2026-12-01T10:30:00Z')).toBe(first.id);
      expect(await inEffect('2026-12-01T11:00:00Z')).toBe(second.id);
      // The failed rollout left the earlier revision serving.
      expect(await inEffect('2026-12-01T12:00:00Z')).toBe(second.id);
    });

    it('finds the rollout that made a revision, and nothing for an unknown one', async () => {
      const first = await reserveAndFinish();
      const second = await reserveAndFinish();
      await reserveAndFinish({ ...deployment, environment: 'prod' });
      const found = await store.rolloutOf({
        entityRef: deployment.entityRef,
        environment: 'dev',
        revision: second.revision!,
      });
      expect(found).toMatchObject({
        id: second.id,
        revision: second.revision,
        result: 'succeeded',
      });
      expect(found).not.toHaveProperty('manifests');
      expect(first.revision).toBeLessThan(second.revision!);
      expect(
        await store.rolloutOf({
          entityRef: deployment.entityRef,
          environment: 'dev',
          revision: 99,
        }),
      ).toBeUndefined();
    });
  },
);
