/**
 * Build records. Two rules live in the database, so they hold across any
 * number of backend replicas: one build per entity and idempotency key
 * (a unique index, met by concurrent triggers), and one build per image
 * tag (one tag never names two contents). A finished build never changes
 * status again.
 */
import { Build, BuildStatus } from '@modelops/plugin-modelops-common';
import { Knex } from 'knex';
import { timeOrderedId } from '../database/ids';
import {
  decodeCursor,
  encodeCursor,
  isUniqueViolation,
  toIso,
} from '../database/sql';

const TABLE = 'modelops_builds';
export const UNFINISHED: BuildStatus[] = ['queued', 'running'];

/** A build as stored: the record and what only the backend sees. */
export interface StoredBuild extends Build {
  externalRef?: string;
  buildArgs: Record<string, string>;
  idempotencyKey?: string;
}

export interface NewBuild {
  entityRef: string;
  builder: string;
  source: Build['source'];
  buildArgs: Record<string, string>;
  image: string;
  /** Tags to try in order: the first one no other build has. */
  tags: string[];
  deployTo?: string;
  idempotencyKey: string;
  requestedBy: string;
}

export type BuildUpdate = Partial<
  Pick<
    StoredBuild,
    | 'status'
    | 'reason'
    | 'message'
    | 'digest'
    | 'externalRef'
    | 'externalUrl'
    | 'startedAt'
    | 'finishedAt'
    | 'deploymentId'
  >
>;

interface Row {
  id: string;
  entity_ref: string;
  builder: string;
  external_ref: string | null;
  external_url: string | null;
  git_url: string;
  git_ref: string;
  commit_sha: string | null;
  context_path: string;
  dockerfile: string;
  build_args: string | null;
  image: string;
  tag: string;
  digest: string | null;
  status: string;
  reason: string | null;
  message: string | null;
  deploy_to: string | null;
  deployment_id: string | null;
  idempotency_key: string | null;
  requested_by: string;
  created_at: Date | string | number;
  updated_at: Date | string | number;
  started_at: Date | string | number | null;
  finished_at: Date | string | number | null;
}

/** Build args as stored: keys sorted, so that the same args always read the same. */
function canonicalArgs(args: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.keys(args)
        .sort()
        .map(k => [k, args[k]]),
    ),
  );
}

const optional = <T>(value: T | null | undefined) =>
  value === null || value === undefined ? undefined : value;

function fromRow(row: Row): StoredBuild {
  const build: StoredBuild = {
    id: row.id,
    entityRef: row.entity_ref,
    builder: row.builder,
    status: row.status as BuildStatus,
    source: {
      url: row.git_url,
      ref: row.git_ref,
      ...(row.commit_sha ? { commit: row.commit_sha } : {}),
      contextPath: row.context_path,
      dockerfile: row.dockerfile,
    },
    image: row.image,
    tag: row.tag,
    requestedBy: row.requested_by,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    buildArgs: row.build_args ? JSON.parse(row.build_args) : {},
  };
  const extra: Partial<StoredBuild> = {
    reason: optional(row.reason),
    message: optional(row.message),
    digest: optional(row.digest),
    deployTo: optional(row.deploy_to),
    // 'claimed' or 'failed' while or after a deploy was attempted: not an id.
    deploymentId:
      row.deployment_id && row.deployment_id.length === 36
        ? row.deployment_id
        : undefined,
    externalRef: optional(row.external_ref),
    externalUrl: optional(row.external_url),
    idempotencyKey: optional(row.idempotency_key),
    startedAt: row.started_at ? toIso(row.started_at) : undefined,
    finishedAt: row.finished_at ? toIso(row.finished_at) : undefined,
  };
  for (const [k, v] of Object.entries(extra))
    if (v !== undefined) (build as any)[k] = v;
  return build;
}

/** What a build record shows its callers: without the builder's handle and the key. */
export function toBuild(stored: StoredBuild): Build {
  const {
    externalRef: _e,
    buildArgs: _b,
    idempotencyKey: _k,
    ...build
  } = stored;
  return build;
}

const COLUMNS: Record<keyof BuildUpdate, keyof Row> = {
  status: 'status',
  reason: 'reason',
  message: 'message',
  digest: 'digest',
  externalRef: 'external_ref',
  externalUrl: 'external_url',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  deploymentId: 'deployment_id',
};
const TIMES = new Set(['startedAt', 'finishedAt']);

export class BuildStore {
  constructor(private readonly db: Knex) {}

  /**
   * Records a build, or gives back the one the same entity and key made
   * within `keyWindowMs` (`created: false`). A key older than that is
   * retired (renamed on its row) so the key makes a new build.
   */
  async create(
    build: NewBuild,
    keyWindowMs: number,
  ): Promise<{ build: StoredBuild; created: boolean }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.byKey(build.entityRef, build.idempotencyKey);
      if (existing) {
        if (Date.now() - Date.parse(existing.createdAt) < keyWindowMs)
          return { build: existing, created: false };
        await this.db<Row>(TABLE)
          .where({ id: existing.id, idempotency_key: build.idempotencyKey })
          .update({
            idempotency_key: `${build.idempotencyKey}#${existing.id}`,
          });
        continue;
      }
      const taken = new Set(
        (
          await this.db<Row>(TABLE)
            .select('tag')
            .where({ image: build.image })
            .whereIn('tag', build.tags)
        ).map(r => r.tag),
      );
      const tag = build.tags.find(t => !taken.has(t));
      if (!tag)
        throw new Error(`every candidate tag of ${build.image} is taken`);
      const id = timeOrderedId();
      const now = new Date();
      try {
        await this.db<Row>(TABLE).insert({
          id,
          entity_ref: build.entityRef,
          builder: build.builder,
          git_url: build.source.url,
          git_ref: build.source.ref,
          commit_sha: build.source.commit ?? null,
          context_path: build.source.contextPath,
          dockerfile: build.source.dockerfile,
          build_args: canonicalArgs(build.buildArgs),
          image: build.image,
          tag,
          status: 'queued',
          deploy_to: build.deployTo ?? null,
          idempotency_key: build.idempotencyKey,
          requested_by: build.requestedBy,
          created_at: now,
          updated_at: now,
        });
        return { build: (await this.get(id))!, created: true };
      } catch (error) {
        // Another request took the key or the tag first: look again.
        if (!isUniqueViolation(error)) throw error;
      }
    }
    throw new Error(
      `could not record a build of ${build.entityRef}: the idempotency key or tag kept being taken`,
    );
  }

  /**
   * The newest succeeded build, with a digest, of exactly these inputs: the
   * same entity, builder, repository, commit, context, Dockerfile, build
   * args and image repository. Undefined without a commit (a ref alone can
   * name other contents later).
   */
  async succeededLike(
    build: Pick<
      NewBuild,
      'entityRef' | 'builder' | 'source' | 'buildArgs' | 'image'
    >,
  ): Promise<StoredBuild | undefined> {
    if (!build.source.commit) return undefined;
    const row = await this.db<Row>(TABLE)
      .where({
        entity_ref: build.entityRef,
        builder: build.builder,
        git_url: build.source.url,
        commit_sha: build.source.commit,
        context_path: build.source.contextPath,
        dockerfile: build.source.dockerfile,
        build_args: canonicalArgs(build.buildArgs),
        image: build.image,
        status: 'succeeded',
      })
      .whereNotNull('digest')
      .orderBy('id', 'desc')
      .first();
    return row ? fromRow(row) : undefined;
  }

  private async byKey(
    entityRef: string,
    key: string,
  ): Promise<StoredBuild | undefined> {
    const row = await this.db<Row>(TABLE)
      .where({ entity_ref: entityRef, idempotency_key: key })
      .first();
    return row ? fromRow(row) : undefined;
  }

  async get(id: string): Promise<StoredBuild | undefined> {
    const row = await this.db<Row>(TABLE).where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  /** An entity's builds, newest first. */
  async list(options: {
    entityRef: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: StoredBuild[]; nextCursor?: string }> {
    const query = this.db<Row>(TABLE)
      .where({ entity_ref: options.entityRef })
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.cursor) query.andWhere('id', '<', decodeCursor(options.cursor));
    const rows = (await query).map(fromRow);
    const items = rows.slice(0, options.limit);
    return rows.length > options.limit
      ? { items, nextCursor: encodeCursor(items[items.length - 1]!.id) }
      : { items };
  }

  /**
   * Changes a build that is still unfinished (queued or running); undefined
   * when it had finished already, so a late observer never overwrites an
   * outcome.
   */
  async updateUnfinished(
    id: string,
    update: BuildUpdate,
  ): Promise<StoredBuild | undefined> {
    const values: Record<string, unknown> = { updated_at: new Date() };
    for (const [k, v] of Object.entries(update)) {
      if (v === undefined) continue;
      values[COLUMNS[k as keyof BuildUpdate]] = TIMES.has(k)
        ? new Date(v as string)
        : v;
    }
    const changed = await this.db<Row>(TABLE)
      .where({ id })
      .whereIn('status', UNFINISHED)
      .update(values);
    return changed ? this.get(id) : undefined;
  }

  /**
   * Claims the deploy of a succeeded build with `deployTo`: true for exactly
   * one caller, however many replicas observe the success.
   */
  async claimDeploy(id: string): Promise<boolean> {
    const changed = await this.db<Row>(TABLE)
      .where({ id, status: 'succeeded' })
      .whereNotNull('deploy_to')
      .whereNull('deployment_id')
      .update({ deployment_id: 'claimed', updated_at: new Date() });
    return changed === 1;
  }

  /** Records the deploy a claimed build made (or why it made none). */
  async recordDeploy(
    id: string,
    outcome: { deploymentId?: string; message?: string },
  ): Promise<void> {
    await this.db<Row>(TABLE)
      .where({ id, deployment_id: 'claimed' })
      .update({
        deployment_id: outcome.deploymentId ?? 'failed',
        ...(outcome.message ? { message: outcome.message } : {}),
        updated_at: new Date(),
      });
  }

  /** Builds still queued or running, oldest first: what the reconciler follows. */
  async unfinished(limit: number): Promise<StoredBuild[]> {
    return (
      await this.db<Row>(TABLE)
        .whereIn('status', UNFINISHED)
        .orderBy('id', 'asc')
        .limit(limit)
    ).map(fromRow);
  }

  /** Succeeded builds whose deploy was never claimed (a replica stopped in between). */
  async undeployed(limit: number): Promise<StoredBuild[]> {
    return (
      await this.db<Row>(TABLE)
        .where({ status: 'succeeded' })
        .whereNotNull('deploy_to')
        .whereNull('deployment_id')
        .orderBy('id', 'asc')
        .limit(limit)
    ).map(fromRow);
  }
}
