import { createHash } from 'node:crypto';
import {
  ActionContext,
  TemplateAction,
  createTemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { JsonObject, JsonValue } from '@backstage/types';
import {
  ModelOpsTriggerBuildInput,
  ModelOpsTriggerBuildOutput,
  triggerBuildInputSchema,
  triggerBuildOutputSchema,
  triggerModelBuild,
} from './build';
import { ModelOpsActionsOptions, OperationContext } from './common';
import {
  ModelOpsCheckEnvironmentsInput,
  ModelOpsCheckEnvironmentsOutput,
  checkEnvironments,
  checkEnvironmentsInputSchema,
  checkEnvironmentsOutputSchema,
} from './environments';
import {
  ModelOpsDeployInput,
  ModelOpsDeployOutput,
  deployInputSchema,
  deployModel,
  deployOutputSchema,
} from './deploy';

/** The id of the build action in templates. */
export const TRIGGER_BUILD_ACTION_ID = 'modelops:build:trigger';
/** The id of the deploy action in templates. */
export const DEPLOY_ACTION_ID = 'modelops:deploy';
/** The id of the environments check in templates. */
export const CHECK_ENVIRONMENTS_ACTION_ID = 'modelops:environments:check';

type AnyActionContext = ActionContext<any, any>;

/** This step (and iteration, for a step with `each`) of this task. */
function stepOf(ctx: AnyActionContext): string {
  const step =
    ctx.step?.id ??
    ctx.step?.name ??
    createHash('sha256').update(JSON.stringify(ctx.input)).digest('hex');
  return ctx.each ? `${step}[${JSON.stringify(ctx.each.key)}]` : step;
}

/**
 * The idempotency key of a build step: the same for every run of this step
 * in this task, so a retried step gets the build the first run triggered.
 * ModelOps accepts up to 255 characters.
 */
export function idempotencyKeyOf(ctx: AnyActionContext): string {
  const key = `scaffolder:${ctx.task.id}:${stepOf(ctx)}`;
  return key.length <= 255
    ? key
    : `scaffolder:${createHash('sha256').update(key).digest('hex')}`;
}

async function operationContextOf(
  ctx: AnyActionContext,
): Promise<OperationContext> {
  // The scaffolder scopes checkpoints to the step; an iteration of a step
  // with `each` needs its own.
  const suffix = ctx.each ? `[${JSON.stringify(ctx.each.key)}]` : '';
  return {
    credentials: await ctx.getInitiatorCredentials(),
    logger: ctx.logger,
    checkpoint: <T extends JsonValue>(key: string, fn: () => Promise<T>) =>
      ctx.checkpoint<T>({ key: `${key}${suffix}`, fn }),
    signal: ctx.signal,
  };
}

function setOutputs(ctx: AnyActionContext, output: object): void {
  for (const [name, value] of Object.entries(output)) {
    if (value !== undefined) ctx.output(name, value as JsonObject[string]);
  }
}

/**
 * The `modelops:build:trigger` template action: builds a model service's
 * image as the user who runs the template, optionally waits for the build
 * and deploys it on success.
 * @public
 */
export function createModelOpsTriggerBuildAction(
  options: ModelOpsActionsOptions,
): TemplateAction<ModelOpsTriggerBuildInput, ModelOpsTriggerBuildOutput> {
  return createTemplateAction({
    id: TRIGGER_BUILD_ACTION_ID,
    description:
      "Builds a model service's image through ModelOps as the user who runs the template, optionally deploying it to an environment when the build succeeds. With wait, the step follows the build and fails when it fails.",
    examples: [
      {
        description: 'Build the default branch and wait for the image',
        example: `steps:
  - id: build
    name: Build the image
    action: ${TRIGGER_BUILD_ACTION_ID}
    input:
      entityRef: component:default/fraud-detector
      wait: true
`,
      },
      {
        description:
          'Build a branch with a build argument, and deploy it to dev when it succeeds',
        example: `steps:
  - id: build
    name: Build and deploy to dev
    action: ${TRIGGER_BUILD_ACTION_ID}
    input:
      entityRef: \${{ parameters.service }}
      ref: \${{ parameters.branch }}
      buildArgs:
        MODEL_VERSION: '3'
      deployTo: dev
      wait: true
      timeoutMinutes: 45
`,
      },
    ],
    schema: {
      input: triggerBuildInputSchema,
      output: triggerBuildOutputSchema,
    },
    async handler(ctx) {
      const output = await triggerModelBuild(
        options,
        { ...ctx.input, idempotencyKey: idempotencyKeyOf(ctx) },
        await operationContextOf(ctx),
      );
      setOutputs(ctx, output);
    },
  });
}

/**
 * The `modelops:deploy` template action: deploys an image, or the image a
 * build pushed, to an environment as the user who runs the template, and
 * optionally waits for the rollout.
 * @public
 */
export function createModelOpsDeployAction(
  options: ModelOpsActionsOptions,
): TemplateAction<ModelOpsDeployInput, ModelOpsDeployOutput> {
  return createTemplateAction({
    id: DEPLOY_ACTION_ID,
    description:
      'Deploys a model service to a ModelOps environment as the user who runs the template: an image, or the image a build pushed (pinned by its digest). With wait, the step follows the rollout until the deployed revision is Available and fails when the rollout fails.',
    examples: [
      {
        description: 'Deploy the image of the build step and wait for it',
        example: `steps:
  - id: deploy
    name: Deploy to dev
    action: ${DEPLOY_ACTION_ID}
    input:
      entityRef: component:default/fraud-detector
      environment: dev
      buildId: \${{ steps.build.output.buildId }}
      wait: true
`,
      },
      {
        description: 'Preview deploying an image, changing nothing',
        example: `steps:
  - id: preview
    name: Preview the deploy to prod
    action: ${DEPLOY_ACTION_ID}
    input:
      entityRef: component:default/fraud-detector
      environment: prod
      image: registry.example.com/models/fraud-detector:1.4.0
      dryRun: true
`,
      },
    ],
    schema: {
      input: deployInputSchema,
      output: deployOutputSchema,
    },
    async handler(ctx) {
      const output = await deployModel(
        options,
        ctx.input,
        await operationContextOf(ctx),
      );
      setOutputs(ctx, output);
    },
  });
}

/**
 * The `modelops:environments:check` template action: fails the task before
 * it creates anything when a chosen environment is not configured in
 * ModelOps, the server-side twin of the ModelOpsEnvironmentPicker field's
 * check.
 * @public
 */
export function createModelOpsCheckEnvironmentsAction(
  options: ModelOpsActionsOptions,
): TemplateAction<
  ModelOpsCheckEnvironmentsInput,
  ModelOpsCheckEnvironmentsOutput
> {
  return createTemplateAction({
    id: CHECK_ENVIRONMENTS_ACTION_ID,
    description:
      'Checks that every given environment is configured in ModelOps (and its cluster too), and fails naming the unknown ones and the configured ones otherwise. Put it before the steps that create anything.',
    examples: [
      {
        description: 'Check the environments a form parameter chose',
        example: `steps:
  - id: environments
    name: Check the environments
    action: ${CHECK_ENVIRONMENTS_ACTION_ID}
    input:
      environments: \${{ parameters.environments }}
`,
      },
    ],
    schema: {
      input: checkEnvironmentsInputSchema,
      output: checkEnvironmentsOutputSchema,
    },
    // It only reads: a dry run checks the environments too.
    supportsDryRun: true,
    async handler(ctx) {
      const output = await checkEnvironments(
        options,
        ctx.input,
        await operationContextOf(ctx),
      );
      setOutputs(ctx, output);
    },
  });
}
