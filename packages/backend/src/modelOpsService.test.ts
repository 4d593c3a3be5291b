/*
 * Another backend feature deploys through modelOpsServiceRef, as the
 * scaffolder actions will: the call goes over the ModelOps HTTP API with a
 * token issued on behalf of the caller, so the portal's permission policy
 * decides on the caller. The permission backend's transport is the test
 * backend's mock; the decision is the real PortalPermissionPolicy with the
 * catalog's own ownership rule applied to the entity.
 */
import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  isResourcePermission,
} from '@backstage/plugin-permission-common';
import modelOpsBackend from '@modelops/plugin-modelops-backend';
import {
  ModelOpsService,
  modelOpsServiceRef,
} from '@modelops/plugin-modelops-node';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PortalPermissionPolicy } from './permissionPolicy';
import { evaluate, user } from './testUtils/policy';

const fraudDetector: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'fraud-detector',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'service-ref-fraud-detector',
      'modelops/image': 'registry.modelops.local/risk/fraud-detector',
    },
  },
  spec: {
    type: 'model-service',
    lifecycle: 'production',
    owner: 'user:default/ada',
  },
  relations: [{ type: 'ownedBy', targetRef: 'user:default/ada' }],
};
const entities = new Map([[stringifyEntityRef(fraudDetector), fraudDetector]]);

const policy = new PortalPermissionPolicy({ adminGroups: [] });

/** The permissions service every plugin of the test backend gets. */
const permissions = mockServices.permissions.mock({
  async authorize(requests, options) {
    const principal = options.credentials.principal as {
      userEntityRef?: string;
    };
    const who = principal.userEntityRef
      ? user(principal.userEntityRef, [])
      : undefined;
    return Promise.all(
      requests.map(async request => {
        const decision = await policy.handle(
          { permission: request.permission },
          who,
        );
        const ref = 'resourceRef' in request ? request.resourceRef : undefined;
        const entity = ref ? entities.get(ref) : undefined;
        if (isResourcePermission(request.permission) && !entity) {
          return { result: AuthorizeResult.DENY };
        }
        const allowed = entity
          ? evaluate(decision, entity)
          : decision.result === AuthorizeResult.ALLOW;
        return {
          result: allowed ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
        };
      }),
    );
  },
});
/** The caller: a module of another plugin that depends on the service ref. */
let modelOps: ModelOpsService | undefined;
const caller = createBackendModule({
  // Any plugin's module will do: the catalog's is one every portal runs.
  pluginId: 'catalog',
  moduleId: 'modelops-deploy-caller',
  register(reg) {
    reg.registerInit({
      deps: { service: modelOpsServiceRef },
      async init({ service }) {
        modelOps = service;
      },
    });
  },
});

const platformConfigPath = path.resolve(
  __dirname,
  '../../../.platform/app-config.platform.yaml',
);

/** The platform's clusters when it is up; otherwise one that is never asked. */
function clusterConfig(): { kubernetes: object; platform: boolean } {
  if (fs.existsSync(platformConfigPath)) {
    const { kubernetes } = parse(fs.readFileSync(platformConfigPath, 'utf8'));
    return { kubernetes, platform: true };
  }
  if (process.env.MODELOPS_REQUIRE_PLATFORM === '1') {
    throw new Error(
      `MODELOPS_REQUIRE_PLATFORM=1 but ${platformConfigPath} is absent: the local platform is not up`,
    );
  }
  return {
    kubernetes: {
      serviceLocatorMethod: { type: 'multiTenant' },
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: [
            {
              name: 'dev',
              url: 'https://127.0.0.1:9',
              authProvider: 'serviceAccount',
              serviceAccountToken: 'unused',
            },
          ],
        },
      ],
    },
    platform: false,
  };
}

describe('modelOpsServiceRef', () => {
  const { platform, kubernetes } = clusterConfig();
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const backend = await startTestBackend({
      features: [
        mockServices.rootConfig.factory({
          data: {
            kubernetes,
            modelops: {
              environments: { dev: { cluster: 'dev', namespace: 'models' } },
            },
          },
        }),
        permissions.factory,
        catalogServiceMock.factory({ entities: [...entities.values()] }),
        modelOpsBackend,
        caller,
      ],
    });
    stop = () => backend.stop();
  }, 30_000);

  afterAll(async () => {
    await stop?.();
  });

  const request = {
    entityRef: 'component:default/fraud-detector',
    environment: 'dev',
    image: 'registry.modelops.local/risk/fraud-detector:1.0.0',
    dryRun: true,
  };

  it('refuses a deploy by a user who does not own the service with 403, recording nothing', async () => {
    const linus = { credentials: mockCredentials.user('user:default/linus') };
    await expect(modelOps!.deploy(request, linus)).rejects.toMatchObject({
      name: 'ResponseError',
      response: { status: 403 },
      body: {
        error: {
          name: 'NotAllowedError',
          message: expect.stringContaining(
            'You may not deploy component:default/fraud-detector',
          ),
        },
      },
    });
    const history = await modelOps!.getDeployments(
      { entityRef: request.entityRef },
      linus,
    );
    expect(history.items).toEqual([]);
  });

  (platform ? describe : describe.skip)('with the platform up', () => {
    it("lets the owner preview a deploy into the platform's dev cluster", async () => {
      const ada = { credentials: mockCredentials.user('user:default/ada') };
      const result = await modelOps!.deploy(request, ada);
      expect(result.deployment).toMatchObject({
        entityRef: 'component:default/fraud-detector',
        environment: 'dev',
        dryRun: true,
        result: 'succeeded',
        requestedBy: 'user:default/ada',
      });
      expect(result.diff.map(d => d.kind)).toContain('Deployment');
    }, 30_000);
  });
});
