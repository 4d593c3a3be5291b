import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';

/** Folder of the knex migrations shipped with this package. */
export const migrationsDir = resolvePackagePath(
  '@modelops/plugin-modelops-backend',
  'migrations',
);

/** Connects and migrates unless `backend.database` says migrations are skipped. */
export async function connectDatabase(
  database: DatabaseService,
): Promise<Knex> {
  const client = await database.getClient();
  if (!database.migrations?.skip) {
    await client.migrate.latest({ directory: migrationsDir });
  }
  return client;
}
