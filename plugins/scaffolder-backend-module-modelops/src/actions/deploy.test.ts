import { ActionContext } from '@backstage/plugin-scaffolder-node';
import { JsonObject } from '@backstage/types';
import { DeploymentStatusResponse } from '@modelops/plugin-modelops-common';
import {
  aDeployResponse,
  anEnvironmentStatus,
  forbidden,
  stubModelOps,
} from '../__testUtils__/stubModelOps';
import { stepContext } from '../__testUtils__/actionContext';
import { ModelOpsDeployInput } from './deploy';
import { createModelOpsDeployAction } from './templateActions';

/** The step's input as the scaffolder hands it over (a JSON object). */
type Input = ModelOpsDeployInput & JsonObject;

describe('modelops:deploy (ModelOps service stubbed; the HTTP API is tested against real servers elsewhere)', () => {
  const entityRef = 'component:default/fraud-detector';
  const image = 'registry.example.com/models/fraud-detector:1.4.0';

  const contextFor = (
    input: Input,
    extra: Partial<ActionContext<Input>> = {},
  ) => stepContext({ id: 'deploy', name: 'Deploy' }, input, extra);

  function statuses(
    ...environments: Array<Parameters<typeof anEnvironmentStatus>[0]>
  ) {
    let i = 0;
    return async (): Promise<DeploymentStatusResponse> => ({
      entityRef,
      environments: [
        anEnvironmentStatus({ environment: 'prod', revision: 12 }),
        anEnvironmentStatus(
          environments[Math.min(i++, environments.length - 1)],
        ),
      ],
    });
  }

  it('deploys an image as the initiator and outputs the deployment', async () => {
    const modelOps = stubModelOps({
      deploy: async () => aDeployResponse({ id: 'd-1', revision: 4, image }),
    });
    const { ctx, logger } = contextFor({
      entityRef,
      environment: 'dev',
      image,
    });

    await createModelOpsDeployAction({ modelOps }).handler(ctx);

    expect(modelOps.deploy).toHaveBeenCalledTimes(1);
    expect(modelOps.deploy).toHaveBeenCalledWith(
      { entityRef, environment: 'dev', image },
      { credentials: await ctx.getInitiatorCredentials() },
    );
    expect(modelOps.getDeploymentStatus).not.toHaveBeenCalled();
    expect(ctx.output).toHaveBeenCalledWith('deploymentId', 'd-1');
    expect(ctx.output).toHaveBeenCalledWith('revision', 4);
    expect(ctx.output).toHaveBeenCalledWith('image', image);
    expect(ctx.output).not.toHaveBeenCalledWith('phase', expect.anything());
    expect(logger.info).toHaveBeenCalledWith(
      `Deployed ${entityRef} revision 4 (${image}) to dev: deployment d-1`,
    );
  });

  it("deploys a build's image by its build id", async () => {
    const pinned = `registry.example.com/models/fraud-detector@sha256:${'e'.repeat(
      64,
    )}`;
    const modelOps = stubModelOps({
      deploy: async () =>
        aDeployResponse({
          id: 'd-2',
          revision: 5,
          image: pinned,
          buildId: 'b-3',
        }),
    });
    const { ctx } = contextFor({
      entityRef,
      environment: 'dev',
      buildId: 'b-3',
    });

    await createModelOpsDeployAction({ modelOps }).handler(ctx);

    expect(modelOps.deploy.mock.calls[0][0]).toEqual({
      entityRef,
      environment: 'dev',
      buildId: 'b-3',
    });
    expect(ctx.output).toHaveBeenCalledWith('image', pinned);
    expect(ctx.output).toHaveBeenCalledWith('revision', 5);
  });

  it.each([
    [{ image, buildId: 'b-3' }, 'Give either image or buildId to deploy'],
    [{}, 'Give image or buildId to deploy'],
  ])('refuses %j before calling ModelOps', async (source, message) => {
    const modelOps = stubModelOps();
    const { ctx } = contextFor({ entityRef, environment: 'dev', ...source });
    const error = await createModelOpsDeployAction({ modelOps })
      .handler(ctx)
      .then(
        () => undefined,
        e => e,
      );
    expect(error.name).toBe('InputError');
    expect(error.message).toContain(message);
    expect(modelOps.deploy).not.toHaveBeenCalled();
    expect(modelOps.getDeploymentStatus).not.toHaveBeenCalled();
  });

  it('waits until the environment is Available at the deployed revision', async () => {
    const modelOps = stubModelOps({
      deploy: async () => aDeployResponse({ revision: 4, image }),
      getDeploymentStatus: statuses(
        // The previous revision, still running.
        { phase: 'Available', revision: 3 },
        { phase: 'Progressing', revision: 4 },
        { phase: 'Available', revision: 4 },
      ),
    });
    const { ctx, logger } = contextFor({
      entityRef,
      environment: 'dev',
      image,
      wait: true,
    });

    await createModelOpsDeployAction({ modelOps, pollIntervalMs: 1 }).handler(
      ctx,
    );

    expect(modelOps.getDeploymentStatus).toHaveBeenCalledTimes(3);
    expect(modelOps.getDeploymentStatus).toHaveBeenCalledWith(
      { entityRef },
      { credentials: await ctx.getInitiatorCredentials() },
    );
    expect(logger.info).toHaveBeenCalledWith('dev: Progressing at revision 4');
    expect(ctx.output).toHaveBeenCalledWith('phase', 'Available');
    expect(ctx.output).toHaveBeenCalledWith('revision', 4);
  });

  it('fails naming the problems when the rollout of the revision failed', async () => {
    const modelOps = stubModelOps({
      deploy: async () => aDeployResponse({ revision: 4, image }),
      getDeploymentStatus: statuses(
        { phase: 'Progressing', revision: 4 },
        {
          phase: 'Failed',
          revision: 4,
          problems: [
            {
              kind: 'Pod',
              name: 'fraud-detector-7c9f-x2x',
              severity: 10,
              message: 'Back-off pulling image "fraud-detector:1.4.0"',
            },
          ],
        },
      ),
    });
    const { ctx } = contextFor({
      entityRef,
      environment: 'dev',
      image,
      wait: true,
    });

    await expect(
      createModelOpsDeployAction({ modelOps, pollIntervalMs: 1 }).handler(ctx),
    ).rejects.toThrow(
      `Revision 4 of ${entityRef} failed to roll out in dev: Pod fraud-detector-7c9f-x2x: Back-off pulling image "fraud-detector:1.4.0"`,
    );
    expect(ctx.output).not.toHaveBeenCalled();
  });

  it('fails when a newer revision replaced the deployed one', async () => {
    const modelOps = stubModelOps({
      deploy: async () => aDeployResponse({ revision: 4, image }),
      getDeploymentStatus: statuses({ phase: 'Progressing', revision: 5 }),
    });
    const { ctx } = contextFor({
      entityRef,
      environment: 'dev',
      image,
      wait: true,
    });
    await expect(
      createModelOpsDeployAction({ modelOps, pollIntervalMs: 1 }).handler(ctx),
    ).rejects.toThrow(
      `Revision 4 of ${entityRef} in dev was replaced by revision 5 before it became Available`,
    );
  });

  it('fails with a clear message when the rollout does not finish in time', async () => {
    const modelOps = stubModelOps({
      deploy: async () => aDeployResponse({ revision: 4, image }),
      getDeploymentStatus: statuses({ phase: 'Progressing', revision: 4 }),
    });
    const { ctx } = contextFor({
      entityRef,
      environment: 'dev',
      image,
      wait: true,
      timeoutMinutes: 0.0005, // 30 ms
    });
    await expect(
      createModelOpsDeployAction({ modelOps, pollIntervalMs: 5 }).handler(ctx),
    ).rejects.toThrow(
      `Revision 4 of ${entityRef} did not become Available in dev within 0.0005 minutes; last seen Progressing at revision 4`,
    );
  });

  it('previews a deploy with dryRun and has no rollout to wait for', async () => {
    const modelOps = stubModelOps({
      deploy: async () =>
        aDeployResponse(
          { id: 'd-3', revision: undefined, dryRun: true, image },
          [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: 'fraud-detector',
              operation: 'update',
              changes: [
                {
                  path: 'spec.template.spec.containers[0].image',
                  before: 'registry.example.com/models/fraud-detector:1.3.0',
                  after: image,
                },
              ],
            },
            {
              apiVersion: 'v1',
              kind: 'Service',
              name: 'fraud-detector',
              operation: 'unchanged',
              changes: [],
            },
          ],
        ),
    });
    const { ctx, logger } = contextFor({
      entityRef,
      environment: 'dev',
      image,
      dryRun: true,
      wait: true,
    });

    await createModelOpsDeployAction({ modelOps }).handler(ctx);

    expect(modelOps.deploy.mock.calls[0][0]).toEqual({
      entityRef,
      environment: 'dev',
      image,
      dryRun: true,
    });
    expect(modelOps.getDeploymentStatus).not.toHaveBeenCalled();
    expect(logger.info).toHaveBeenCalledWith(
      `Preview of deploying ${entityRef} (image ${image}) to dev: 1 of 2 object(s) would change; nothing was changed`,
    );
    expect(logger.info).toHaveBeenCalledWith(
      '  update Deployment/fraud-detector: spec.template.spec.containers[0].image',
    );
    expect(ctx.output).toHaveBeenCalledWith('deploymentId', 'd-3');
    expect(ctx.output).not.toHaveBeenCalledWith('revision', expect.anything());
  });

  it("fails with the backend's message when ModelOps refuses, and calls nothing else", async () => {
    const message =
      "You may not deploy component:default/fraud-detector: that needs the modelops.deployment.create permission on it, which the service's owners and platform admins have";
    const refusal = await forbidden(message);
    const modelOps = stubModelOps({
      deploy: async () => {
        throw refusal;
      },
    });
    const { ctx } = contextFor({
      entityRef,
      environment: 'prod',
      image,
      wait: true,
    });

    const error = await createModelOpsDeployAction({ modelOps })
      .handler(ctx)
      .then(
        () => undefined,
        e => e,
      );

    expect(error.name).toBe('NotAllowedError');
    expect(error.message).toBe(
      `Deploying ${entityRef} (image ${image}) to prod failed with 403: ${message}`,
    );
    expect(modelOps.deploy).toHaveBeenCalledTimes(1);
    expect(modelOps.getDeploymentStatus).not.toHaveBeenCalled();
    expect(ctx.output).not.toHaveBeenCalled();
  });

  it('does not deploy again when the step runs again in the same task', async () => {
    const checkpoints = new Map<string, any>();
    const checkpoint = async ({ key, fn }: { key: string; fn: () => any }) => {
      if (!checkpoints.has(key)) checkpoints.set(key, await fn());
      return checkpoints.get(key);
    };
    const modelOps = stubModelOps({
      deploy: async () => aDeployResponse({ id: 'd-5', revision: 6, image }),
    });
    const action = createModelOpsDeployAction({ modelOps });
    const input = { entityRef, environment: 'dev', image };

    await action.handler(contextFor(input, { checkpoint }).ctx);
    const retry = contextFor(input, { checkpoint }).ctx;
    await action.handler(retry);

    expect(modelOps.deploy).toHaveBeenCalledTimes(1);
    expect(retry.output).toHaveBeenCalledWith('deploymentId', 'd-5');
    expect(retry.output).toHaveBeenCalledWith('revision', 6);
  });
});
