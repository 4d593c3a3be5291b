/**
 * SLO analyses of deployed revisions: a deploy (or promotion) that asks for
 * one, or lands in an environment that watches every deploy, is followed
 * for its window. Each evaluation reads only the new revision's pods'
 * series and judges them against the service's SLOs; a breach rolls the
 * environment back, by itself, to the newest earlier revision whose
 * analysis did not fail. Analyses are rows in the database, driven by one
 * scheduler task across all backend replicas; each change of state is a
 * conditional update, so a backend that stops mid-analysis leaves it to
 * the next run, and two replicas never both roll back.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  Analysis,
  AnalysisRequest,
  DeploymentRecord,
  ModelOpsEnvironment,
  SignalHealth,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import {
  AnalysisStore,
  StoredAnalysis,
  toAnalysis,
} from '../database/AnalysisStore';
import { DeploymentStore } from '../database/DeploymentStore';
import { readRolloutStatus } from '../deploy/status/status';
import { ClusterClients } from '../kubernetes/ClusterClients';
import { durationSeconds } from '../metrics/queries';
import { DeploymentService } from '../service/DeploymentService';
import { ModelServiceTarget } from '../service/entities';
import { judgeEvaluation } from './judge';
import { revisionPods } from './revisionPods';

/** How one analysis runs. */
export interface AnalysisSettings {
  durationSeconds: number;
  intervalSeconds: number;
  window: string;
  minRequestRate: number;
  onInconclusive: Analysis['onInconclusive'];
}

/** What the analysis service needs of the monitoring side. */
export interface RevisionSignalsReader {
  revisionSignals(options: {
    target: ModelServiceTarget;
    env: { cluster: string; namespace: string };
    podPattern: string;
    window: string;
  }): Promise<{
    signals: SignalHealth[];
    selector: string;
  }>;
}

/** Analyses an evaluation run takes on at most. */
const MAX_PER_RUN = 50;
/** Earlier rollouts an automatic rollback looks through for one to go back to. */
const ROLLBACK_CANDIDATES = 50;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class AnalysisService {
  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      store: AnalysisStore;
      deploymentStore: DeploymentStore;
      deployments: DeploymentService;
      clusters: ClusterClients;
      signals: RevisionSignalsReader;
      /** Loads an entity as the plugin itself (no user is there when a rollback is due). */
      loadTarget: (entityRef: string) => Promise<ModelServiceTarget>;
      logger: LoggerService;
      now?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /**
   * The settings of an analysis of a deploy to `environment`: the deploy's
   * own duration over the environment's default; undefined for none.
   */
  settingsFor(
    environment: string,
    request?: AnalysisRequest,
  ): AnalysisSettings | undefined {
    const env = this.options.config.environments[environment];
    if (!env) return undefined;
    const a = env.analysis;
    const duration = request
      ? request.durationSeconds
      : durationSeconds(a.duration);
    if (!duration) return undefined;
    return {
      durationSeconds: duration,
      intervalSeconds: durationSeconds(a.interval),
      window: a.window,
      minRequestRate: a.minRequestRate,
      onInconclusive: a.onInconclusive,
    };
  }

  /**
   * After a rollout was applied: analyses of the environment still running
   * end as cancelled (the revision they watch is being replaced), and the
   * new revision's analysis starts when one is asked for. Rollbacks start
   * none: they go back to a revision already known.
   */
  async afterApply(options: {
    deployment: DeploymentRecord;
    env: ModelOpsEnvironment;
    request?: AnalysisRequest;
  }): Promise<Analysis | undefined> {
    const { deployment, env } = options;
    const now = this.now();
    for (const running of await this.options.store.running({
      entityRef: deployment.entityRef,
      environment: env.name,
    })) {
      if (running.deploymentId === deployment.id) continue;
      await this.options.store.transition({
        id: running.id,
        from: ['running'],
        to: 'cancelled',
        now,
        cancelledBy: deployment.requestedBy,
        message: `cancelled: ${deployment.action} to revision ${deployment.revision} by ${deployment.requestedBy} replaced revision ${running.revision}`,
      });
    }
    if (deployment.action === 'rollback' || deployment.revision === undefined)
      return undefined;
    const settings = this.settingsFor(env.name, options.request);
    if (!settings) return undefined;
    const stored = await this.options.store.create({
      deploymentId: deployment.id,
      entityRef: deployment.entityRef,
      environment: env.name,
      cluster: env.cluster,
      namespace: env.namespace,
      revision: deployment.revision,
      ...settings,
      firstEvaluationAt: new Date(
        now.getTime() + settings.intervalSeconds * 1000,
      ),
      now,
    });
    this.options.logger.info(
      `Analysing ${deployment.entityRef} revision ${deployment.revision} in ${env.name} for ${settings.durationSeconds}s, every ${settings.intervalSeconds}s`,
    );
    return toAnalysis(stored);
  }

  /** The analysis of a deployment, or a 404. */
  async ofDeployment(deploymentId: string): Promise<Analysis> {
    const stored = await this.options.store.ofDeployment(deploymentId);
    if (!stored)
      throw new NotFoundError(
        `Deployment ${deploymentId} has no analysis: it was deployed without one`,
      );
    return toAnalysis(stored);
  }

  /** Why promoting this deployment's revision is refused, if it is. */
  async failedAnalysis(deploymentId: string): Promise<string | undefined> {
    const stored = await this.options.store.ofDeployment(deploymentId);
    if (!stored) return undefined;
    const rolledBack =
      stored.status === 'failed' ||
      stored.status === 'rolling_back' ||
      stored.rollbackDeploymentId !== undefined;
    return rolledBack ? stored.message ?? 'its analysis failed' : undefined;
  }

  /** Stops a running analysis; the revision stays. An ended one is answered as it is. */
  async cancel(deploymentId: string, by: string): Promise<Analysis> {
    const stored = await this.options.store.ofDeployment(deploymentId);
    if (!stored)
      throw new NotFoundError(`Deployment ${deploymentId} has no analysis`);
    if (stored.status === 'rolling_back')
      throw new ConflictError(
        `The analysis of deployment ${deploymentId} failed and its rollback is under way; it cannot be cancelled`,
      );
    await this.options.store.transition({
      id: stored.id,
      from: ['running'],
      to: 'cancelled',
      now: this.now(),
      cancelledBy: by,
      message: `cancelled by ${by}; revision ${stored.revision} stays`,
    });
    return toAnalysis((await this.options.store.get(stored.id))!);
  }

  /** One run of the scheduler task: every analysis with work due. */
  async runDue(): Promise<void> {
    const due = await this.options.store.due(this.now(), MAX_PER_RUN);
    for (const analysis of due) {
      try {
        await this.step(analysis);
      } catch (error) {
        this.options.logger.warn(
          `Analysis ${analysis.id} of ${analysis.entityRef} revision ${
            analysis.revision
          } in ${analysis.environment}: ${errorMessage(error)}`,
        );
      }
    }
  }

  private async step(a: StoredAnalysis): Promise<void> {
    if (a.status === 'rolling_back') {
      await this.rollBack(a);
      return;
    }
    const now = this.now();
    if (now.getTime() >= Date.parse(a.endsAt)) {
      await this.conclude(a, now);
      return;
    }
    const next = new Date(now.getTime() + a.intervalSeconds * 1000);
    const record = (fields: {
      conclusive: boolean;
      message: string;
      signals?: SignalHealth[];
      selector?: string;
    }) =>
      this.options.store.recordEvaluation({
        id: a.id,
        evaluations: a.evaluations,
        conclusive: fields.conclusive,
        signals: fields.signals ?? a.signals ?? [],
        selector: fields.selector ?? a.selector,
        message: fields.message,
        now,
        next,
      });

    let target: ModelServiceTarget;
    try {
      target = await this.options.loadTarget(a.entityRef);
    } catch (error) {
      await this.options.store.transition({
        id: a.id,
        from: ['running'],
        to: 'cancelled',
        now,
        message: `cancelled: ${errorMessage(error)}`,
      });
      return;
    }
    const client = this.options.clusters.get(a.cluster);
    const kubernetesId = target.contract.kubernetesId!;
    const rollout = await readRolloutStatus(client, {
      namespace: a.namespace,
      kubernetesId,
      imageRepository: target.contract.image,
    });
    if (rollout.phase === 'Failed' && rollout.revision === a.revision) {
      await this.fail(a, now, {
        breach: { signal: 'readyRatio', value: 0, threshold: 1, unit: 'ratio' },
        message: `the rollout of revision ${a.revision} failed${
          rollout.problems[0] ? `: ${rollout.problems[0].message}` : ''
        }`,
      });
      return;
    }
    const pods = await revisionPods(client, {
      namespace: a.namespace,
      kubernetesId,
      revision: a.revision,
    });
    if ('gone' in pods) {
      await this.options.store.transition({
        id: a.id,
        from: ['running'],
        to: 'cancelled',
        now,
        message: `cancelled: ${pods.gone}`,
      });
      return;
    }
    if ('waiting' in pods) {
      await record({ conclusive: false, message: `waiting: ${pods.waiting}` });
      return;
    }
    const read = await this.options.signals.revisionSignals({
      target,
      env: { cluster: a.cluster, namespace: a.namespace },
      podPattern: pods.podPattern,
      window: a.window,
    });
    const verdict = judgeEvaluation(read.signals, {
      minRequestRate: a.minRequestRate,
      window: a.window,
    });
    if (verdict.kind === 'breach') {
      await this.fail(a, now, {
        breach: verdict.breach,
        message: verdict.message,
        signals: read.signals,
        selector: read.selector,
      });
      return;
    }
    await record({
      conclusive: verdict.kind === 'ok',
      message: verdict.message,
      signals: read.signals,
      selector: read.selector,
    });
  }

  /** The window is over: passed with one conclusive evaluation or more, else inconclusive as configured. */
  private async conclude(a: StoredAnalysis, now: Date): Promise<void> {
    if (a.conclusiveEvaluations > 0) {
      await this.options.store.transition({
        id: a.id,
        from: ['running'],
        to: 'passed',
        now,
        message: `passed: ${a.conclusiveEvaluations} of ${a.evaluations} evaluations judged revision ${a.revision} within its SLOs`,
      });
      return;
    }
    const why = `inconclusive: no evaluation of ${
      a.evaluations
    } could judge revision ${a.revision}${
      a.message ? ` (last: ${a.message})` : ''
    }`;
    if (a.onInconclusive === 'pass') {
      await this.options.store.transition({
        id: a.id,
        from: ['running'],
        to: 'inconclusive',
        now,
        message: `${why}; the release stays, as configured`,
      });
      return;
    }
    if (
      await this.options.store.transition({
        id: a.id,
        from: ['running'],
        to: 'rolling_back',
        now,
        message: `${why}; rolled back, as configured`,
      })
    ) {
      await this.rollBack({
        ...a,
        status: 'rolling_back',
        message: `${why}; rolled back, as configured`,
      });
    }
  }

  /** A breach: claims the analysis (only one caller wins), then rolls back. */
  private async fail(
    a: StoredAnalysis,
    now: Date,
    outcome: {
      breach: NonNullable<Analysis['breach']>;
      message: string;
      signals?: Analysis['signals'];
      selector?: string;
    },
  ): Promise<void> {
    const claimed = await this.options.store.transition({
      id: a.id,
      from: ['running'],
      to: 'rolling_back',
      now,
      breach: outcome.breach,
      signals: outcome.signals,
      selector: outcome.selector,
      message: outcome.message,
    });
    if (!claimed) return;
    this.options.logger.warn(
      `Analysis of ${a.entityRef} revision ${a.revision} in ${a.environment} failed: ${outcome.message}; rolling back`,
    );
    await this.rollBack({ ...a, status: 'rolling_back', ...outcome });
  }

  /**
   * Rolls a failed analysis' environment back to the newest earlier rollout
   * whose analysis did not fail, recorded as automatic with the reason.
   */
  private async rollBack(a: StoredAnalysis): Promise<void> {
    const now = this.now();
    const candidates = await this.options.deploymentStore.successfulBefore({
      entityRef: a.entityRef,
      environment: a.environment,
      before: a.deploymentId,
      limit: ROLLBACK_CANDIDATES,
    });
    const failed = await this.options.store.failedOf(candidates.map(c => c.id));
    const to = candidates.find(
      c => !failed.has(c.id) && c.revision !== a.revision,
    );
    const why = a.message ?? 'the analysis failed';
    if (!to) {
      await this.options.store.transition({
        id: a.id,
        from: ['rolling_back'],
        to: a.breach ? 'failed' : 'inconclusive',
        now,
        message: `${why}; no earlier revision to roll back to, revision ${a.revision} stays`,
      });
      return;
    }
    const analysed = await this.options.deploymentStore.get(a.deploymentId);
    const target = await this.options.loadTarget(a.entityRef);
    const response = await this.options.deployments.rollback({
      target,
      deployment: to,
      dryRun: false,
      force: false,
      prune: false,
      requestedBy: analysed?.requestedBy ?? 'modelops',
      automatic: true,
      reason: `Automatic rollback: the analysis of revision ${a.revision} failed: ${why}`,
    });
    await this.options.store.transition({
      id: a.id,
      from: ['rolling_back'],
      // A breach failed it; a window that judged nothing was inconclusive.
      to: a.breach ? 'failed' : 'inconclusive',
      now: this.now(),
      rollbackDeploymentId: response.deployment.id,
      message: `${why}; rolled back to revision ${to.revision} (${
        to.image ?? 'its manifests'
      }) as revision ${response.deployment.revision}`,
    });
    this.options.logger.info(
      `Rolled ${a.entityRef} in ${a.environment} back to revision ${to.revision} as revision ${response.deployment.revision}: ${why}`,
    );
  }
}
