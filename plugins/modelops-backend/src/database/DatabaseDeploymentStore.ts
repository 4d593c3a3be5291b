import { ConflictError } from '@backstage/errors';
import {
  AppliedObjectRef,
  DeploymentAction,
  DeploymentRecord,
  DeploymentResult,
} from '@modelops/plugin-modelops-common';
import { Knex } from 'knex';
import {
  DeploymentStore,
  NewDeployment,
  StoredDeployment,
} from './DeploymentStore';
import { timeOrderedId } from './ids';
import { decodeCursor, encodeCursor, isUniqueViolation, toIso } from './sql';

const TABLE = 'modelops_deployments';

/**
 * A pending attempt older than this was interrupted (the backend stopped
 * mid-apply): applying takes seconds, not minutes.
 */
export const STALE_AFTER_MS = 5 * 60 * 1000;

interface Row {
  id: string;
  entity_ref: string;
  environment: string;
  cluster: string;
  namespace: string;
  action: string;
  image: string | null;
  revision: number | null;
  objects: string | null;
  manifests?: string | null;
  dry_run: boolean | number;
  status: string;
  error: string | null;
  source_deployment_id: string | null;
  build_id?: string | null;
  requested_by: string;
  automatic?: boolean | number | null;
  reason?: string | null;
  created_at: Date | string | number;
  finished_at: Date | string | number | null;
}

function refOf(object: Record<string, unknown>): AppliedObjectRef {
  const metadata = (object.metadata ?? {}) as { name?: string };
  return {
    apiVersion: String(object.apiVersion),
    kind: String(object.kind),
    name: String(metadata.name),
  };
}

function recordFromRow(row: Row): DeploymentRecord {
  return {
    id: row.id,
    entityRef: row.entity_ref,
    environment: row.environment,
    cluster: row.cluster,
    namespace: row.namespace,
    action: row.action as DeploymentAction,
    image: row.image ?? undefined,
    revision: row.revision ?? undefined,
    dryRun: Boolean(row.dry_run),
    result: row.status as DeploymentResult,
    error: row.error ?? undefined,
    sourceDeploymentId: row.source_deployment_id ?? undefined,
    ...(row.build_id ? { buildId: row.build_id } : {}),
    objects: row.objects ? (JSON.parse(row.objects) as AppliedObjectRef[]) : [],
    requestedBy: row.requested_by,
    ...(row.automatic ? { automatic: true } : {}),
    ...(row.reason ? { reason: row.reason } : {}),
    createdAt: toIso(row.created_at),
  };
}

function fromRow(row: Row): StoredDeployment {
  return {
    ...recordFromRow(row),
    manifests: row.manifests
      ? (JSON.parse(row.manifests) as Record<string, unknown>[])
      : [],
  };
}

/** Every column but the (large) manifests. */
const RECORD_COLUMNS = [
  'id',
  'entity_ref',
  'environment',
  'cluster',
  'namespace',
  'action',
  'image',
  'revision',
  'objects',
  'dry_run',
  'status',
  'error',
  'source_deployment_id',
  'build_id',
  'requested_by',
  'automatic',
  'reason',
  'created_at',
  'finished_at',
];

/** {@link DeploymentStore} on the plugin's knex database (SQLite or PostgreSQL). */
export class DatabaseDeploymentStore implements DeploymentStore {
  constructor(private readonly db: Knex) {}

  private base(deployment: NewDeployment) {
    return {
      entity_ref: deployment.entityRef,
      environment: deployment.environment,
      cluster: deployment.cluster,
      namespace: deployment.namespace,
      action: deployment.action,
      image: deployment.image ?? null,
      source_deployment_id: deployment.sourceDeploymentId ?? null,
      build_id: deployment.buildId ?? null,
      requested_by: deployment.requestedBy,
      automatic: deployment.automatic ?? false,
      reason: deployment.reason ?? null,
    };
  }

  async begin(
    deployment: NewDeployment,
  ): Promise<{ attempt: StoredDeployment; nextRevision: number }> {
    const isPostgres = String(this.db.client.config.client).startsWith('pg');
    const id = timeOrderedId();
    let nextRevision = 0;
    // PostgreSQL: attempts of one entity and environment queue on an
    // advisory lock held for the transaction; SQLite serialises writers.
    await this.db.transaction(async tx => {
      if (isPostgres) {
        await tx.raw('select pg_advisory_xact_lock(hashtext(?))', [
          `modelops:${deployment.entityRef}:${deployment.environment}`,
        ]);
      }
      const running = await tx<Row>(TABLE)
        .where({
          entity_ref: deployment.entityRef,
          environment: deployment.environment,
          status: 'pending',
        })
        .andWhere('created_at', '>', new Date(Date.now() - STALE_AFTER_MS))
        .first();
      if (running) {
        throw new ConflictError(
          `Another deploy of ${deployment.entityRef} to ${deployment.environment} (by ${running.requested_by}) is still being applied; try again when it has finished`,
        );
      }
      nextRevision =
        (await new DatabaseDeploymentStore(tx).latestRevision(deployment)) + 1;
      await tx(TABLE).insert({
        ...this.base(deployment),
        id,
        revision: null,
        dry_run: false,
        status: 'pending',
        objects: '[]',
        manifests: '[]',
        created_at: new Date(),
      });
    });
    return { attempt: (await this.get(id))!, nextRevision };
  }

  async commitRevision(options: {
    id: string;
    revision: number;
  }): Promise<void> {
    let updated: number;
    try {
      updated = await this.db(TABLE)
        .where({ id: options.id, status: 'pending' })
        .whereNull('revision')
        .update({ revision: options.revision });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new ConflictError(
        `Revision ${options.revision} was taken by another deploy meanwhile; nothing was applied, try again`,
      );
    }
    if (updated !== 1) {
      throw new ConflictError(`Deployment ${options.id} is not pending`);
    }
  }

  async recordFinished(
    deployment: NewDeployment & {
      dryRun: boolean;
      result: 'succeeded' | 'failed';
      error?: string;
      manifests: Record<string, unknown>[];
    },
  ): Promise<StoredDeployment> {
    const id = timeOrderedId();
    const now = new Date();
    await this.db(TABLE).insert({
      ...this.base(deployment),
      id,
      revision: null,
      dry_run: deployment.dryRun,
      status: deployment.result,
      error: deployment.error ?? null,
      objects: JSON.stringify(deployment.manifests.map(refOf)),
      manifests: JSON.stringify(deployment.manifests),
      created_at: now,
      finished_at: now,
    });
    return (await this.get(id))!;
  }

  async finish(options: {
    id: string;
    result: 'succeeded' | 'failed';
    error?: string;
    manifests: Record<string, unknown>[];
  }): Promise<StoredDeployment> {
    const updated = await this.db(TABLE)
      .where({ id: options.id, status: 'pending' })
      .update({
        status: options.result,
        error: options.error ?? null,
        objects: JSON.stringify(options.manifests.map(refOf)),
        manifests: JSON.stringify(options.manifests),
        finished_at: new Date(),
      });
    if (updated !== 1) {
      throw new ConflictError(`Deployment ${options.id} is not pending`);
    }
    return (await this.get(options.id))!;
  }

  async failInterrupted(): Promise<number> {
    return this.db(TABLE)
      .where({ status: 'pending' })
      .andWhere('created_at', '<', new Date(Date.now() - STALE_AFTER_MS))
      .update({
        status: 'failed',
        error:
          'Interrupted: the backend stopped before this deploy finished; check the environment status and deploy again',
        finished_at: new Date(),
      });
  }

  async get(id: string): Promise<StoredDeployment | undefined> {
    const row = await this.db<Row>(TABLE).where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  async list(options: {
    entityRef: string;
    environment?: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: DeploymentRecord[]; nextCursor?: string }> {
    const query = this.db<Row>(TABLE)
      .select<Row[]>(RECORD_COLUMNS)
      .where({ entity_ref: options.entityRef });
    if (options.environment) {
      query.andWhere({ environment: options.environment });
    }
    if (options.cursor) {
      query.andWhere('id', '<', decodeCursor(options.cursor));
    }
    // Ids are time-ordered (UUIDv7), so id order is creation order.
    const rows = (await query
      .orderBy('id', 'desc')
      .limit(options.limit + 1)) as unknown as Row[];
    const items = rows.slice(0, options.limit).map(recordFromRow);
    return {
      items,
      nextCursor:
        rows.length > options.limit
          ? encodeCursor(items[items.length - 1].id)
          : undefined,
    };
  }

  async latestRevision(options: {
    entityRef: string;
    environment: string;
  }): Promise<number> {
    const max = await this.db(TABLE)
      .where({
        entity_ref: options.entityRef,
        environment: options.environment,
      })
      .max({ revision: 'revision' })
      .first();
    return Number(max?.revision ?? 0);
  }

  async successfulBefore(options: {
    entityRef: string;
    environment: string;
    before: string;
    limit: number;
  }): Promise<StoredDeployment[]> {
    const rows = await this.db<Row>(TABLE)
      .where({
        entity_ref: options.entityRef,
        environment: options.environment,
        status: 'succeeded',
        dry_run: false,
      })
      .whereNotNull('revision')
      .where('id', '<', options.before)
      .orderBy('id', 'desc')
      .limit(options.limit);
    return rows.map(fromRow);
  }

  async lastSuccessful(options: {
    entityRef: string;
    environment: string;
  }): Promise<StoredDeployment | undefined> {
    const row = await this.db<Row>(TABLE)
      .where({
        entity_ref: options.entityRef,
        environment: options.environment,
        status: 'succeeded',
        dry_run: false,
      })
      .orderBy('id', 'desc')
      .first();
    return row ? fromRow(row) : undefined;
  }

  async rolloutsBetween(options: {
    entityRef: string;
    environment: string;
    from: Date;
    to: Date;
    limit: number;
  }): Promise<DeploymentRecord[]> {
    const rows = (await this.db<Row>(TABLE)
      .select<Row[]>(RECORD_COLUMNS)
      .where({
        entity_ref: options.entityRef,
        environment: options.environment,
        dry_run: false,
      })
      .whereNotNull('revision')
      .andWhere('created_at', '>=', options.from)
      .andWhere('created_at', '<=', options.to)
      .orderBy('id', 'asc')
      .limit(options.limit)) as unknown as Row[];
    return rows.map(recordFromRow);
  }

  async rolloutOf(options: {
    entityRef: string;
    environment: string;
    revision: number;
  }): Promise<DeploymentRecord | undefined> {
    const row = (await this.db<Row>(TABLE)
      .select<Row[]>(RECORD_COLUMNS)
      .where({
        entity_ref: options.entityRef,
        environment: options.environment,
        revision: options.revision,
        dry_run: false,
      })
      .orderBy('id', 'desc')
      .first()) as unknown as Row | undefined;
    return row ? recordFromRow(row) : undefined;
  }

  async rolloutInEffect(options: {
    entityRef: string;
    environment: string;
    at: Date;
  }): Promise<DeploymentRecord | undefined> {
    const row = (await this.db<Row>(TABLE)
      .select<Row[]>(RECORD_COLUMNS)
      .where({
        entity_ref: options.entityRef,
        environment: options.environment,
        dry_run: false,
      })
      .whereNotNull('revision')
      .whereNot('status', 'failed')
      .andWhere('created_at', '<=', options.at)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .first()) as unknown as Row | undefined;
    return row ? recordFromRow(row) : undefined;
  }
}
