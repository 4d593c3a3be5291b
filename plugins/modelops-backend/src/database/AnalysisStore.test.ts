import { TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { AnalysisStore, NewAnalysis, toAnalysis } from './AnalysisStore';
import { migrationsDir } from './migrations';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['POSTGRES_18', 'POSTGRES_17', 'POSTGRES_16', 'POSTGRES_15', 'SQLITE_3'],
});

const t0 = new Date('2026-12-06T10:00:00.000Z');
const analysis = (fields: Partial<NewAnalysis> = {}): NewAnalysis => ({
  deploymentId: '01890000-0000-7000-8000-000000000001',
  entityRef: 'component:default/fraud-detector',
  environment: 'prod',
  cluster: 'prod',
  namespace: 'models',
  revision: 4,
  durationSeconds: 600,
  intervalSeconds: 30,
  window: '1m',
  minRequestRate: 0.1,
  onInconclusive: 'pass',
  firstEvaluationAt: new Date(t0.getTime() + 30_000),
  now: t0,
  ...fields,
});

describe.each(databases.eachSupportedId())(
  'AnalysisStore on %p',
  databaseId => {
    let knex: Knex;
    let store: AnalysisStore;

    beforeEach(async () => {
      knex = await databases.init(databaseId);
      await knex.migrate.latest({ directory: migrationsDir });
      store = new AnalysisStore(knex);
    });

    afterEach(async () => {
      await knex.destroy();
    });

    it('starts an analysis running, due at its first evaluation', async () => {
      const created = await store.create(analysis());
      expect(toAnalysis(created)).toMatchObject({
        status: 'running',
        revision: 4,
        startedAt: t0.toISOString(),
        endsAt: '2026-12-06T10:10:00.000Z',
        evaluations: 0,
        conclusiveEvaluations: 0,
      });
      expect(await store.due(t0, 10)).toEqual([]);
      expect(
        (await store.due(new Date(t0.getTime() + 30_000), 10)).map(a => a.id),
      ).toEqual([created.id]);
      expect(await store.ofDeployment(created.deploymentId)).toEqual(created);
    });

    it('records an evaluation once, however many replicas try', async () => {
      const a = await store.create(analysis());
      const evaluation = {
        id: a.id,
        evaluations: 0,
        conclusive: true,
        signals: [],
        message: 'within its SLOs',
        now: t0,
        next: new Date(t0.getTime() + 30_000),
      };
      const results = await Promise.all([
        store.recordEvaluation(evaluation),
        store.recordEvaluation(evaluation),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.get(a.id)).toMatchObject({
        evaluations: 1,
        conclusiveEvaluations: 1,
        message: 'within its SLOs',
      });
    });

    it('lets one caller claim a failed analysis for its rollback, and keeps it due until the rollback is recorded', async () => {
      const a = await store.create(analysis());
      const claim = {
        id: a.id,
        from: ['running' as const],
        to: 'rolling_back' as const,
        now: t0,
        breach: { signal: 'errorRate', value: 0.3, threshold: 0.01 },
        message: 'errorRate 30 % is over its SLO of 1 %',
      };
      const claims = await Promise.all([
        store.transition(claim),
        store.transition(claim),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(toAnalysis((await store.get(a.id))!).status).toBe('failed');
      expect((await store.due(t0, 10)).map(x => x.id)).toEqual([a.id]);
      expect(await store.failedOf([a.deploymentId, 'other'])).toEqual(
        new Set([a.deploymentId]),
      );

      expect(
        await store.transition({
          id: a.id,
          from: ['rolling_back'],
          to: 'failed',
          now: t0,
          rollbackDeploymentId: '01890000-0000-7000-8000-000000000009',
        }),
      ).toBe(true);
      expect(await store.get(a.id)).toMatchObject({
        status: 'failed',
        breach: { signal: 'errorRate', value: 0.3, threshold: 0.01 },
        rollbackDeploymentId: '01890000-0000-7000-8000-000000000009',
        finishedAt: t0.toISOString(),
      });
      expect(await store.due(new Date(t0.getTime() + 3_600_000), 10)).toEqual(
        [],
      );
    });

    it('keeps a canary with its analysis; a canary that never took all the replicas is no revision to go back to', async () => {
      const canary = {
        percent: 25,
        replicas: 1,
        stableReplicas: 3,
        share: 0.25,
        deployments: ['fraud-detector-canary'],
      };
      const a = await store.create(analysis({ canary }));
      expect(toAnalysis(a).canary).toEqual(canary);
      expect(await store.failedOf([a.deploymentId])).toEqual(
        new Set([a.deploymentId]),
      );

      // Passed, being promoted: reads as passed, not yet finished, still due.
      expect(
        await store.transition({
          id: a.id,
          from: ['running'],
          to: 'promoting',
          now: t0,
        }),
      ).toBe(true);
      const promoting = (await store.get(a.id))!;
      expect(toAnalysis(promoting)).toMatchObject({ status: 'passed' });
      expect(promoting.finishedAt).toBeUndefined();
      expect((await store.due(t0, 10)).map(d => d.id)).toEqual([a.id]);
      await store.transition({
        id: a.id,
        from: ['promoting'],
        to: 'passed',
        now: t0,
        canary: { ...canary, outcome: 'promoted' },
      });
      expect((await store.get(a.id))!.canary?.outcome).toBe('promoted');
      expect(await store.failedOf([a.deploymentId])).toEqual(new Set());
      expect(await store.due(t0, 10)).toEqual([]);
    });

    it('reads a canary being stopped as cancelled, without what only the store keeps', async () => {
      const a = await store.create(
        analysis({
          canary: {
            percent: 10,
            replicas: 1,
            stableReplicas: 2,
            share: 1 / 3,
            deployments: ['d-canary'],
          },
        }),
      );
      await store.transition({
        id: a.id,
        from: ['running'],
        to: 'cancelling',
        now: t0,
        cancelledBy: 'user:default/ana',
        canary: { ...a.canary!, restore: true } as any,
      });
      const stored = (await store.get(a.id))!;
      expect((stored.canary as any).restore).toBe(true);
      const api = toAnalysis(stored);
      expect(api.status).toBe('cancelled');
      expect(api.finishedAt).toBeUndefined();
      expect(api.canary).not.toHaveProperty('restore');
      expect((await store.due(t0, 10)).map(d => d.id)).toEqual([a.id]);
    });

    it('lists the running analyses of an environment, not the ended ones', async () => {
      const a = await store.create(analysis());
      const b = await store.create(
        analysis({
          deploymentId: '01890000-0000-7000-8000-000000000002',
          revision: 5,
        }),
      );
      await store.transition({
        id: a.id,
        from: ['running'],
        to: 'cancelled',
        now: t0,
        cancelledBy: 'user:default/ada',
      });
      expect(
        (
          await store.running({
            entityRef: 'component:default/fraud-detector',
            environment: 'prod',
          })
        ).map(x => x.id),
      ).toEqual([b.id]);
    });

    it('lists the analyses of a range, running ones included, oldest first', async () => {
      const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
      const early = await store.create(analysis({ now: at(0) }));
      await store.transition({
        id: early.id,
        from: ['running'],
        to: 'passed',
        now: at(10),
      });
      const late = await store.create(
        analysis({
          deploymentId: '01890000-0000-7000-8000-000000000003',
          revision: 5,
          now: at(30),
        }),
      );
      const between = (from: number, to: number) =>
        store
          .between({
            entityRef: 'component:default/fraud-detector',
            environment: 'prod',
            from: at(from),
            to: at(to),
            limit: 10,
          })
          .then(list => list.map(a => a.id));
      expect(await between(5, 60)).toEqual([early.id, late.id]);
      expect(await between(15, 60)).toEqual([late.id]);
      expect(await between(11, 20)).toEqual([]);
    });
  },
);
