import { LoggerService, UrlReaderService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  Analysis,
  AnalysisCanary,
  AnalysisRequest,
  Build,
  DeploymentRecord,
  DeploymentStatusResponse,
  DeployResponse,
  ModelOpsEnvironment,
  ModelServiceContract,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import {
  DeploymentStore,
  NewDeployment,
  StoredDeployment,
  toRecord,
} from '../database/DeploymentStore';

export { toRecord };
import { applyObjects } from '../deploy/apply/apply';
import {
  findPruneCandidates,
  pruneDiff,
  pruneObjects,
} from '../deploy/apply/prune';
import { applySetId } from '../deploy/labels';
import { environmentPolicy } from '../deploy/policy/environmentPolicy';
import { validateObjects } from '../deploy/policy/policy';
import {
  modelImageOf,
  renderManifests,
  stampRevision,
} from '../deploy/render/render';
import { loadManifests } from '../deploy/source/loadManifests';
import { UrlResolver } from '../deploy/source/location';
import { environmentStatuses } from '../deploy/status/environmentStatus';
import { readRolloutStatus } from '../deploy/status/status';
import { planCanary } from '../analysis/canary';
import { ClusterClients } from '../kubernetes/ClusterClients';
import { KubeObject } from '../kubernetes/types';
import { ModelServiceTarget } from './entities';
import { EnvironmentService } from './EnvironmentService';

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Options of `DeploymentService.deploy`. */
export interface DeployOptions {
  target: ModelServiceTarget;
  environment: string;
  image?: string;
  /** Deploy the digest this succeeded build of the target pushed. */
  buildId?: string;
  fromEnvironment?: string;
  manifests?: string;
  dryRun: boolean;
  force: boolean;
  /** Delete objects of the set that the manifests no longer contain. */
  prune?: boolean;
  requestedBy: string;
  /** The analysis to run after the rollout; absent: the environment's default. */
  analysis?: AnalysisRequest;
}

/** Options of `DeploymentService.rollback`. */
export interface RollbackOptions {
  target: ModelServiceTarget;
  deployment: StoredDeployment;
  dryRun: boolean;
  force: boolean;
  /** Delete objects of the set that the rolled-back-to manifests lack. */
  prune?: boolean;
  requestedBy: string;
  /** ModelOps rolls back by itself (a failed analysis), for this reason. */
  automatic?: boolean;
  reason?: string;
}

/** What deploys tell the analyses, and ask of them. */
export interface DeploymentAnalyses {
  /** A rollout was applied: cancel what it replaces, start its analysis if asked. */
  afterApply(options: {
    deployment: DeploymentRecord;
    env: ModelOpsEnvironment;
    request?: AnalysisRequest;
    canary?: AnalysisCanary;
  }): Promise<Analysis | undefined>;
  /** Whether a deploy to `environment` with this request is analysed. */
  analyses(environment: string, request?: AnalysisRequest): boolean;
  /** Why a deployment's revision may not be promoted, if its analysis failed. */
  failedAnalysis(deploymentId: string): Promise<string | undefined>;
}

/** One deploy after its source was chosen: what `run` walks through. */
interface Attempt {
  target: ModelServiceTarget;
  env: ModelOpsEnvironment;
  record: NewDeployment;
  /** Loads the objects to render (parsed and shape-checked once). */
  source: () => Promise<KubeObject[]>;
  image: string | undefined;
  dryRun: boolean;
  force: boolean;
  prune: boolean;
  analysis?: AnalysisRequest;
}

/**
 * Deploys model services. A deploy walks one way: source (inline YAML, a
 * built-in template or a location, parsed once) → render (namespace, labels,
 * image) → one policy pass against the target cluster → reserve (one
 * attempt per environment at a time) → apply (server-side, every object
 * dry-run first; the revision is given just before the first write) and
 * prune → record. Every attempt is recorded, refused ones and previews
 * included; only attempts that write to the cluster get a revision.
 */
export class DeploymentService {
  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      environments: EnvironmentService;
      clusters: ClusterClients;
      store: DeploymentStore;
      urlReader: UrlReaderService;
      logger: LoggerService;
      /** Reads a build record, for deploys of a build (`buildId`). */
      builds?: {
        get(id: string): Promise<Build | undefined>;
      };
      /**
       * Resolves relative `modelops/manifests` paths like the portal's SCM
       * integrations (`ScmIntegrations.fromConfig(rootConfig)`); without it,
       * Backstage's default resolution for hosts no integration names.
       */
      integrations?: UrlResolver;
    },
  ) {}

  private analyses?: DeploymentAnalyses;

  /** Connects the analyses, which in turn roll back through this service. */
  useAnalyses(analyses: DeploymentAnalyses): void {
    this.analyses = analyses;
  }

  async deploy(request: DeployOptions): Promise<DeployResponse> {
    const { target } = request;
    const env = this.options.environments.resolveOne({
      target,
      environment: request.environment,
    });
    this.deployableContract(target);

    let image = request.image;
    let sourceDeploymentId: string | undefined;
    if (request.buildId !== undefined)
      image = await this.builtImage(target, request.buildId);
    if (request.fromEnvironment !== undefined) {
      const promoted = await this.runningImage(target, request);
      image = promoted.image;
      sourceDeploymentId = promoted.sourceDeploymentId;
    }
    const policy = environmentPolicy(this.options.config, env.name);
    return this.run({
      target,
      env,
      image,
      dryRun: request.dryRun,
      force: request.force,
      prune: request.prune ?? false,
      analysis: request.analysis,
      source: () =>
        loadManifests(
          {
            target,
            environment: env.name,
            namespace: env.namespace,
            inline: request.manifests,
            allowInline: policy.allowInlineManifests,
          },
          {
            urlReader: this.options.urlReader,
            urls: this.options.integrations,
          },
        ),
      record: {
        entityRef: target.ref,
        environment: env.name,
        cluster: env.cluster,
        namespace: env.namespace,
        action: request.fromEnvironment !== undefined ? 'promote' : 'deploy',
        image,
        sourceDeploymentId,
        buildId: request.buildId,
        requestedBy: request.requestedBy,
      },
    });
  }

  /** The image a build of the target pushed, pinned by its digest; a 400 for any other build. */
  private async builtImage(
    target: ModelServiceTarget,
    buildId: string,
  ): Promise<string> {
    const build = await this.options.builds?.get(buildId);
    if (!build || build.entityRef !== target.ref)
      throw new InputError(
        `Invalid deploy request: ${target.ref} has no build ${JSON.stringify(
          buildId,
        )}`,
      );
    if (build.status !== 'succeeded' || !build.digest)
      throw new InputError(
        `Invalid deploy request: build ${buildId} is ${build.status}, not succeeded with a pushed digest; only a succeeded build can be deployed`,
      );
    return `${build.image}@${build.digest}`;
  }

  async rollback(request: RollbackOptions): Promise<DeployResponse> {
    const { target, deployment } = request;
    if (
      deployment.dryRun ||
      deployment.result !== 'succeeded' ||
      !deployment.revision
    ) {
      throw new InputError(
        `Deployment ${deployment.id} cannot be rolled back to: only successful deployments (not dry runs) have manifests to re-apply`,
      );
    }
    const env = this.options.environments.resolveOne({
      target,
      environment: deployment.environment,
    });
    this.deployableContract(target);
    return this.run({
      target,
      env,
      // The recorded objects carry their images.
      image: undefined,
      dryRun: request.dryRun,
      force: request.force,
      prune: request.prune ?? false,
      source: async () => deployment.manifests as KubeObject[],
      record: {
        entityRef: deployment.entityRef,
        environment: env.name,
        cluster: env.cluster,
        namespace: env.namespace,
        action: 'rollback',
        image: deployment.image,
        sourceDeploymentId: deployment.id,
        requestedBy: request.requestedBy,
        automatic: request.automatic,
        reason: request.reason,
      },
    });
  }

  async status(options: {
    target: ModelServiceTarget;
  }): Promise<DeploymentStatusResponse> {
    return environmentStatuses({ ...this.options, target: options.target });
  }

  /** Loads a deployment record, or a 404 naming it. */
  async getDeployment(id: string): Promise<StoredDeployment> {
    const stored = await this.options.store.get(id);
    if (!stored) {
      throw new NotFoundError(`No deployment with id ${id}`);
    }
    return stored;
  }

  /** A contract good enough to deploy: no problems in what deploys use. */
  private deployableContract(target: ModelServiceTarget): ModelServiceContract {
    const { ref, contract } = target;
    const blocking = contract.problems.filter(p =>
      [
        'backstage.io/kubernetes-id',
        'backstage.io/kubernetes-namespace',
        'modelops/manifests',
        'modelops/image',
      ].includes(p.annotation),
    );
    if (blocking.length > 0 || !contract.kubernetesId) {
      throw new InputError(
        `${ref} cannot be deployed until its annotations are fixed: ${blocking
          .map(p => `${p.annotation} ${p.message}`)
          .join('; ')}`,
      );
    }
    return contract;
  }

  /** The image running in `fromEnvironment`, for a promotion. */
  private async runningImage(
    target: ModelServiceTarget,
    request: { environment: string; fromEnvironment?: string },
  ): Promise<{ image: string; sourceDeploymentId?: string }> {
    const from = request.fromEnvironment!;
    if (from === request.environment) {
      throw new InputError(
        `Cannot promote from ${from} to itself: choose another target environment`,
      );
    }
    const { contract } = target;
    const source = this.options.environments.resolveOne({
      target,
      environment: from,
    });
    const live = await readRolloutStatus(
      this.options.clusters.get(source.cluster),
      {
        namespace: source.namespace,
        kubernetesId: contract.kubernetesId!,
        imageRepository: contract.image,
      },
    );
    if (!live.image) {
      throw new InputError(
        `Nothing to promote: no ${contract.kubernetesId} workload runs in ${from} (${source.cluster}/${source.namespace})`,
      );
    }
    if (live.phase !== 'Available') {
      throw new ConflictError(
        `Cannot promote from ${from}: its rollout is ${live.phase}, not Available; promote once ${live.image} runs healthily there`,
      );
    }
    const last = await this.options.store.lastSuccessful({
      entityRef: target.ref,
      environment: from,
    });
    if (last?.image === live.image) {
      const failed = await this.analyses?.failedAnalysis(last.id);
      if (failed)
        throw new ConflictError(
          `Cannot promote from ${from}: revision ${last.revision}, which runs there, failed its analysis (${failed}); promote a revision that passed`,
        );
    }
    // Only name the source record if it is what actually runs there.
    return {
      image: live.image,
      sourceDeploymentId: last?.image === live.image ? last.id : undefined,
    };
  }

  /**
   * Applies an attempt, then tells the analyses about the new rollout
   * (outside the attempt: a rollout that was applied stays recorded as
   * succeeded whatever happens next).
   */
  private async run(attempt: Attempt): Promise<DeployResponse> {
    const { response, canary } = await this.apply(attempt);
    if (attempt.dryRun || !this.analyses) return response;
    const analysis = await this.analyses.afterApply({
      deployment: response.deployment,
      env: attempt.env,
      request: attempt.analysis,
      canary,
    });
    return analysis ? { ...response, analysis } : response;
  }

  /**
   * Applies a recorded rollout's manifests again as they were (its revision
   * included), recording nothing new: how a canary that passed its analysis
   * becomes the stable release.
   */
  async applyRecorded(options: {
    target: ModelServiceTarget;
    deployment: StoredDeployment;
  }): Promise<void> {
    const { target, deployment } = options;
    const env = this.options.environments.resolveOne({
      target,
      environment: deployment.environment,
    });
    const policy = environmentPolicy(this.options.config, env.name);
    const client = this.options.clusters.get(env.cluster);
    const resolved = await validateObjects(
      deployment.manifests as KubeObject[],
      { ...policy, client, namespace: env.namespace },
    );
    await applyObjects(client, resolved, { dryRun: false, force: false });
  }

  /** Whether a deploy asks for a canary, and may have one. */
  private canaryPercent(attempt: Attempt): number | undefined {
    const percent = attempt.analysis?.canaryPercent;
    if (percent === undefined) return undefined;
    if (attempt.record.action === 'rollback')
      throw new InputError(
        'Invalid deploy request: a rollback goes back to a known revision and has no canary',
      );
    if (attempt.prune)
      throw new InputError(
        'Invalid deploy request: a canary release cannot prune; prune in a later deploy, once the canary was promoted',
      );
    if (!this.analyses?.analyses(attempt.env.name, attempt.analysis))
      throw new InputError(
        `Invalid deploy request: a canary is judged by its analysis, and this deploy has none (${
          attempt.analysis?.durationSeconds === 0
            ? 'analysis.durationSeconds is 0'
            : `${attempt.env.name} analyses no deploys by default`
        }); give analysis.durationSeconds`,
      );
    return percent;
  }

  /**
   * source → render → policy → reserve → apply and prune → record. A canary
   * release applies only the canary Deployments and records the release's
   * objects, which its promotion applies.
   */
  private async apply(
    attempt: Attempt,
  ): Promise<{ response: DeployResponse; canary?: AnalysisCanary }> {
    const { target, env, record, dryRun } = attempt;
    const { store } = this.options;
    const contract = target.contract;
    const policy = environmentPolicy(this.options.config, env.name);
    const client = this.options.clusters.get(env.cluster);
    let rendered: KubeObject[] = [];
    let reserved: { id: string; revision: number } | undefined;
    try {
      const canaryPercent = this.canaryPercent(attempt);
      rendered = renderManifests(await attempt.source(), {
        namespace: env.namespace,
        kubernetesId: contract.kubernetesId!,
        entityRef: record.entityRef,
        environment: env.name,
        image: attempt.image,
        imageRepository: contract.image,
      });
      record.image ??= modelImageOf(rendered, contract.image);
      const resolved = await validateObjects(rendered, {
        ...policy,
        client,
        namespace: env.namespace,
      });
      const plan =
        canaryPercent === undefined
          ? undefined
          : await planCanary(client, {
              resolved,
              namespace: env.namespace,
              imageRepository: contract.image,
              percent: canaryPercent,
            });

      // A preview shows the revision the next rollout would get.
      let revision: number;
      let commitRevision: (() => Promise<void>) | undefined;
      if (dryRun) {
        revision = (await store.latestRevision(record)) + 1;
      } else {
        const begun = await store.begin(record);
        const attemptId = begun.attempt.id;
        revision = begun.nextRevision;
        reserved = { id: attemptId, revision };
        commitRevision = () =>
          store.commitRevision({ id: attemptId, revision });
      }
      const stamp = (objects: typeof resolved) =>
        objects.map(r => ({
          ...r,
          object: stampRevision([r.object], revision)[0],
        }));
      const stamped = stamp(resolved);
      rendered = stamped.map(r => r.object);

      const candidates = attempt.prune
        ? await findPruneCandidates(client, {
            namespace: env.namespace,
            setId: applySetId(record.entityRef, env.name),
            entityRef: record.entityRef,
            keep: rendered,
            allowedKinds: policy.allowedKinds,
            allowSecrets: policy.allowSecrets,
          })
        : [];
      const applied = await applyObjects(
        client,
        plan ? stamp(plan.objects) : stamped,
        {
          dryRun,
          force: attempt.force,
          beforeWrite: commitRevision,
        },
      );
      const pruned = dryRun
        ? candidates.map(pruneDiff)
        : await pruneObjects(client, candidates, env.namespace);
      const diff = [...applied.map(a => a.diff), ...pruned];

      const stored = reserved
        ? await store.finish({
            id: reserved.id,
            result: 'succeeded',
            manifests: rendered,
          })
        : await store.recordFinished({
            ...record,
            dryRun,
            result: 'succeeded',
            manifests: rendered,
          });
      if (!dryRun) {
        this.options.logger.info(
          `Deployed ${record.entityRef} revision ${stored.revision}${
            plan ? ` as a canary (${plan.canary.deployments.join(', ')})` : ''
          } to ${env.name} (${env.cluster}/${env.namespace}) for ${
            record.requestedBy
          }${pruned.length ? `, pruning ${pruned.length} object(s)` : ''}`,
        );
      }
      return {
        response: { deployment: toRecord(stored), diff },
        canary: plan?.canary,
      };
    } catch (error) {
      await this.recordFailure(attempt, reserved?.id, rendered, error);
      throw error;
    }
  }

  /** Records a failed attempt; a failure to record is logged, not thrown. */
  private async recordFailure(
    attempt: Attempt,
    reservedId: string | undefined,
    rendered: KubeObject[],
    error: unknown,
  ): Promise<void> {
    const { store } = this.options;
    try {
      if (reservedId) {
        await store.finish({
          id: reservedId,
          result: 'failed',
          error: errorMessage(error),
          manifests: rendered,
        });
      } else {
        await store.recordFinished({
          ...attempt.record,
          dryRun: attempt.dryRun,
          result: 'failed',
          error: errorMessage(error),
          manifests: rendered,
        });
      }
    } catch (recordError) {
      this.options.logger.warn(
        `Could not record the failed deploy of ${attempt.record.entityRef} to ${
          attempt.env.name
        }: ${errorMessage(recordError)}`,
      );
    }
  }
}
