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
      await knex.migrate.latest({ directory: migrationsDir });
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
});
