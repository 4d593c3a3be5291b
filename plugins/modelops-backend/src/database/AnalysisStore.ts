import {
  Analysis,
  AnalysisBreach,
  AnalysisCanary,
  AnalysisStatus,
  SignalHealth,
} from '@modelops/plugin-modelops-common';
import { Knex } from 'knex';
import { timeOrderedId } from './ids';
import { toIso } from './sql';

const TABLE = 'modelops_analyses';

/**
 * The states of an analysis that ended but whose consequence is not yet
 * applied: `rolling_back` (failed or inconclusive, its rollback under way),
 * `promoting` (a canary that passed, being applied to the stable
 * Deployments), `cancelling` (a canary that was stopped, being removed).
 * The scheduler task finishes them, after a backend restart too.
 */
export const ENDING_STATES = [
  'rolling_back',
  'promoting',
  'cancelling',
] as const;
export type EndingState = (typeof ENDING_STATES)[number];

/**
 * An analysis as stored: the API's fields, plus where it runs and the
 * internal ending states.
 */
export interface StoredAnalysis extends Omit<Analysis, 'status'> {
  status: AnalysisStatus | EndingState;
  cluster: string;
  namespace: string;
  minRequestRate: number;
  nextEvaluationAt: string;
}

/** What starting an analysis records. */
export interface NewAnalysis {
  deploymentId: string;
  entityRef: string;
  environment: string;
  cluster: string;
  namespace: string;
  revision: number;
  durationSeconds: number;
  intervalSeconds: number;
  window: string;
  minRequestRate: number;
  onInconclusive: Analysis['onInconclusive'];
  canary?: AnalysisCanary;
  /** The first evaluation, after the new pods had a moment to take traffic. */
  firstEvaluationAt: Date;
  now: Date;
}

interface Row {
  id: string;
  deployment_id: string;
  entity_ref: string;
  environment: string;
  cluster: string;
  namespace: string;
  revision: number;
  status: string;
  interval_seconds: number;
  rate_window: string;
  min_request_rate: number;
  on_inconclusive: string;
  evaluations: number;
  conclusive_evaluations: number;
  signals: string | null;
  selector: string | null;
  breach: string | null;
  message: string | null;
  rollback_deployment_id: string | null;
  cancelled_by: string | null;
  canary: string | null;
  started_at: Date | string | number;
  ends_at: Date | string | number;
  next_evaluation_at: Date | string | number;
  last_evaluated_at: Date | string | number | null;
  finished_at: Date | string | number | null;
}

function fromRow(row: Row): StoredAnalysis {
  const a: StoredAnalysis = {
    id: row.id,
    deploymentId: row.deployment_id,
    entityRef: row.entity_ref,
    environment: row.environment,
    cluster: row.cluster,
    namespace: row.namespace,
    revision: row.revision,
    status: row.status as StoredAnalysis['status'],
    startedAt: toIso(row.started_at),
    endsAt: toIso(row.ends_at),
    intervalSeconds: row.interval_seconds,
    window: row.rate_window,
    minRequestRate: Number(row.min_request_rate),
    onInconclusive: row.on_inconclusive as Analysis['onInconclusive'],
    evaluations: row.evaluations,
    conclusiveEvaluations: row.conclusive_evaluations,
    nextEvaluationAt: toIso(row.next_evaluation_at),
  };
  if (row.finished_at) a.finishedAt = toIso(row.finished_at);
  if (row.last_evaluated_at) a.lastEvaluatedAt = toIso(row.last_evaluated_at);
  if (row.selector) a.selector = row.selector;
  if (row.signals) a.signals = JSON.parse(row.signals) as SignalHealth[];
  if (row.breach) a.breach = JSON.parse(row.breach) as AnalysisBreach;
  if (row.message) a.message = row.message;
  if (row.rollback_deployment_id)
    a.rollbackDeploymentId = row.rollback_deployment_id;
  if (row.cancelled_by) a.cancelledBy = row.cancelled_by;
  if (row.canary) a.canary = JSON.parse(row.canary) as AnalysisCanary;
  return a;
}

/**
 * The API's view of a stored analysis: an ending state reads as what it
 * ends as (`rolling_back`: failed after a breach, else inconclusive), with
 * no `finishedAt` yet.
 */
export function toAnalysis(stored: StoredAnalysis): Analysis {
  const {
    cluster: _c,
    namespace: _n,
    minRequestRate: _m,
    nextEvaluationAt: _e,
    status,
    ...fields
  } = stored;
  const rest: Omit<Analysis, 'status'> = fields;
  if (fields.canary) {
    // `restore` is the store's own: whether stopping it goes back in the history.
    const { restore: _r, ...canary } = fields.canary as AnalysisCanary & {
      restore?: boolean;
    };
    rest.canary = canary;
  }
  switch (status) {
    case 'rolling_back':
      return { ...rest, status: rest.breach ? 'failed' : 'inconclusive' };
    case 'promoting':
      return { ...rest, status: 'passed' };
    case 'cancelling':
      return { ...rest, status: 'cancelled' };
    default:
      return { ...rest, status };
  }
}

/**
 * Analyses on the plugin's database. Every change of state is a conditional
 * update on the state it expects, so two backend replicas that both try to
 * end (or roll back) one analysis find that only one of them did.
 */
export class AnalysisStore {
  constructor(private readonly db: Knex) {}

  async create(a: NewAnalysis): Promise<StoredAnalysis> {
    const id = timeOrderedId();
    await this.db<Row>(TABLE).insert({
      id,
      deployment_id: a.deploymentId,
      entity_ref: a.entityRef,
      environment: a.environment,
      cluster: a.cluster,
      namespace: a.namespace,
      revision: a.revision,
      status: 'running',
      interval_seconds: a.intervalSeconds,
      rate_window: a.window,
      min_request_rate: a.minRequestRate,
      on_inconclusive: a.onInconclusive,
      evaluations: 0,
      conclusive_evaluations: 0,
      started_at: a.now,
      ends_at: new Date(a.now.getTime() + a.durationSeconds * 1000),
      next_evaluation_at: a.firstEvaluationAt,
      canary: a.canary ? JSON.stringify(a.canary) : null,
    });
    return (await this.get(id))!;
  }

  async get(id: string): Promise<StoredAnalysis | undefined> {
    const row = await this.db<Row>(TABLE).where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  async ofDeployment(
    deploymentId: string,
  ): Promise<StoredAnalysis | undefined> {
    const row = await this.db<Row>(TABLE)
      .where({ deployment_id: deploymentId })
      .first();
    return row ? fromRow(row) : undefined;
  }

  /** Analyses with work to do: running ones whose evaluation is due, and ended ones whose consequence is not applied. */
  async due(now: Date, limit: number): Promise<StoredAnalysis[]> {
    const rows = await this.db<Row>(TABLE)
      .where(q =>
        q
          .where({ status: 'running' })
          .andWhere('next_evaluation_at', '<=', now),
      )
      .orWhereIn('status', [...ENDING_STATES])
      .orderBy('next_evaluation_at', 'asc')
      .limit(limit);
    return rows.map(fromRow);
  }

  /** Analyses of an environment that started before `to` and did not end before `from`, oldest first. */
  async between(options: {
    entityRef: string;
    environment: string;
    from: Date;
    to: Date;
    limit: number;
  }): Promise<StoredAnalysis[]> {
    const rows = await this.db<Row>(TABLE)
      .where({
        entity_ref: options.entityRef,
        environment: options.environment,
      })
      .where('started_at', '<=', options.to)
      .where(q =>
        q.whereNull('finished_at').orWhere('finished_at', '>=', options.from),
      )
      .orderBy('started_at', 'asc')
      .limit(options.limit);
    return rows.map(fromRow);
  }

  /** Running analyses of an entity in an environment. */
  async running(options: {
    entityRef: string;
    environment: string;
  }): Promise<StoredAnalysis[]> {
    const rows = await this.db<Row>(TABLE).where({
      entity_ref: options.entityRef,
      environment: options.environment,
      status: 'running',
    });
    return rows.map(fromRow);
  }

  /**
   * Which of these deployments are no revision to go back to: their
   * analysis failed or rolled them back, or they were a canary that never
   * took all the replicas (running, stopped, failed).
   */
  async failedOf(deploymentIds: string[]): Promise<Set<string>> {
    if (!deploymentIds.length) return new Set();
    const rows = await this.db<Row>(TABLE)
      .select('deployment_id')
      .whereIn('deployment_id', deploymentIds)
      .where(q =>
        q
          .whereIn('status', ['failed', 'rolling_back', 'cancelling'])
          .orWhereNotNull('rollback_deployment_id')
          .orWhere(c => c.whereNotNull('canary').whereNot('status', 'passed')),
      );
    return new Set(rows.map(r => r.deployment_id));
  }

  /**
   * Records one evaluation of a running analysis, if it is still at
   * `evaluations` (another evaluation did not get there first). Answers
   * whether it was recorded.
   */
  async recordEvaluation(options: {
    id: string;
    evaluations: number;
    conclusive: boolean;
    signals: SignalHealth[];
    selector?: string;
    message?: string;
    canary?: AnalysisCanary;
    now: Date;
    next: Date;
  }): Promise<boolean> {
    const updated = await this.db<Row>(TABLE)
      .where({
        id: options.id,
        status: 'running',
        evaluations: options.evaluations,
      })
      .update({
        evaluations: options.evaluations + 1,
        conclusive_evaluations: options.conclusive
          ? this.db.raw('conclusive_evaluations + 1')
          : this.db.raw('conclusive_evaluations'),
        signals: JSON.stringify(options.signals),
        selector: options.selector ?? null,
        message: options.message ?? null,
        last_evaluated_at: options.now,
        next_evaluation_at: options.next,
        ...(options.canary ? { canary: JSON.stringify(options.canary) } : {}),
      } as any);
    return updated === 1;
  }

  /**
   * Moves an analysis from one of the states `from` to `to`, with the
   * fields given. Answers whether this call made the change.
   */
  async transition(options: {
    id: string;
    from: StoredAnalysis['status'][];
    to: StoredAnalysis['status'];
    now: Date;
    signals?: SignalHealth[];
    selector?: string;
    breach?: AnalysisBreach;
    message?: string;
    rollbackDeploymentId?: string;
    cancelledBy?: string;
    canary?: AnalysisCanary;
  }): Promise<boolean> {
    const fields: Record<string, unknown> = { status: options.to };
    if (!(ENDING_STATES as readonly string[]).includes(options.to))
      fields.finished_at = options.now;
    if (options.signals) fields.signals = JSON.stringify(options.signals);
    if (options.selector) fields.selector = options.selector;
    if (options.breach) fields.breach = JSON.stringify(options.breach);
    if (options.message !== undefined) fields.message = options.message;
    if (options.rollbackDeploymentId)
      fields.rollback_deployment_id = options.rollbackDeploymentId;
    if (options.cancelledBy) fields.cancelled_by = options.cancelledBy;
    if (options.canary) fields.canary = JSON.stringify(options.canary);
    const updated = await this.db<Row>(TABLE)
      .where({ id: options.id })
      .whereIn('status', options.from)
      .update(fields);
    return updated === 1;
  }
}
