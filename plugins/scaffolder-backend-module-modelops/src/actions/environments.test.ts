import { JsonObject } from '@backstage/types';
import { ConfiguredEnvironmentsResponse } from '@modelops/plugin-modelops-common';
import { stubModelOps } from '../__testUtils__/stubModelOps';
import { stepContext } from '../__testUtils__/actionContext';
import { ModelOpsCheckEnvironmentsInput } from './environments';
import { createModelOpsCheckEnvironmentsAction } from './templateActions';

type Input = ModelOpsCheckEnvironmentsInput & JsonObject;

describe('modelops:environments:check (ModelOps service stubbed; the route is tested against the real backend elsewhere)', () => {
  const configured: ConfiguredEnvironmentsResponse = {
    items: [
      { name: 'dev', cluster: 'dev', namespace: 'models' },
      { name: 'staging', cluster: 'dev', namespace: 'models-staging' },
      {
        name: 'prod',
        cluster: 'prod',
        namespace: 'models',
        error: {
          reason: 'ClusterNotConfigured',
          message:
            'Environment "prod" uses cluster "prod", which is not configured in kubernetes.clusterLocatorMethods (configured: dev)',
        },
      },
    ],
  };
  const run = async (environments: string[]) => {
    const modelOps = stubModelOps({
      getConfiguredEnvironments: async () => configured,
    });
    const { ctx } = stepContext(
      { id: 'environments', name: 'Check the environments' },
      { environments } as Input,
    );
    const outcome = createModelOpsCheckEnvironmentsAction({ modelOps }).handler(
      ctx,
    );
    return { modelOps, ctx, outcome };
  };

  it('passes configured environments, asking as the initiator, and outputs them without duplicates', async () => {
    const { modelOps, ctx, outcome } = await run(['staging', 'dev', 'staging']);
    await outcome;
    expect(modelOps.getConfiguredEnvironments).toHaveBeenCalledWith(
      {},
      { credentials: await ctx.getInitiatorCredentials() },
    );
    expect(ctx.output).toHaveBeenCalledWith('environments', ['staging', 'dev']);
  });

  it('fails naming an unknown environment and the configured ones', async () => {
    const { ctx, outcome } = await run(['dev', 'qa']);
    await expect(outcome).rejects.toThrow(
      '"qa" is not a configured ModelOps environment; configured: dev, staging, prod',
    );
    expect(ctx.output).not.toHaveBeenCalled();
  });

  it('names every unknown environment at once', async () => {
    const { outcome } = await run(['qa', 'perf']);
    await expect(outcome).rejects.toThrow(
      '"qa", "perf" are not configured ModelOps environments',
    );
  });

  it("fails with the reason for an environment whose cluster isn't configured", async () => {
    const { outcome } = await run(['prod']);
    await expect(outcome).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining(
        'uses cluster "prod", which is not configured',
      ),
    });
  });
});
