import { InputError } from '@backstage/errors';
import {
  DeployResponse,
  DeploymentStatusResponse,
  EnvironmentStatus,
  RolloutPhase,
} from '@modelops/plugin-modelops-common';
import {
  DEFAULT_POLL_INTERVAL_MS,
  ModelOpsActionsOptions,
  OperationContext,
  Zod,
  callModelOps,
  once,
  pollUntil,
} from './common';

/** Default for `timeoutMinutes` of a rollout that is waited for. */
export const DEFAULT_ROLLOUT_TIMEOUT_MINUTES = 10;

const ROLLOUT_PHASES: [RolloutPhase, ...RolloutPhase[]] = [
  'NotDeployed',
  'Progressing',
  'Available',
  'Failed',
  'Unknown',
];

/** The input of a deploy, in a template step and from the actions registry. */
export const deployInputSchema = (z: Zod) =>
  z.object({
    entityRef: z
      .string()
      .min(1)
      .max(512)
      .describe(
        'The model service to deploy, as a full entity ref, e.g. `component:default/fraud-detector`.',
      ),
    environment: z
      .string()
      .min(1)
      .max(63)
      .describe('The ModelOps environment to deploy to, e.g. `dev`.'),
    image: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The image to deploy, as a full reference (`repository:tag` or `repository@sha256:...`). Give either image or buildId.',
      ),
    buildId: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Deploy the image a succeeded build of this service pushed, pinned by its digest, e.g. the buildId output of modelops:build:trigger. Give either image or buildId.',
      ),
    wait: z
      .boolean()
      .optional()
      .describe(
        'Wait until the environment runs the deployed revision and it is Available; a rollout that fails then fails the step. Default false.',
      ),
    timeoutMinutes: z
      .number()
      .positive()
      .max(1440)
      .optional()
      .describe(
        `With wait: how long to wait at most for the rollout, in minutes. Default ${DEFAULT_ROLLOUT_TIMEOUT_MINUTES}.`,
      ),
    dryRun: z
      .boolean()
      .optional()
      .describe(
        'Only preview the deploy: render and check the manifests and log what would change, changing nothing. Default false.',
      ),
  });

/** The output of a deploy. */
export const deployOutputSchema = (z: Zod) =>
  z.object({
    deploymentId: z
      .string()
      .describe('The id of the deployment (or preview) in ModelOps.'),
    revision: z
      .number()
      .optional()
      .describe('The revision the deploy rolled out; a dry run has none.'),
    image: z.string().optional().describe('The image deployed.'),
    phase: z
      .enum(ROLLOUT_PHASES)
      .optional()
      .describe(
        'With wait: the rollout phase the step ended with (Available).',
      ),
  });

/**
 * The input of `modelops:deploy`: exactly one of `image` and `buildId`.
 * @public
 */
export type ModelOpsDeployInput = {
  /** The model service, as a full entity ref. */
  entityRef: string;
  /** The ModelOps environment to deploy to. */
  environment: string;
  /** The image to deploy. */
  image?: string;
  /** Deploy the image this succeeded build of the service pushed. */
  buildId?: string;
  /** Wait until the deployed revision is Available. */
  wait?: boolean;
  /** How long to wait at most, in minutes; default 10. */
  timeoutMinutes?: number;
  /** Only preview the deploy. */
  dryRun?: boolean;
};

/**
 * The output of `modelops:deploy`.
 * @public
 */
export type ModelOpsDeployOutput = {
  deploymentId: string;
  /** The revision rolled out; a dry run has none. */
  revision?: number;
  image?: string;
  /** With `wait`: the phase the rollout reached. */
  phase?: RolloutPhase;
};

/** The part of a deploy's answer a retried step needs again. */
type Deployed = { id: string; revision?: number; image?: string };

function logPreview(
  context: OperationContext,
  target: string,
  response: DeployResponse,
): void {
  const changed = response.diff.filter(d => d.operation !== 'unchanged');
  context.logger.info(
    `Preview of deploying ${target}: ${
      changed.length
        ? `${changed.length} of ${response.diff.length} object(s) would change`
        : 'nothing would change'
    }; nothing was changed`,
  );
  for (const d of changed) {
    context.logger.info(
      `  ${d.operation} ${d.kind}/${d.name}${
        d.changes.length ? `: ${d.changes.map(c => c.path).join(', ')}` : ''
      }`,
    );
  }
}

function describeProblems(env: EnvironmentStatus): string {
  if (env.problems.length) {
    return env.problems
      .map(p => `${p.kind} ${p.name}: ${p.message}`)
      .join('; ');
  }
  const conditions = env.conditions.filter(
    c => c.status === 'False' && (c.reason || c.message),
  );
  if (conditions.length) {
    return conditions
      .map(
        c => `${c.type} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`,
      )
      .join('; ');
  }
  return env.error?.message ?? 'no problem reported';
}

/**
 * Deploys (or previews) an image or a build's image of a model service to an
 * environment with the caller's credentials and, with `wait`, follows the
 * rollout until the environment runs the deployed revision and it is
 * Available.
 */
export async function deployModel(
  options: ModelOpsActionsOptions,
  input: ModelOpsDeployInput,
  context: OperationContext,
): Promise<ModelOpsDeployOutput> {
  const { modelOps } = options;
  const { credentials, logger } = context;
  const { entityRef, environment } = input;

  // Checked before anything is called.
  if (input.image && input.buildId) {
    throw new InputError(
      `Give either image or buildId to deploy ${entityRef} to ${environment}, not both`,
    );
  }
  if (!input.image && !input.buildId) {
    throw new InputError(
      `Give image or buildId to deploy ${entityRef} to ${environment}`,
    );
  }
  const source = input.image
    ? `image ${input.image}`
    : `the image of build ${input.buildId}`;
  const target = `${entityRef} (${source}) to ${environment}`;

  // A step that runs again in the same task does not deploy a second time.
  const deployed = await once<Deployed>(
    context,
    'modelops.deploy',
    async () => {
      const response = await callModelOps(
        input.dryRun
          ? `Previewing the deploy of ${target}`
          : `Deploying ${target}`,
        () =>
          modelOps.deploy(
            {
              entityRef,
              environment,
              ...(input.image ? { image: input.image } : {}),
              ...(input.buildId ? { buildId: input.buildId } : {}),
              ...(input.dryRun ? { dryRun: true } : {}),
            },
            { credentials },
          ),
      );
      const { deployment } = response;
      if (input.dryRun) {
        logPreview(context, target, response);
      } else {
        logger.info(
          `Deployed ${entityRef} revision ${deployment.revision} (${deployment.image}) to ${environment}: deployment ${deployment.id}`,
        );
      }
      return {
        id: deployment.id,
        ...(deployment.revision !== undefined
          ? { revision: deployment.revision }
          : {}),
        ...(deployment.image ? { image: deployment.image } : {}),
      };
    },
  );

  const output: ModelOpsDeployOutput = {
    deploymentId: deployed.id,
    ...(deployed.revision !== undefined ? { revision: deployed.revision } : {}),
    ...(deployed.image ? { image: deployed.image } : {}),
  };
  if (!input.wait) return output;
  if (input.dryRun) {
    logger.info('A dry run changes nothing: there is no rollout to wait for');
    return output;
  }

  const { revision } = deployed;
  const timeoutMinutes =
    input.timeoutMinutes ?? DEFAULT_ROLLOUT_TIMEOUT_MINUTES;
  const envOf = (status: DeploymentStatusResponse) =>
    status.environments.find(e => e.environment === environment);
  let lastSeen = '';
  let lastError = '';
  const status = await pollUntil({
    read: () =>
      callModelOps(`Reading the rollout status of ${entityRef}`, () =>
        modelOps.getDeploymentStatus({ entityRef }, { credentials }),
      ),
    done: current => {
      const env = envOf(current);
      if (!env) return false;
      if (env.error && env.error.message !== lastError) {
        logger.warn(`${environment}: ${env.error.message}`);
      }
      lastError = env.error?.message ?? '';
      const seen = `${env.phase} at revision ${env.revision ?? 'unknown'}`;
      if (seen !== lastSeen) {
        lastSeen = seen;
        const replicas = env.replicas
          ? ` (${env.replicas.available}/${env.replicas.desired} available)`
          : '';
        logger.info(`${environment}: ${seen}${replicas}`);
      }
      if (
        revision !== undefined &&
        env.revision !== undefined &&
        env.revision > revision
      ) {
        throw new Error(
          `Revision ${revision} of ${entityRef} in ${environment} was replaced by revision ${env.revision} before it became Available`,
        );
      }
      const ours =
        revision !== undefined
          ? env.revision === revision
          : env.image === deployed.image;
      if (!ours) return false;
      if (env.phase === 'Failed') {
        throw new Error(
          `Revision ${revision} of ${entityRef} failed to roll out in ${environment}: ${describeProblems(
            env,
          )}`,
        );
      }
      return env.phase === 'Available';
    },
    timeoutMinutes,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    signal: context.signal,
    onTimeout: last => {
      const env = envOf(last);
      return new Error(
        `Revision ${revision} of ${entityRef} did not become Available in ${environment} within ${timeoutMinutes} minutes; ${
          env
            ? `last seen ${env.phase} at revision ${env.revision ?? 'unknown'}${
                env.problems.length ? `: ${describeProblems(env)}` : ''
              }`
            : `ModelOps reports no status for ${environment}`
        }`,
      );
    },
  });

  return { ...output, phase: envOf(status)!.phase };
}
