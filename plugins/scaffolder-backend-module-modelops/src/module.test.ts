import { createServiceFactory } from '@backstage/backend-plugin-api';
import { actionsRegistryServiceRef } from '@backstage/backend-plugin-api/alpha';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { actionsRegistryServiceMock } from '@backstage/backend-test-utils/alpha';
import {
  TemplateAction,
  scaffolderActionsExtensionPoint,
} from '@backstage/plugin-scaffolder-node';
import { modelOpsServiceRef } from '@modelops/plugin-modelops-node';
import {
  StubModelOps,
  aBuild,
  aDeployResponse,
  forbidden,
  stubModelOps,
} from './__testUtils__/stubModelOps';
import scaffolderModuleModelOps from './index';

describe('scaffolderModuleModelOps (ModelOps service stubbed; the HTTP API is tested against real servers elsewhere)', () => {
  async function start(modelOps: StubModelOps) {
    const added: TemplateAction<any, any, any>[] = [];
    const registry = actionsRegistryServiceMock({
      logger: mockServices.logger.mock(),
    });
    const backend = await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          { addActions: (...actions) => added.push(...actions) },
        ],
      ],
      features: [
        scaffolderModuleModelOps,
        createServiceFactory({
          service: modelOpsServiceRef,
          deps: {},
          factory: () => modelOps,
        }),
        createServiceFactory({
          service: actionsRegistryServiceRef,
          deps: {},
          factory: () => registry,
        }),
      ],
    });
    return { added, registry, backend };
  }

  it('adds its actions to the scaffolder, with input and output schemas', async () => {
    const { added, backend } = await start(stubModelOps());
    expect(added.map(a => a.id)).toEqual([
      'modelops:build:trigger',
      'modelops:deploy',
      'modelops:environments:check',
    ]);
    for (const action of added) {
      expect(action.examples?.length).toBeGreaterThan(0);
      expect(action.schema?.input).toMatchObject({ type: 'object' });
      expect(action.schema?.output).toMatchObject({ type: 'object' });
    }
    expect(added[0].schema?.input).toMatchObject({
      required: ['entityRef'],
      properties: {
        entityRef: { type: 'string', description: expect.any(String) },
        wait: { type: 'boolean' },
        buildArgs: { type: 'object' },
      },
    });
    expect(added[1].schema?.input).toMatchObject({
      required: ['entityRef', 'environment'],
    });
    expect(added[2].schema?.input).toMatchObject({
      required: ['environments'],
      properties: { environments: { type: 'array', minItems: 1 } },
    });
    await backend.stop();
  });

  it('registers both operations in the actions registry', async () => {
    const { registry, backend } = await start(stubModelOps());
    const { actions } = await registry.list();
    expect(actions.map(a => a.name)).toEqual([
      'modelops-trigger-build',
      'modelops-deploy',
    ]);
    for (const action of actions) {
      expect(action.attributes).toEqual({
        readOnly: false,
        destructive: true,
        idempotent: false,
      });
    }
    await backend.stop();
  });

  it("builds through the registry with the caller's credentials", async () => {
    const modelOps = stubModelOps({
      triggerBuild: async () => aBuild({ status: 'queued' }),
    });
    const { registry, backend } = await start(modelOps);
    const credentials = mockCredentials.user('user:default/ada');

    const { output } = await registry.invoke({
      id: 'test:modelops-trigger-build',
      input: {
        entityRef: 'component:default/fraud-detector',
        idempotencyKey: 'agent-run-42',
      },
      credentials,
    });

    expect(modelOps.triggerBuild).toHaveBeenCalledWith(
      {
        entityRef: 'component:default/fraud-detector',
        idempotencyKey: 'agent-run-42',
      },
      { credentials },
    );
    expect(output).toEqual({
      buildId: 'b-1',
      status: 'queued',
      image: 'registry.example.com/models/fraud-detector',
      tag: 'main-abc1234',
    });
    await backend.stop();
  });

  it('gives each registry call without a key its own build', async () => {
    const modelOps = stubModelOps({ triggerBuild: async () => aBuild() });
    const { registry, backend } = await start(modelOps);
    const input = { entityRef: 'component:default/fraud-detector' };
    const credentials = mockCredentials.user();
    await registry.invoke({
      id: 'test:modelops-trigger-build',
      input,
      credentials,
    });
    await registry.invoke({
      id: 'test:modelops-trigger-build',
      input,
      credentials,
    });
    const [first, second] = modelOps.triggerBuild.mock.calls.map(
      ([request]) => request.idempotencyKey,
    );
    expect(first).toMatch(/^actions:/);
    expect(second).toMatch(/^actions:/);
    expect(first).not.toBe(second);
    await backend.stop();
  });

  it("deploys through the registry with the caller's credentials", async () => {
    const modelOps = stubModelOps({
      deploy: async () => aDeployResponse({ id: 'd-1', revision: 4 }),
    });
    const { registry, backend } = await start(modelOps);
    const credentials = mockCredentials.user('user:default/ada');

    const { output } = await registry.invoke({
      id: 'test:modelops-deploy',
      input: {
        entityRef: 'component:default/fraud-detector',
        environment: 'dev',
        buildId: 'b-3',
      },
      credentials,
    });

    expect(modelOps.deploy).toHaveBeenCalledWith(
      {
        entityRef: 'component:default/fraud-detector',
        environment: 'dev',
        buildId: 'b-3',
      },
      { credentials },
    );
    expect(output).toEqual({
      deploymentId: 'd-1',
      revision: 4,
      image: 'registry.example.com/models/fraud-detector:1.4.0',
    });
    await backend.stop();
  });

  it("refuses a caller without the permission with the backend's message", async () => {
    const message =
      "You may not deploy component:default/fraud-detector: that needs the modelops.deployment.create permission on it, which the service's owners and platform admins have";
    const refusal = await forbidden(message);
    const modelOps = stubModelOps({
      deploy: async () => {
        throw refusal;
      },
    });
    const { registry, backend } = await start(modelOps);

    await expect(
      registry.invoke({
        id: 'test:modelops-deploy',
        input: {
          entityRef: 'component:default/fraud-detector',
          environment: 'prod',
          image: 'registry.example.com/models/fraud-detector:1.4.0',
          wait: true,
        },
        credentials: mockCredentials.user('user:default/bob'),
      }),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringContaining(message),
    });
    expect(modelOps.getDeploymentStatus).not.toHaveBeenCalled();
    await backend.stop();
  });
});
