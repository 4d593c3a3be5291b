import { ActionContext } from '@backstage/plugin-scaffolder-node';
import { JsonObject, JsonValue } from '@backstage/types';
import {
  aBuild,
  forbidden,
  notFound,
  stubModelOps,
} from '../__testUtils__/stubModelOps';
import { stepContext } from '../__testUtils__/actionContext';
import { ModelOpsTriggerBuildInput } from './build';
import { createModelOpsTriggerBuildAction } from './templateActions';

/** The step's input as the scaffolder hands it over (a JSON object). */
type Input = ModelOpsTriggerBuildInput & JsonObject;

describe('modelops:build:trigger (ModelOps service stubbed; the HTTP API is tested against real servers elsewhere)', () => {
  const entityRef = 'component:default/fraud-detector';

  const contextFor = (
    input: Input,
    extra: Partial<ActionContext<Input>> = {},
  ) => stepContext({ id: 'build', name: 'Build the image' }, input, extra);

  function sequence<T>(...values: T[]) {
    let i = 0;
    return async () => values[Math.min(i++, values.length - 1)];
  }

  it('triggers a build as the initiator and outputs it without waiting', async () => {
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ status: 'queued' }),
    });
    const action = createModelOpsTriggerBuildAction({ modelOps });
    const { ctx } = contextFor({
      entityRef,
      ref: 'feature/retrain',
      deployTo: 'dev',
      buildArgs: { MODEL_VERSION: '3' },
    });

    await action.handler(ctx);

    expect(modelOps.triggerBuild).toHaveBeenCalledTimes(1);
    expect(modelOps.triggerBuild).toHaveBeenCalledWith(
      {
        entityRef,
        idempotencyKey: 'scaffolder:task-1:build',
        ref: 'feature/retrain',
        deployTo: 'dev',
        buildArgs: { MODEL_VERSION: '3' },
      },
      { credentials: await ctx.getInitiatorCredentials() },
    );
    expect(modelOps.getBuild).not.toHaveBeenCalled();
    expect(ctx.output).toHaveBeenCalledWith('buildId', 'b-1');
    expect(ctx.output).toHaveBeenCalledWith('status', 'queued');
    expect(ctx.output).toHaveBeenCalledWith(
      'image',
      'registry.example.com/models/fraud-detector',
    );
    expect(ctx.output).toHaveBeenCalledWith('tag', 'main-abc1234');
    expect(ctx.output).toHaveBeenCalledTimes(4);
  });

  it('sends only the fields given', async () => {
    const modelOps = stubModelOps({ triggerBuild: async () => aBuild() });
    const { ctx } = contextFor({ entityRef });
    await createModelOpsTriggerBuildAction({ modelOps }).handler(ctx);
    expect(modelOps.triggerBuild.mock.calls[0][0]).toEqual({
      entityRef,
      idempotencyKey: 'scaffolder:task-1:build',
    });
  });

  it('waits through queued and running until the build succeeded', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ status: 'queued' }),
      getBuild: sequence(
        aBuild({ status: 'queued' }),
        aBuild({ status: 'running' }),
        aBuild({ status: 'succeeded', digest }),
      ),
    });
    const action = createModelOpsTriggerBuildAction({
      modelOps,
      pollIntervalMs: 1,
    });
    const { ctx, logger } = contextFor({ entityRef, wait: true });

    await action.handler(ctx);

    const credentials = await ctx.getInitiatorCredentials();
    expect(modelOps.getBuild).toHaveBeenCalledTimes(3);
    for (const call of modelOps.getBuild.mock.calls) {
      expect(call).toEqual([{ id: 'b-1' }, { credentials }]);
    }
    expect(logger.info).toHaveBeenCalledWith('Build b-1 is running');
    expect(logger.info).toHaveBeenCalledWith('Build b-1 is succeeded');
    expect(ctx.output).toHaveBeenCalledWith('status', 'succeeded');
    expect(ctx.output).toHaveBeenCalledWith('digest', digest);
    expect(ctx.output).toHaveBeenCalledWith(
      'imageRef',
      `registry.example.com/models/fraud-detector@${digest}`,
    );
    expect(ctx.output).not.toHaveBeenCalledWith(
      'deploymentId',
      expect.anything(),
    );
  });

  it('with deployTo, waits for the deploy and outputs its id', async () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ deployTo: 'dev' }),
      getBuild: sequence(
        aBuild({ status: 'succeeded', digest, deployTo: 'dev' }),
        aBuild({
          status: 'succeeded',
          digest,
          deployTo: 'dev',
          deploymentId: 'd-9',
        }),
      ),
    });
    const { ctx } = contextFor({ entityRef, deployTo: 'dev', wait: true });
    await createModelOpsTriggerBuildAction({
      modelOps,
      pollIntervalMs: 1,
    }).handler(ctx);
    expect(modelOps.getBuild).toHaveBeenCalledTimes(2);
    expect(ctx.output).toHaveBeenCalledWith('deploymentId', 'd-9');
  });

  it('fails when the build succeeded but could not be deployed', async () => {
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ deployTo: 'prod' }),
      getBuild: async () =>
        aBuild({
          status: 'succeeded',
          digest: `sha256:${'c'.repeat(64)}`,
          deployTo: 'prod',
          message:
            'built, but the deploy to prod failed: Service type LoadBalancer is not allowed in prod',
        }),
    });
    const { ctx } = contextFor({ entityRef, deployTo: 'prod', wait: true });
    await expect(
      createModelOpsTriggerBuildAction({
        modelOps,
        pollIntervalMs: 1,
      }).handler(ctx),
    ).rejects.toThrow(
      /was not deployed to prod: built, but the deploy to prod failed: Service type LoadBalancer is not allowed in prod/,
    );
    expect(ctx.output).not.toHaveBeenCalled();
  });

  it("fails the step with a failed build's reason and message", async () => {
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ status: 'running' }),
      getBuild: async () =>
        aBuild({
          status: 'failed',
          reason: 'BuildFailed',
          message: 'step 4/7 RUN pip install -r requirements.txt exited 1',
        }),
    });
    const { ctx } = contextFor({ entityRef, wait: true });
    await expect(
      createModelOpsTriggerBuildAction({
        modelOps,
        pollIntervalMs: 1,
      }).handler(ctx),
    ).rejects.toThrow(
      'Build b-1 of component:default/fraud-detector failed (BuildFailed): step 4/7 RUN pip install -r requirements.txt exited 1',
    );
    expect(ctx.output).not.toHaveBeenCalled();
  });

  it('fails the step when the build was cancelled', async () => {
    const modelOps = stubModelOps({
      triggerBuild: async () =>
        aBuild({ status: 'cancelled', reason: 'Cancelled' }),
    });
    const { ctx } = contextFor({ entityRef, wait: true });
    await expect(
      createModelOpsTriggerBuildAction({ modelOps }).handler(ctx),
    ).rejects.toThrow(
      'Build b-1 of component:default/fraud-detector cancelled (Cancelled)',
    );
    expect(modelOps.getBuild).not.toHaveBeenCalled();
  });

  it('fails with a clear message when the build does not finish in time', async () => {
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ status: 'queued' }),
      getBuild: async () => aBuild({ status: 'running' }),
    });
    const { ctx } = contextFor({
      entityRef,
      wait: true,
      timeoutMinutes: 0.0005, // 30 ms
    });
    await expect(
      createModelOpsTriggerBuildAction({
        modelOps,
        pollIntervalMs: 5,
      }).handler(ctx),
    ).rejects.toThrow(
      'Build b-1 of component:default/fraud-detector did not finish within 0.0005 minutes; it is still running. It goes on in ModelOps',
    );
    expect(modelOps.getBuild).toHaveBeenCalled();
    expect(ctx.output).not.toHaveBeenCalled();
  });

  it('stops waiting when the task is cancelled', async () => {
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ status: 'running' }),
      getBuild: async () => aBuild({ status: 'running' }),
    });
    const controller = new AbortController();
    const { ctx } = contextFor(
      { entityRef, wait: true },
      { signal: controller.signal },
    );
    const run = createModelOpsTriggerBuildAction({
      modelOps,
      pollIntervalMs: 60_000,
    }).handler(ctx);
    controller.abort();
    await expect(run).rejects.toThrow('Cancelled while waiting');
  });

  it('uses the same idempotency key for every run of the same step of the same task', async () => {
    const modelOps = stubModelOps({ triggerBuild: async () => aBuild() });
    const action = createModelOpsTriggerBuildAction({ modelOps });

    await action.handler(contextFor({ entityRef }).ctx);
    await action.handler(contextFor({ entityRef }).ctx);
    await action.handler(
      contextFor({ entityRef }, { step: { id: 'build-gpu' } }).ctx,
    );
    await action.handler(
      contextFor({ entityRef }, { task: { id: 'task-2' } }).ctx,
    );

    const keys = modelOps.triggerBuild.mock.calls.map(
      ([request]) => request.idempotencyKey,
    );
    expect(keys).toEqual([
      'scaffolder:task-1:build',
      'scaffolder:task-1:build',
      'scaffolder:task-1:build-gpu',
      'scaffolder:task-2:build',
    ]);
  });

  it('gives each iteration of a step with each its own key', async () => {
    const modelOps = stubModelOps({ triggerBuild: async () => aBuild() });
    const action = createModelOpsTriggerBuildAction({ modelOps });
    await action.handler(
      contextFor({ entityRef }, { each: { key: 0, value: 'a' } }).ctx,
    );
    await action.handler(
      contextFor({ entityRef }, { each: { key: 1, value: 'b' } }).ctx,
    );
    expect(
      modelOps.triggerBuild.mock.calls.map(([r]) => r.idempotencyKey),
    ).toEqual(['scaffolder:task-1:build[0]', 'scaffolder:task-1:build[1]']);
  });

  it('follows the build of the first run when the step runs again, from its checkpoint', async () => {
    // The scaffolder's checkpoints, as it keeps them for a task.
    const checkpoints = new Map<string, JsonValue>();
    const checkpoint = async <T extends JsonValue | void>({
      key,
      fn,
    }: {
      key: string;
      fn: () => Promise<T> | T;
    }): Promise<T> => {
      if (checkpoints.has(key)) return checkpoints.get(key) as T;
      const value = await fn();
      checkpoints.set(key, value as JsonValue);
      return value;
    };
    const digest = `sha256:${'d'.repeat(64)}`;
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ id: 'b-7', status: 'running' }),
      getBuild: async () => aBuild({ id: 'b-7', status: 'succeeded', digest }),
    });
    const action = createModelOpsTriggerBuildAction({ modelOps });

    const first = contextFor({ entityRef }, { checkpoint }).ctx;
    await action.handler(first);
    const retry = contextFor({ entityRef }, { checkpoint }).ctx;
    await action.handler(retry);

    expect(modelOps.triggerBuild).toHaveBeenCalledTimes(1);
    expect(checkpoints.get('modelops.build')).toBe('b-7');
    expect(modelOps.getBuild).toHaveBeenCalledWith(
      { id: 'b-7' },
      { credentials: await retry.getInitiatorCredentials() },
    );
    expect(retry.output).toHaveBeenCalledWith('buildId', 'b-7');
    expect(retry.output).toHaveBeenCalledWith('status', 'succeeded');
    expect(retry.output).toHaveBeenCalledWith('digest', digest);
  });

  it('waits for an entity the catalog has not processed yet, then triggers; an entity that never comes fails with the 404', async () => {
    const missing = await notFound(
      'No entity named component:default/fraud-detector',
    );
    let calls = 0;
    const modelOps = stubModelOps({
      triggerBuild: async () => {
        calls += 1;
        if (calls < 3) throw missing;
        return aBuild({ status: 'queued' });
      },
    });
    const { ctx, logger } = contextFor({ entityRef });
    await createModelOpsTriggerBuildAction({
      modelOps,
      pollIntervalMs: 1,
    }).handler(ctx);
    expect(modelOps.triggerBuild).toHaveBeenCalledTimes(3);
    expect(ctx.output).toHaveBeenCalledWith('buildId', 'b-1');
    expect(logger.info).toHaveBeenCalledWith(
      `${entityRef} is not in the catalog yet; waiting for it to be processed`,
    );

    const never = stubModelOps({
      triggerBuild: async () => {
        throw missing;
      },
    });
    const error = await createModelOpsTriggerBuildAction({
      modelOps: never,
      pollIntervalMs: 1,
      entityWaitMs: 20,
    })
      .handler(contextFor({ entityRef }).ctx)
      .then(
        () => undefined,
        e => e,
      );
    expect(error.name).toBe('NotFoundError');
    expect(error.message).toContain(
      'failed with 404: No entity named component:default/fraud-detector',
    );
  });

  it("fails with the backend's message when ModelOps refuses, and calls nothing else", async () => {
    const message =
      "You may not build component:default/fraud-detector: that needs the modelops.build.create permission on it, which the service's owners and platform admins have";
    const refusal = await forbidden(message);
    const modelOps = stubModelOps({
      triggerBuild: async () => {
        throw refusal;
      },
    });
    const { ctx } = contextFor({ entityRef, wait: true });

    const error = await createModelOpsTriggerBuildAction({ modelOps })
      .handler(ctx)
      .then(
        () => undefined,
        e => e,
      );

    expect(error.name).toBe('NotAllowedError');
    expect(error.message).toBe(
      `Triggering a build of ${entityRef} failed with 403: ${message}`,
    );
    expect(modelOps.triggerBuild).toHaveBeenCalledTimes(1);
    expect(modelOps.getBuild).not.toHaveBeenCalled();
    expect(ctx.output).not.toHaveBeenCalled();
  });
});
