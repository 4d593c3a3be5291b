import {
  DeploymentRecord,
  DeploymentResult,
} from '@modelops/plugin-modelops-common';

/** A deployment record with the manifests it applied, as stored. */
export interface StoredDeployment extends DeploymentRecord {
  /** The rendered objects that were (or would have been) applied. */
  manifests: Record<string, unknown>[];
}

/** Strips the stored manifests: the API answers with records only. */
export function toRecord(stored: StoredDeployment): DeploymentRecord {
  const { manifests: _manifests, ...record } = stored;
  return record;
}

/** What a new deployment attempt records. */
export type NewDeployment = Pick<
  DeploymentRecord,
  | 'entityRef'
  | 'environment'
  | 'cluster'
  | 'namespace'
  | 'action'
  | 'image'
  | 'sourceDeploymentId'
  | 'buildId'
  | 'requestedBy'
  | 'automatic'
  | 'reason'
>;

/** Persistence of deploy, rollback and promotion attempts. */
export interface DeploymentStore {
  /**
   * Starts a real (non-dry-run) attempt: inserts it pending, without a
   * revision, and answers the revision it will get if it reaches the
   * cluster. While another attempt on the same environment is still
   * pending, this is a ConflictError: deploys of one environment never
   * apply at the same time.
   */
  begin(
    deployment: NewDeployment,
  ): Promise<{ attempt: StoredDeployment; nextRevision: number }>;

  /**
   * Gives a pending attempt its revision, just before its first write to the
   * cluster: revisions count rollouts, not refused attempts or previews.
   * Unique per entity and environment (a ConflictError otherwise).
   */
  commitRevision(options: { id: string; revision: number }): Promise<void>;

  /**
   * Records an attempt that finished without a revision: a dry run, or a
   * deploy refused before it reached the cluster.
   */
  recordFinished(
    deployment: NewDeployment & {
      dryRun: boolean;
      result: Exclude<DeploymentResult, 'pending'>;
      error?: string;
      manifests: Record<string, unknown>[];
    },
  ): Promise<StoredDeployment>;

  /** Completes a reserved attempt. */
  finish(options: {
    id: string;
    result: Exclude<DeploymentResult, 'pending'>;
    error?: string;
    manifests: Record<string, unknown>[];
  }): Promise<StoredDeployment>;

  get(id: string): Promise<StoredDeployment | undefined>;

  /** History newest first, `limit` at a time, without the manifests. */
  list(options: {
    entityRef: string;
    environment?: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: DeploymentRecord[]; nextCursor?: string }>;

  /**
   * Marks attempts left pending by a backend that stopped mid-apply as
   * failed. Returns how many.
   */
  failInterrupted(): Promise<number>;

  /** The highest revision given in an environment, 0 when none. */
  latestRevision(options: {
    entityRef: string;
    environment: string;
  }): Promise<number>;

  /**
   * Successful rollouts (non-dry-run, with a revision) of an environment
   * made before the attempt `before`, newest first, at most `limit`: the
   * candidates an automatic rollback goes back to.
   */
  successfulBefore(options: {
    entityRef: string;
    environment: string;
    before: string;
    limit: number;
  }): Promise<StoredDeployment[]>;

  /** The newest successful, non-dry-run attempt in an environment. */
  lastSuccessful(options: {
    entityRef: string;
    environment: string;
  }): Promise<StoredDeployment | undefined>;

  /**
   * The rollouts (non-dry-run attempts that got a revision) created in
   * `[from, to]`, oldest first, at most `limit`: the deploy markers of a chart.
   */
  rolloutsBetween(options: {
    entityRef: string;
    environment: string;
    from: Date;
    to: Date;
    limit: number;
  }): Promise<DeploymentRecord[]>;

  /**
   * The rollout that made `revision` of an environment (the anchor of the
   * drift reference window), or undefined when none is recorded.
   */
  rolloutOf(options: {
    entityRef: string;
    environment: string;
    revision: number;
  }): Promise<DeploymentRecord | undefined>;

  /**
   * The newest rollout created at or before `at` that did not fail: the
   * revision serving then, as far as ModelOps deployed it.
   */
  rolloutInEffect(options: {
    entityRef: string;
    environment: string;
    at: Date;
  }): Promise<DeploymentRecord | undefined>;
}
