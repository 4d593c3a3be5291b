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
 *
 * A canary release runs the revision as canary Deployments next to the
 * stable ones (see canary.ts); its analysis reads the canary's pods, and
 * the stable pods' for comparison, then promotes the revision to the
 * stable Deployments when it passes or removes the canary when it fails.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  Analysis,
  AnalysisCanary,
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
import { StoredDeployment } from '../database/DeploymentStore';
import { DeploymentStore } from '../database/DeploymentStore';
import { readRolloutStatus } from '../deploy/status/status';
import { ClusterClients } from '../kubernetes/ClusterClients';
import { durationSeconds } from '../metrics/queries';
import { DeploymentService } from '../service/DeploymentService';
import { ModelServiceTarget } from '../service/entities';
import { removeCanary } from './canary';
import { judgeEvaluation } from './judge';
import { revisionPods, stablePods } from './revisionPods';

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
    const duration = request?.durationSeconds ?? durationSeconds(a.duration);
    if (!duration) return undefined;
    return {
      durationSeconds: duration,
      intervalSeconds: durationSeconds(a.interval),
      window: a.window,
      minRequestRate: a.minRequestRate,
      onInconclusive: a.onInconclusive,
    };
  }

  /** Whether a deploy to `environment` with this request is analysed. */
  analyses(environment: string, request?: AnalysisRequest): boolean {
    return this.settingsFor(environment, request) !== undefined;
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
    /** The canary a canary release started. */
    canary?: AnalysisCanary;
  }): Promise<Analysis | undefined> {
    const { deployment, env } = options;
    const now = this.now();
    for (const running of await this.options.store.running({
      entityRef: deployment.entityRef,
      environment: env.name,
    })) {
      if (running.deploymentId === deployment.id) continue;
      const message = `cancelled: ${deployment.action} to revision ${deployment.revision} by ${deployment.requestedBy} replaced revision ${running.revision}`;
      const claimed = await this.options.store.transition({
        id: running.id,
        from: ['running'],
        // A replaced canary is removed; what replaced it runs, no rollback.
        to: running.canary ? 'cancelling' : 'cancelled',
        now,
        cancelledBy: deployment.requestedBy,
        message,
      });
      if (claimed && running.canary)
        await this.settle(() =>
          this.finishCancel({ ...running, status: 'cancelling', message }),
        );
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
      canary: options.canary,
      now,
    });
    this.options.logger.info(
      `Analysing ${deployment.entityRef} revision ${deployment.revision}${
        options.canary
          ? ` (a canary of ${options.canary.replicas} pod(s) next to ${options.canary.stableReplicas} stable)`
          : ''
      } in ${env.name} for ${settings.durationSeconds}s, every ${
        settings.intervalSeconds
      }s`,
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
    if (rolledBack) return stored.message ?? 'its analysis failed';
    if (stored.canary && stored.canary.outcome !== 'promoted')
      return `it ran only as a canary${
        stored.message ? ` (${stored.message})` : ''
      }`;
    return undefined;
  }

  /**
   * Stops a running analysis. The revision stays; a canary is removed and
   * the environment goes back to the release the stable pods run. An ended
   * one is answered as it is.
   */
  async cancel(deploymentId: string, by: string): Promise<Analysis> {
    const stored = await this.options.store.ofDeployment(deploymentId);
    if (!stored)
      throw new NotFoundError(`Deployment ${deploymentId} has no analysis`);
    if (stored.status === 'rolling_back' || stored.status === 'promoting')
      throw new ConflictError(
        `The analysis of deployment ${deploymentId} has ended and its ${
          stored.status === 'promoting' ? 'promotion' : 'rollback'
        } is under way; it cannot be cancelled`,
      );
    const message = stored.canary
      ? `cancelled by ${by}; the canary of revision ${stored.revision} is removed`
      : `cancelled by ${by}; revision ${stored.revision} stays`;
    const claimed = await this.options.store.transition({
      id: stored.id,
      from: ['running'],
      to: stored.canary ? 'cancelling' : 'cancelled',
      now: this.now(),
      cancelledBy: by,
      message,
      canary: stored.canary
        ? ({ ...stored.canary, restore: true } as AnalysisCanary)
        : undefined,
    });
    if (claimed && stored.canary)
      await this.finishCancel({
        ...stored,
        status: 'cancelling',
        message,
        canary: { ...stored.canary, restore: true } as AnalysisCanary,
      });
    return toAnalysis((await this.options.store.get(stored.id))!);
  }

  /** Runs an ending step now; a failure is left to the scheduler task, which retries it. */
  private async settle(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.options.logger.warn(
        `${errorMessage(error)}; the analyses task retries it`,
      );
    }
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
    if (a.status === 'promoting') {
      await this.promote(a);
      return;
    }
    if (a.status === 'cancelling') {
      await this.finishCancel(a);
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
      canary?: AnalysisCanary;
    }) =>
      this.options.store.recordEvaluation({
        id: a.id,
        evaluations: a.evaluations,
        conclusive: fields.conclusive,
        signals: fields.signals ?? a.signals ?? [],
        selector: fields.selector ?? a.selector,
        message: fields.message,
        canary: fields.canary,
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
    const own = a.canary ? rollout.canary : rollout;
    if (own?.phase === 'Failed' && own.revision === a.revision) {
      await this.fail(a, now, {
        breach: { signal: 'readyRatio', value: 0, threshold: 1, unit: 'ratio' },
        message: `the ${a.canary ? 'canary' : 'rollout'} of revision ${
          a.revision
        } failed${
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
    const canary = a.canary && (await this.readStable(a, target));
    const verdict = judgeEvaluation(read.signals, {
      minRequestRate: a.minRequestRate,
      window: a.window,
    });
    const of = a.canary ? 'the canary: ' : '';
    if (verdict.kind === 'breach') {
      await this.fail(a, now, {
        breach: verdict.breach,
        message: `${of}${verdict.message}`,
        signals: read.signals,
        selector: read.selector,
        canary: canary || undefined,
      });
      return;
    }
    await record({
      conclusive: verdict.kind === 'ok',
      message: `${of}${verdict.message}`,
      signals: read.signals,
      selector: read.selector,
      canary: canary || undefined,
    });
  }

  /** The stable pods' signals next to a canary's, for comparison (best effort). */
  private async readStable(
    a: StoredAnalysis,
    target: ModelServiceTarget,
  ): Promise<AnalysisCanary | undefined> {
    const pods = await stablePods(this.options.clusters.get(a.cluster), {
      namespace: a.namespace,
      kubernetesId: target.contract.kubernetesId!,
    });
    if (!('podPattern' in pods)) return undefined;
    const read = await this.options.signals.revisionSignals({
      target,
      env: { cluster: a.cluster, namespace: a.namespace },
      podPattern: pods.podPattern,
      window: a.window,
    });
    return {
      ...a.canary!,
      stableSignals: read.signals,
      stableSelector: read.selector,
    };
  }

  /** The window is over: passed with one conclusive evaluation or more, else inconclusive as configured. */
  private async conclude(a: StoredAnalysis, now: Date): Promise<void> {
    const passes = a.conclusiveEvaluations > 0 || a.onInconclusive === 'pass';
    if (a.canary && passes) {
      const message =
        a.conclusiveEvaluations > 0
          ? `passed: ${a.conclusiveEvaluations} of ${a.evaluations} evaluations judged the canary of revision ${a.revision} within its SLOs`
          : `inconclusive: no evaluation of ${a.evaluations} could judge the canary of revision ${a.revision}; promoted, as configured`;
      if (
        await this.options.store.transition({
          id: a.id,
          from: ['running'],
          to: 'promoting',
          now,
          message,
        })
      )
        await this.promote({ ...a, status: 'promoting', message });
      return;
    }
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
      canary?: AnalysisCanary;
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
      canary: outcome.canary,
    });
    if (!claimed) return;
    this.options.logger.warn(
      `Analysis of ${a.entityRef} revision ${a.revision} in ${a.environment} failed: ${outcome.message}; rolling back`,
    );
    await this.rollBack({
      ...a,
      status: 'rolling_back',
      ...outcome,
      canary: outcome.canary ?? a.canary,
    });
  }

  /**
   * Whether a later rollout replaced the analysed one: then the analysis
   * no longer decides what runs, and neither promotes nor rolls back.
   */
  private async superseded(
    a: StoredAnalysis,
  ): Promise<StoredDeployment | undefined> {
    const last = await this.options.deploymentStore.lastSuccessful({
      entityRef: a.entityRef,
      environment: a.environment,
    });
    return last &&
      last.id !== a.deploymentId &&
      (last.revision ?? 0) > a.revision
      ? last
      : undefined;
  }

  /** Removes the canary of an analysis' revision, if it has one. */
  private async removeCanaryOf(
    a: StoredAnalysis,
  ): Promise<AnalysisCanary | undefined> {
    if (!a.canary) return undefined;
    const target = await this.options.loadTarget(a.entityRef);
    const removed = await removeCanary(this.options.clusters.get(a.cluster), {
      namespace: a.namespace,
      kubernetesId: target.contract.kubernetesId!,
      revision: a.revision,
    });
    if (removed.length)
      this.options.logger.info(
        `Removed the canary ${removed.join(', ')} of ${a.entityRef} revision ${
          a.revision
        } in ${a.environment}`,
      );
    const { restore: _r, ...canary } = a.canary as AnalysisCanary & {
      restore?: boolean;
    };
    return { ...canary, outcome: 'removed' };
  }

  /**
   * Goes back to the newest earlier rollout whose analysis did not fail,
   * recorded as an automatic rollback for `reason`; undefined when there is
   * none, or a later rollout already replaced the analysed one.
   */
  private async restoreEarlier(
    a: StoredAnalysis,
    reason: string,
  ): Promise<{ to: StoredDeployment; rollback: DeploymentRecord } | undefined> {
    if (await this.superseded(a)) return undefined;
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
    if (!to) return undefined;
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
      reason,
    });
    this.options.logger.info(
      `Rolled ${a.entityRef} in ${a.environment} back to revision ${to.revision} as revision ${response.deployment.revision}: ${reason}`,
    );
    return { to, rollback: response.deployment };
  }

  /**
   * Rolls a failed analysis' environment back to the newest earlier rollout
   * whose analysis did not fail, recorded as automatic with the reason. A
   * canary is removed first: the stable pods never ran the revision.
   */
  private async rollBack(a: StoredAnalysis): Promise<void> {
    const why = a.message ?? 'the analysis failed';
    const canary = await this.removeCanaryOf(a);
    const later = await this.superseded(a);
    const restored = await this.restoreEarlier(
      a,
      `Automatic rollback: the analysis of ${
        a.canary ? 'the canary of ' : ''
      }revision ${a.revision} failed: ${why}`,
    );
    const removed = canary
      ? `; the canary was removed, the stable pods never ran revision ${a.revision}`
      : '';
    let outcome = '';
    if (restored)
      outcome = `; rolled back to revision ${restored.to.revision} (${
        restored.to.image ?? 'its manifests'
      }) as revision ${restored.rollback.revision}`;
    else if (later)
      outcome = `; not rolled back: revision ${later.revision} replaced it`;
    else if (!canary)
      outcome = `; no earlier revision to roll back to, revision ${a.revision} stays`;
    await this.options.store.transition({
      id: a.id,
      from: ['rolling_back'],
      // A breach failed it; a window that judged nothing was inconclusive.
      to: a.breach ? 'failed' : 'inconclusive',
      now: this.now(),
      rollbackDeploymentId: restored?.rollback.id,
      canary,
      message: `${why}${removed}${outcome}`,
    });
  }

  /**
   * A canary that passed (or judged nothing, where that passes): its
   * revision's recorded manifests are applied, so the stable Deployments
   * take the release and all the replicas, then the canary is removed.
   */
  private async promote(a: StoredAnalysis): Promise<void> {
    const later = await this.superseded(a);
    let message = a.message ?? 'passed';
    if (later) {
      message = `${message}; not promoted: revision ${later.revision} replaced it`;
    } else {
      const deployment = await this.options.deploymentStore.get(a.deploymentId);
      if (!deployment)
        throw new Error(`deployment ${a.deploymentId} is not recorded`);
      await this.options.deployments.applyRecorded({
        target: await this.options.loadTarget(a.entityRef),
        deployment,
      });
      message = `${message}; revision ${a.revision} was promoted to the stable Deployments`;
    }
    const canary = await this.removeCanaryOf(a);
    await this.options.store.transition({
      id: a.id,
      from: ['promoting'],
      to: a.conclusiveEvaluations > 0 ? 'passed' : 'inconclusive',
      now: this.now(),
      canary: canary && { ...canary, outcome: later ? 'removed' : 'promoted' },
      message,
    });
    if (!later)
      this.options.logger.info(
        `Promoted the canary of ${a.entityRef} revision ${a.revision} in ${a.environment}`,
      );
  }

  /**
   * A stopped canary: removed; when a user stopped it (not a later deploy,
   * which runs now), the environment goes back to the stable pods' release
   * in the history as well.
   */
  private async finishCancel(a: StoredAnalysis): Promise<void> {
    const restore = (a.canary as { restore?: boolean } | undefined)?.restore;
    const canary = await this.removeCanaryOf(a);
    const restored = restore
      ? await this.restoreEarlier(
          a,
          `Automatic rollback: ${
            a.cancelledBy ?? 'a user'
          } stopped the canary of revision ${a.revision}`,
        )
      : undefined;
    await this.options.store.transition({
      id: a.id,
      from: ['cancelling'],
      to: 'cancelled',
      now: this.now(),
      canary,
      rollbackDeploymentId: restored?.rollback.id,
      message: restored
        ? `${a.message}; the history goes back to revision ${restored.to.revision} as revision ${restored.rollback.revision}`
        : a.message,
    });
  }
}
