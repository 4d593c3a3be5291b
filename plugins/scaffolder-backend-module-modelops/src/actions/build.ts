import { Build, BuildStatus } from '@modelops/plugin-modelops-common';
import {
  DEFAULT_POLL_INTERVAL_MS,
  ModelOpsActionsOptions,
  OperationContext,
  Zod,
  callModelOps,
  once,
  pollUntil,
  sleep,
} from './common';

/** How long a trigger waits for an entity that is not in the catalog yet (just registered). */
export const DEFAULT_ENTITY_WAIT_MS = 120_000;

/** Default for `timeoutMinutes` of a build that is waited for. */
export const DEFAULT_BUILD_TIMEOUT_MINUTES = 30;

const BUILD_STATUSES: [BuildStatus, ...BuildStatus[]] = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
];

/** The input of a build, in a template step and from the actions registry. */
export const triggerBuildInputSchema = (z: Zod) =>
  z.object({
    entityRef: z
      .string()
      .min(1)
      .max(512)
      .describe(
        'The model service to build, as a full entity ref, e.g. `component:default/fraud-detector`.',
      ),
    ref: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe(
        "Branch, tag or commit to build; the repository's default branch when absent.",
      ),
    deployTo: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe(
        'Environment to deploy the built image to when the build succeeds. Needs the modelops.deployment.create permission on the entity as well.',
      ),
    buildArgs: z
      .record(z.string())
      .optional()
      .describe(
        'Build arguments; only the names that modelops.builds.allowedBuildArgs lists.',
      ),
    rebuild: z
      .boolean()
      .optional()
      .describe(
        'Build even when a build of the same commit and inputs succeeded (otherwise that build is the result). Default false.',
      ),
    wait: z
      .boolean()
      .optional()
      .describe(
        'Wait until the build has finished (and, with deployTo, has been deployed); a failed or cancelled build then fails the step. Default false.',
      ),
    timeoutMinutes: z
      .number()
      .positive()
      .max(1440)
      .optional()
      .describe(
        `With wait: how long to wait at most before failing, in minutes. The build goes on in ModelOps. Default ${DEFAULT_BUILD_TIMEOUT_MINUTES}.`,
      ),
  });

/** The output of a build. */
export const triggerBuildOutputSchema = (z: Zod) =>
  z.object({
    buildId: z.string().describe('The id of the build in ModelOps.'),
    status: z
      .enum(BUILD_STATUSES)
      .describe(
        'The status of the build when the step ended: queued, running, succeeded, failed or cancelled.',
      ),
    image: z.string().describe('The image repository the build pushes to.'),
    tag: z.string().describe('The tag the build pushes.'),
    digest: z
      .string()
      .optional()
      .describe('The digest of the pushed image, once the build succeeded.'),
    imageRef: z
      .string()
      .optional()
      .describe(
        'The pushed image pinned by its digest (`image@digest`), once the build succeeded.',
      ),
    deploymentId: z
      .string()
      .optional()
      .describe('The deployment made from the build, with deployTo.'),
  });

/**
 * The input of `modelops:build:trigger`.
 * @public
 */
export type ModelOpsTriggerBuildInput = {
  /** The model service, as a full entity ref. */
  entityRef: string;
  /** Branch, tag or commit; the repository's default branch when absent. */
  ref?: string;
  /** Environment to deploy the image to when the build succeeds. */
  deployTo?: string;
  /** Build arguments. */
  buildArgs?: Record<string, string>;
  /** Build even when a build of the same commit and inputs succeeded. */
  rebuild?: boolean;
  /** Wait until the build has finished (and been deployed, with `deployTo`). */
  wait?: boolean;
  /** How long to wait at most, in minutes; default 30. */
  timeoutMinutes?: number;
};

/**
 * The output of `modelops:build:trigger`.
 * @public
 */
export type ModelOpsTriggerBuildOutput = {
  buildId: string;
  status: BuildStatus;
  /** The image repository the build pushes to. */
  image: string;
  tag: string;
  /** The pushed image's digest, once the build succeeded. */
  digest?: string;
  /** `image@digest`, once the build succeeded. */
  imageRef?: string;
  /** The deployment made from the build, with `deployTo`. */
  deploymentId?: string;
};

/** A build to trigger, with the key that makes a repeated request get the same build. */
export type TriggerBuildRequest = ModelOpsTriggerBuildInput & {
  idempotencyKey: string;
};

function outputOf(build: Build): ModelOpsTriggerBuildOutput {
  return {
    buildId: build.id,
    status: build.status,
    image: build.image,
    tag: build.tag,
    ...(build.digest
      ? { digest: build.digest, imageRef: `${build.image}@${build.digest}` }
      : {}),
    ...(build.deploymentId ? { deploymentId: build.deploymentId } : {}),
  };
}

function describeFailure(build: Build): string {
  const reason = build.reason ? ` (${build.reason})` : '';
  const message = build.message ? `: ${build.message}` : '';
  return `Build ${build.id} of ${build.entityRef} ${build.status}${reason}${message}`;
}

/**
 * Triggers a build of a model service with the caller's credentials and,
 * with `wait`, follows it until it has finished (and, with `deployTo`, its
 * image has been deployed).
 */
export async function triggerModelBuild(
  options: ModelOpsActionsOptions,
  input: TriggerBuildRequest,
  context: OperationContext,
): Promise<ModelOpsTriggerBuildOutput> {
  const { modelOps } = options;
  const { credentials, logger } = context;
  const triggered: { build?: Build } = {};

  // A step that runs again in the same task follows the build the first run
  // triggered; the idempotency key gives the same answer within ModelOps.
  const buildId = await once(context, 'modelops.build', async () => {
    const trigger = () =>
      callModelOps(`Triggering a build of ${input.entityRef}`, () =>
        modelOps.triggerBuild(
          {
            entityRef: input.entityRef,
            idempotencyKey: input.idempotencyKey,
            ...(input.ref ? { ref: input.ref } : {}),
            ...(input.deployTo ? { deployTo: input.deployTo } : {}),
            ...(input.buildArgs ? { buildArgs: input.buildArgs } : {}),
            ...(input.rebuild ? { rebuild: true } : {}),
          },
          { credentials },
        ),
      );
    // An entity a previous step registered (catalog:register) reaches the
    // catalog once it has been processed, seconds later: until then
    // ModelOps answers 404, so the trigger is repeated for a while.
    const deadline =
      Date.now() + (options.entityWaitMs ?? DEFAULT_ENTITY_WAIT_MS);
    let build: Build | undefined;
    while (!build) {
      try {
        build = await trigger();
      } catch (error) {
        if ((error as Error).name !== 'NotFoundError' || Date.now() > deadline)
          throw error;
        logger.info(
          `${input.entityRef} is not in the catalog yet; waiting for it to be processed`,
        );
        await sleep(
          options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
          context.signal,
        );
      }
    }
    triggered.build = build;
    return build.id;
  });

  const readBuild = () =>
    callModelOps(`Reading build ${buildId} of ${input.entityRef}`, () =>
      modelOps.getBuild({ id: buildId }, { credentials }),
    );

  let build: Build;
  if (triggered.build) {
    build = triggered.build;
    logger.info(
      `Build ${build.id} of ${build.entityRef} (${build.source.ref}, ${
        build.image
      }:${build.tag}${
        build.deployTo ? `, then deploy to ${build.deployTo}` : ''
      }) is ${build.status}${
        build.externalUrl ? `: ${build.externalUrl}` : ''
      }`,
    );
  } else {
    build = await readBuild();
    logger.info(
      `Build ${build.id} of ${build.entityRef} was triggered by an earlier run of this step; it is ${build.status}`,
    );
  }

  if (!input.wait) return outputOf(build);

  const timeoutMinutes = input.timeoutMinutes ?? DEFAULT_BUILD_TIMEOUT_MINUTES;
  let lastStatus = build.status;
  const finished = await pollUntil({
    initial: build,
    read: readBuild,
    done: current => {
      if (current.status !== lastStatus) {
        lastStatus = current.status;
        logger.info(`Build ${current.id} is ${current.status}`);
      }
      if (current.status === 'failed' || current.status === 'cancelled') {
        throw new Error(describeFailure(current));
      }
      if (current.status !== 'succeeded') return false;
      if (!input.deployTo || current.deploymentId) return true;
      // Succeeded and meant to deploy: ModelOps is deploying it, or says in
      // the build's message why it could not.
      if (current.message) {
        throw new Error(
          `Build ${current.id} of ${current.entityRef} succeeded (${current.image}@${current.digest}) but was not deployed to ${input.deployTo}: ${current.message}`,
        );
      }
      return false;
    },
    timeoutMinutes,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    signal: context.signal,
    onTimeout: last =>
      new Error(
        last.status === 'succeeded'
          ? `Build ${last.id} of ${last.entityRef} succeeded but was not deployed to ${input.deployTo} within ${timeoutMinutes} minutes`
          : `Build ${last.id} of ${last.entityRef} did not finish within ${timeoutMinutes} minutes; it is still ${last.status}. It goes on in ModelOps: follow or cancel it on the entity's Model deployment tab`,
      ),
  });

  logger.info(
    `Build ${finished.id} pushed ${finished.image}@${finished.digest}${
      finished.deploymentId
        ? `, deployed to ${input.deployTo} as deployment ${finished.deploymentId}`
        : ''
    }`,
  );
  return outputOf(finished);
}
