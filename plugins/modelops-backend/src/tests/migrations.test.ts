import { TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { migrationsDir } from '../database/migrations';

jest.setTimeout(60_000);

// SQLite always; PostgreSQL when the test script started one and exported its
// connection string (BACKSTAGE_TEST_DATABASE_POSTGRES<major>_CONNECTION_STRING).
const databases = TestDatabases.create({
  ids: ['POSTGRES_18', 'POSTGRES_17', 'POSTGRES_16', 'POSTGRES_15', 'SQLITE_3'],
});

async function migrateUpOnce(knex: Knex) {
  await knex.migrate.up({ directory: migrationsDir });
}

async function migrateDownOnce(knex: Knex) {
  await knex.migrate.down({ directory: migrationsDir });
}

/** Migrates up, one at a time, to and including the migration `name`. */
async function migrateUpTo(knex: Knex, name: string) {
  for (;;) {
    const [completed] = (await knex.migrate.list({
      directory: migrationsDir,
    })) as [Array<string | { name: string }>, unknown];
    if (completed.some(c => (typeof c === 'string' ? c : c.name) === name))
      return;
    await migrateUpOnce(knex);
  }
}

describe('migrations', () => {
  it.each(databases.eachSupportedId())(
    '20261126000000_history creates the history tables and drops them, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUpOnce(knex);

      await knex('modelops_deployments').insert({
        id: '00000000-0000-4000-8000-000000000001',
        entity_ref: 'component:default/fraud-detector',
        environment: 'dev',
        cluster: 'dev',
        namespace: 'models',
        action: 'deploy',
        image: 'registry.local/risk/fraud-detector:1.0.0',
        revision: 1,
        manifests: JSON.stringify([{ kind: 'Deployment' }]),
        dry_run: false,
        status: 'succeeded',
        requested_by: 'user:default/ada',
      });
      await knex('modelops_builds').insert({
        id: '00000000-0000-4000-8000-000000000002',
        entity_ref: 'component:default/fraud-detector',
        provider: 'kaniko',
        image: 'registry.local/risk/fraud-detector:abc123',
        status: 'queued',
        idempotency_key: 'key-1',
        requested_by: 'user:default/ada',
      });

      const [deployment] = await knex('modelops_deployments').select();
      expect(deployment).toMatchObject({
        entity_ref: 'component:default/fraud-detector',
        revision: 1,
        status: 'succeeded',
      });
      expect(deployment.created_at).toBeTruthy();
      expect(Boolean(deployment.dry_run)).toBe(false);

      // The idempotency key is unique per entity.
      const duplicate = await knex('modelops_builds')
        .insert({
          id: '00000000-0000-4000-8000-000000000003',
          entity_ref: 'component:default/fraud-detector',
          provider: 'kaniko',
          image: 'registry.local/risk/fraud-detector:def456',
          status: 'queued',
          idempotency_key: 'key-1',
          requested_by: 'user:default/ada',
        })
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(duplicate?.message).toMatch(/unique|duplicate key/i);

      await migrateDownOnce(knex);
      expect(await knex.schema.hasTable('modelops_deployments')).toBe(false);
      expect(await knex.schema.hasTable('modelops_builds')).toBe(false);

      await knex.destroy();
    },
  );

  it.each(databases.eachSupportedId())(
    '20261206000000_deployment_build adds the build a deploy came from and removes it again, keeping the history, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUpTo(knex, '20261206000000_deployment_build.js');
      const row = {
        id: '00000000-0000-4000-8000-000000000011',
        entity_ref: 'component:default/fraud-detector',
        environment: 'dev',
        cluster: 'dev',
        namespace: 'models',
        action: 'deploy',
        image: `registry.local/risk/fraud-detector@sha256:${'b'.repeat(64)}`,
        revision: 1,
        dry_run: false,
        status: 'succeeded',
        requested_by: 'user:default/ada',
      };
      await knex('modelops_deployments').insert({
        ...row,
        build_id: '00000000-0000-4000-8000-000000000012',
      });
      expect(
        (await knex('modelops_deployments').first('build_id')).build_id,
      ).toBe('00000000-0000-4000-8000-000000000012');

      await migrateDownOnce(knex);
      expect(
        await knex.schema.hasColumn('modelops_deployments', 'build_id'),
      ).toBe(false);
      expect(await knex('modelops_deployments').first()).toMatchObject({
        id: row.id,
        image: row.image,
        revision: 1,
      });
      await migrateUpOnce(knex);
      expect(
        await knex.schema.hasColumn('modelops_deployments', 'build_id'),
      ).toBe(true);
      await knex.destroy();
    },
  );

  it.each(databases.eachSupportedId())(
    '20261207000000_analyses adds analyses and automatic rollbacks and removes them again, keeping the history, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await migrateUpTo(knex, '20261207000000_analyses.js');
      await knex('modelops_deployments').insert({
        id: '00000000-0000-4000-8000-000000000021',
        entity_ref: 'component:default/fraud-detector',
        environment: 'prod',
        cluster: 'prod',
        namespace: 'models',
        action: 'rollback',
        image: 'registry.local/risk/fraud-detector:1.0.0',
        revision: 3,
        dry_run: false,
        status: 'succeeded',
        requested_by: 'user:default/ada',
        automatic: true,
        reason: 'Automatic rollback: the analysis of revision 2 failed',
      });
      await knex('modelops_analyses').insert({
        id: '00000000-0000-4000-8000-000000000022',
        deployment_id: '00000000-0000-4000-8000-000000000020',
        entity_ref: 'component:default/fraud-detector',
        environment: 'prod',
        cluster: 'prod',
        namespace: 'models',
        revision: 2,
        status: 'failed',
        interval_seconds: 30,
        rate_window: '1m',
        min_request_rate: 0.1,
        on_inconclusive: 'pass',
        started_at: new Date(),
        ends_at: new Date(),
        next_evaluation_at: new Date(),
      });
      // One analysis per deployment.
      const duplicate = await knex('modelops_analyses')
        .insert({
          id: '00000000-0000-4000-8000-000000000023',
          deployment_id: '00000000-0000-4000-8000-000000000020',
          entity_ref: 'component:default/fraud-detector',
          environment: 'prod',
          cluster: 'prod',
          namespace: 'models',
          revision: 2,
          status: 'running',
          interval_seconds: 30,
          rate_window: '1m',
          min_request_rate: 0.1,
          on_inconclusive: 'pass',
          started_at: new Date(),
          ends_at: new Date(),
          next_evaluation_at: new Date(),
        })
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(duplicate?.message).toMatch(/unique|duplicate key/i);

      await migrateDownOnce(knex);
      expect(await knex.schema.hasTable('modelops_analyses')).toBe(false);
      expect(
        await knex.schema.hasColumn('modelops_deployments', 'automatic'),
      ).toBe(false);
      expect(await knex('modelops_deployments').first()).toMatchObject({
        id: '00000000-0000-4000-8000-000000000021',
        revision: 3,
      });
      await migrateUpOnce(knex);
      expect(await knex.schema.hasTable('modelops_analyses')).toBe(true);
      expect(
        Boolean((await knex('modelops_deployments').first()).automatic),
      ).toBe(false);
      await knex.destroy();
    },
  );

  it.each(databases.eachSupportedId())(
    '20261208000000_canary adds the canary of an analysis and removes it again, keeping the analyses, %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await knex.migrate.latest({ directory: migrationsDir });
      const canary = {
        percent: 25,
        replicas: 1,
        stableReplicas: 3,
        share: 0.25,
        deployments: ['fraud-detector-canary'],
      };
      await knex('modelops_analyses').insert({
        id: '00000000-0000-4000-8000-000000000031',
        deployment_id: '00000000-0000-4000-8000-000000000030',
        entity_ref: 'component:default/fraud-detector',
        environment: 'prod',
        cluster: 'prod',
        namespace: 'models',
        revision: 5,
        status: 'running',
        interval_seconds: 30,
        rate_window: '1m',
        min_request_rate: 0.1,
        on_inconclusive: 'pass',
        started_at: new Date(),
        ends_at: new Date(),
        next_evaluation_at: new Date(),
        canary: JSON.stringify(canary),
      });
      expect(
        JSON.parse((await knex('modelops_analyses').first()).canary),
      ).toEqual(canary);

      await migrateDownOnce(knex);
      expect(await knex.schema.hasColumn('modelops_analyses', 'canary')).toBe(
        false,
      );
      expect(await knex('modelops_analyses').first()).toMatchObject({
        id: '00000000-0000-4000-8000-000000000031',
        revision: 5,
      });
      await migrateUpOnce(knex);
      expect((await knex('modelops_analyses').first()).canary).toBeNull();
      await knex.destroy();
    },
  );
});
