/** Helpers the knex stores share. */
import { InputError } from '@backstage/errors';

/** A timestamp column as ISO 8601, whatever the database gave back. */
export function toIso(value: Date | string | number): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The cursor of a page: the id of the last row of the previous one. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** The id a cursor carries, or a 400 for one that was not given out. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ID.test(id)) {
    throw new InputError(
      'Invalid cursor: pass the nextCursor of a previous page unchanged',
    );
  }
  return id;
}

/** A unique constraint refused the write (PostgreSQL or SQLite). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /unique constraint/i.test(e?.message ?? '')
  );
}
