import { TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  DatabaseDriftReferenceStore,
  DriftReference,
  driftReferenceKey,
} from './DriftReferenceStore';
import { migrationsDir } from './migrations';

jest.setTimeout(60_000);

// SQLite always; PostgreSQL when scripts/test started one and exported its
// connection string.
const databases = TestDatabases.create({
  ids: ['POSTGRES_18', 'POSTGRES_17', 'POSTGRES_16', 'POSTGRES_15', 'SQLITE_3'],
});

const reference = (over: Partial<DriftReference> = {}): DriftReference => ({
  entityRef: 'component:default/fraud-detector',
  environment: 'prod',
  revision: 3,
  windowStart: Date.parse('2026-12-01T10:00:00Z'),
  windowEnd: Date.parse('2026-12-01T12:30:00Z'),
  complete: false,
  histograms: [
    { metric: { feature: 'amount', le: '10' }, value: 12 },
    { metric: { feature: 'amount', le: '+Inf' }, value: 40.5 },
  ],
  computedAt: Date.parse('2026-12-01T12:35:00Z'),
  ...over,
});

describe.each(databases.eachSupportedId())(
  'DatabaseDriftReferenceStore on %p',
  databaseId => {
    let knex: Knex;
    let store: DatabaseDriftReferenceStore;

    beforeEach(async () => {
      knex = await databases.init(databaseId);
      await knex.migrate.latest({ directory: migrationsDir });
      store = new DatabaseDriftReferenceStore(knex);
    });

    afterEach(async () => {
      await knex.destroy();
    });

    it('gives back what was stored, by key, and only the keys asked for', async () => {
      const a = reference();
      const b = reference({ revision: 4 });
      const c = reference({ environment: 'dev' });
      for (const r of [a, b, c]) await store.put(r);
      const got = await store.get([a, c]);
      expect([...got.keys()].sort()).toEqual(
        [driftReferenceKey(a), driftReferenceKey(c)].sort(),
      );
      expect(got.get(driftReferenceKey(a))).toEqual(a);
      expect(await store.get([])).toEqual(new Map());
    });

    it('replaces the reference of the same revision when it is read again', async () => {
      await store.put(reference());
      const final = reference({
        windowEnd: Date.parse('2026-12-02T10:00:00Z'),
        complete: true,
        histograms: [{ metric: { feature: 'amount', le: '+Inf' }, value: 99 }],
        computedAt: Date.parse('2026-12-02T10:05:00Z'),
      });
      await store.put(final);
      expect(await knex('modelops_drift_references')).toHaveLength(1);
      expect((await store.get([final])).get(driftReferenceKey(final))).toEqual(
        final,
      );
    });

    it('reads the references of more services than one IN list takes', async () => {
      const many = Array.from({ length: 1203 }, (_, i) =>
        reference({ entityRef: `component:default/svc-${i}` }),
      );
      await knex.batchInsert(
        'modelops_drift_references',
        many.map(r => ({
          entity_ref: r.entityRef,
          environment: r.environment,
          revision: r.revision,
          window_start: new Date(r.windowStart),
          window_end: new Date(r.windowEnd),
          complete: r.complete,
          histograms: '[]',
          computed_at: new Date(r.computedAt),
        })),
        200,
      );
      expect((await store.get(many)).size).toBe(1203);
    });
  },
);
