/**
 * Image builds of model services: a trigger is validated and recorded (one
 * build per idempotency key, a database rule), then handed to the builder
 * the configuration or the entity names; status is reconciled on read and
 * by a scheduler task, and a build that succeeds with `deployTo` deploys
 * its digest, once.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  Build,
  BuildLogs,
  TriggerBuildRequest,
} from '@modelops/plugin-modelops-common';
import {
  ModelOpsBuildStatus,
  ModelOpsImageBuilder,
} from '@modelops/plugin-modelops-node';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ModelOpsConfig } from '../config';
import { DeploymentService } from '../service/DeploymentService';
import { ModelServiceTarget } from '../service/entities';
import { EnvironmentService } from '../service/EnvironmentService';
import { BuildStore, StoredBuild, toBuild, UNFINISHED } from './BuildStore';
import {
  checkBuildArgs,
  parseSourceLocation,
  refProblem,
  repositoryPath,
} from './validation';

const run = promisify(execFile);

/** The same idempotency key within this long gives the same build. */
export const IDEMPOTENCY_WINDOW_MS = 10 * 60 * 1000;
/** The annotation naming an entity's builder. */
export const ANNOTATION_BUILDER = 'modelops/builder';
/** A build recorded this long ago that no builder took is lost (a trigger takes seconds). */
export const UNSTARTED_AFTER_MS = 5 * 60 * 1000;
/** Log bytes one page gives at most. */
export const MAX_LOG_PAGE_BYTES = 1 << 20;

const SHA = /^[0-9a-f]{40}$/;

/** The commit a ref names on the remote, via `git ls-remote`; undefined when it cannot tell. */
export async function resolveCommit(
  url: string,
  ref: string,
): Promise<string | undefined> {
  if (SHA.test(ref)) return ref;
  try {
    const { stdout } = await run(
      'git',
      ['ls-remote', '--', url, ref, `refs/heads/${ref}`, `refs/tags/${ref}`],
      {
        timeout: 10_000,
        maxBuffer: 1 << 20,
        env: { PATH: process.env.PATH ?? '', GIT_TERMINAL_PROMPT: '0' },
      },
    );
    const line = stdout.split('\n').find(l => SHA.test(l.slice(0, 40)));
    return line?.slice(0, 40);
  } catch {
    return undefined;
  }
}

/** Candidate tags: the commit's, then that with the build's short id; else a timestamp and the id. */
export function candidateTags(
  commit: string | undefined,
  suffix: string,
  now = new Date(),
): string[] {
  if (commit) return [commit.slice(0, 12), `${commit.slice(0, 12)}-${suffix}`];
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return [`${stamp}-${suffix}`.toLowerCase()];
}

export class BuildService {
  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      builders: ReadonlyMap<string, ModelOpsImageBuilder>;
      store: BuildStore;
      environments: EnvironmentService;
      deployments: DeploymentService;
      /** Loads an entity with the backend's own credentials (for deploys after a build). */
      loadTarget: (entityRef: string) => Promise<ModelServiceTarget>;
      logger: LoggerService;
      /** Resolves a ref to its commit; `git ls-remote` by default. */
      resolveCommit?: (url: string, ref: string) => Promise<string | undefined>;
    },
  ) {}

  /** Which builder a build of this entity (deployed to `deployTo`) uses; a 400 when it is not installed. */
  builderFor(
    target: ModelServiceTarget,
    deployTo?: string,
  ): ModelOpsImageBuilder {
    const { config, builders } = this.options;
    const named =
      target.entity.metadata.annotations?.[ANNOTATION_BUILDER]?.trim() ||
      (deployTo ? config.environments[deployTo]?.builder : undefined) ||
      config.builds.builder;
    const builder = builders.get(named);
    if (!builder)
      throw new InputError(
        `No image builder named ${JSON.stringify(
          named,
        )} is installed (builders: ${
          [...builders.keys()].join(', ') || 'none'
        }); fix ${ANNOTATION_BUILDER} or modelops.builds.builder`,
      );
    return builder;
  }

  async trigger(options: {
    target: ModelServiceTarget;
    request: TriggerBuildRequest;
    requestedBy: string;
  }): Promise<{ build: Build; created: boolean; reused?: boolean }> {
    const { target, request } = options;
    const { config } = this.options;
    const image = target.contract.image;
    if (!image)
      throw new InputError(
        `${target.ref} has no modelops/image annotation: it names the repository builds push to`,
      );
    if (!target.contract.buildContext)
      throw new InputError(
        `${target.ref} has neither modelops/build-context nor backstage.io/source-location: a build needs the source's git URL`,
      );
    const location = parseSourceLocation(target.contract.buildContext);
    const ref = request.ref ?? location.ref ?? 'main';
    const refIssue = refProblem(ref);
    if (refIssue)
      throw new InputError(`ref ${JSON.stringify(ref)} ${refIssue}`);
    const contextPath = request.contextPath
      ? repositoryPath('contextPath', request.contextPath)
      : location.path;
    const dockerfile = repositoryPath(
      'dockerfile',
      request.dockerfile ?? 'Dockerfile',
    );
    const buildArgs = checkBuildArgs(
      request.buildArgs,
      config.builds.allowedBuildArgs,
    );
    if (request.deployTo !== undefined)
      this.options.environments.resolveOne({
        target,
        environment: request.deployTo,
      });
    const builder = this.builderFor(target, request.deployTo);
    const commit = await (this.options.resolveCommit ?? resolveCommit)(
      location.url,
      ref,
    );
    const inputs = {
      entityRef: target.ref,
      builder: builder.type,
      source: {
        url: location.url,
        ref,
        ...(commit ? { commit } : {}),
        contextPath,
        dockerfile,
      },
      buildArgs,
      image,
    };
    // The same inputs make the same image: give back the build that made it,
    // as BuildKit's cache would, unless asked to build again. A build that
    // deploys gets its own record (its deploy is recorded on it).
    if (
      config.builds.reuseSucceeded &&
      !request.rebuild &&
      request.deployTo === undefined
    ) {
      const previous = await this.options.store.succeededLike(inputs);
      if (previous)
        return { build: toBuild(previous), created: false, reused: true };
    }
    const suffix = Math.random().toString(16).slice(2, 8);
    const { build, created } = await this.options.store.create(
      {
        ...inputs,
        tags: candidateTags(commit, suffix),
        deployTo: request.deployTo,
        idempotencyKey: request.idempotencyKey,
        requestedBy: options.requestedBy,
      },
      IDEMPOTENCY_WINDOW_MS,
    );
    if (!created) return { build: toBuild(build), created };
    try {
      const started = await builder.trigger({
        request: {
          buildId: build.id,
          entity: target.entity,
          entityRef: target.ref,
          source: build.source,
          buildArgs,
          image: { repository: image, tag: build.tag },
        },
      });
      const updated = await this.options.store.updateUnfinished(build.id, {
        externalRef: started.externalRef,
        externalUrl: started.url,
      });
      return { build: toBuild(updated ?? build), created };
    } catch (error) {
      const message = (error as Error).message;
      const failed = await this.options.store.updateUnfinished(build.id, {
        status: 'failed',
        reason: 'TriggerFailed',
        message: `${builder.type} could not start the build: ${message}`,
        finishedAt: new Date().toISOString(),
      });
      return { build: toBuild(failed ?? build), created };
    }
  }

  async get(id: string): Promise<StoredBuild> {
    const build = await this.options.store.get(id);
    if (!build) throw new NotFoundError(`No build with id ${id}`);
    return build;
  }

  /** A build as it is now: asked of its builder while unfinished. */
  async current(build: StoredBuild): Promise<Build> {
    return toBuild(await this.reconcile(build));
  }

  async list(options: {
    entityRef: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: Build[]; nextCursor?: string }> {
    const page = await this.options.store.list(options);
    return { ...page, items: page.items.map(toBuild) };
  }

  async logs(options: {
    build: StoredBuild;
    after?: string;
    limitBytes: number;
  }): Promise<BuildLogs> {
    const { build } = options;
    if (!build.externalRef)
      return {
        text: build.message ?? '',
        complete: !UNFINISHED.includes(build.status),
      };
    const builder = this.options.builders.get(build.builder);
    if (!builder)
      throw new NotFoundError(
        `The builder ${build.builder} of build ${build.id} is no longer installed`,
      );
    const page = await builder.logs({
      externalRef: build.externalRef,
      after: options.after,
      limitBytes: Math.min(options.limitBytes, MAX_LOG_PAGE_BYTES),
    });
    return page;
  }

  async cancel(build: StoredBuild): Promise<Build> {
    if (!UNFINISHED.includes(build.status)) return toBuild(build);
    const builder = this.options.builders.get(build.builder);
    if (builder && build.externalRef)
      await builder.cancel({ externalRef: build.externalRef });
    const cancelled = await this.options.store.updateUnfinished(build.id, {
      status: 'cancelled',
      reason: 'Cancelled',
      finishedAt: new Date().toISOString(),
    });
    return toBuild(cancelled ?? (await this.get(build.id)));
  }

  /**
   * Asks the builder how an unfinished build is doing and records what
   * changed; a finished build that should deploy does so (once).
   */
  async reconcile(build: StoredBuild): Promise<StoredBuild> {
    let current = build;
    if (
      UNFINISHED.includes(build.status) &&
      !build.externalRef &&
      Date.now() - Date.parse(build.createdAt) > UNSTARTED_AFTER_MS
    ) {
      // Recorded, but the backend stopped before the builder took it.
      return (
        (await this.options.store.updateUnfinished(build.id, {
          status: 'failed',
          reason: 'lost',
          message: 'the backend stopped before the builder started this build',
          finishedAt: new Date().toISOString(),
        })) ?? this.get(build.id)
      );
    }
    if (UNFINISHED.includes(build.status) && build.externalRef) {
      const builder = this.options.builders.get(build.builder);
      let status: ModelOpsBuildStatus;
      try {
        status = builder
          ? await builder.status({ externalRef: build.externalRef })
          : {
              phase: 'failed',
              reason: 'lost',
              message: `the builder ${build.builder} is no longer installed`,
            };
      } catch (error) {
        // The builder did not answer: the build stays as it was, for now.
        this.options.logger.warn(
          `Could not read the status of build ${build.id}: ${
            (error as Error).message
          }`,
        );
        return build;
      }
      const finished = !UNFINISHED.includes(status.phase);
      if (status.phase === 'succeeded' && !status.digest) {
        status = {
          ...status,
          phase: 'failed',
          reason: 'NoDigest',
          message: `${build.builder} reported success but no image digest`,
        };
      }
      const startOf = (iso?: string) => (iso ? Date.parse(iso) : undefined);
      if (
        status.phase !== build.status ||
        startOf(status.startedAt) !== startOf(build.startedAt)
      ) {
        current =
          (await this.options.store.updateUnfinished(build.id, {
            status: status.phase,
            reason: status.reason,
            message: status.message,
            digest: status.digest,
            startedAt: status.startedAt,
            finishedAt:
              status.finishedAt ??
              (finished ? new Date().toISOString() : undefined),
          })) ?? (await this.get(build.id));
      }
    }
    if (
      current.status === 'succeeded' &&
      current.deployTo &&
      !current.deploymentId
    )
      current = await this.deployBuilt(current);
    return current;
  }

  /** Deploys a succeeded build's digest to its `deployTo`, if no one else claimed it. */
  private async deployBuilt(build: StoredBuild): Promise<StoredBuild> {
    if (!(await this.options.store.claimDeploy(build.id))) return build;
    try {
      const target = await this.options.loadTarget(build.entityRef);
      const deployed = await this.options.deployments.deploy({
        target,
        environment: build.deployTo!,
        buildId: build.id,
        dryRun: false,
        force: false,
        requestedBy: build.requestedBy,
      });
      await this.options.store.recordDeploy(build.id, {
        deploymentId: deployed.deployment.id,
      });
    } catch (error) {
      await this.options.store.recordDeploy(build.id, {
        message: `built, but the deploy to ${build.deployTo} failed: ${
          (error as Error).message
        }`,
      });
    }
    return this.get(build.id);
  }

  /** The scheduler task: every unfinished build (and undeployed success) once. */
  async reconcileAll(limit = 100): Promise<void> {
    const builds = [
      ...(await this.options.store.unfinished(limit)),
      ...(await this.options.store.undeployed(limit)),
    ];
    for (const build of builds) {
      try {
        await this.reconcile(build);
      } catch (error) {
        this.options.logger.warn(
          `Reconciling build ${build.id} failed: ${(error as Error).message}`,
        );
      }
    }
  }
}
