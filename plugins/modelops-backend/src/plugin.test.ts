import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  modelOpsImageBuildersExtensionPoint,
  ModelOpsMetricsSource,
  modelOpsMetricsSourcesExtensionPoint,
} from '@modelops/plugin-modelops-node';
import request from 'supertest';
import { modelOpsPlugin } from './plugin';

const fraudDetector: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'fraud-detector',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'fraud-detector',
      'modelops/runtime': 'kserve',
    },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/team-risk',
    lifecycle: 'production',
  },
};

const overridden: Entity = {
  ...fraudDetector,
  metadata: {
    name: 'churn-predictor',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'churn-predictor',
      'backstage.io/kubernetes-namespace': 'growth',
      'modelops/runtime': 'tensorflow',
    },
  },
};

const website: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'website', namespace: 'default' },
  spec: {
    type: 'website',
    owner: 'group:default/team-web',
    lifecycle: 'production',
  },
};

const config = {
  kubernetes: {
    serviceLocatorMethod: { type: 'multiTenant' },
    clusterLocatorMethods: [
      {
        type: 'config',
        clusters: [
          {
            name: 'dev',
            url: 'https://127.0.0.1:1',
            authProvider: 'serviceAccount',
          },
        ],
      },
    ],
  },
  modelops: {
    environments: {
      dev: {
        cluster: 'dev',
        namespace: 'models',
        allowedNamespaces: ['models', 'growth'],
      },
      prod: { cluster: 'prod', namespace: 'models-prod' },
    },
  },
};

async function startBackend(data: object = config) {
  return startTestBackend({
    features: [
      modelOpsPlugin,
      mockServices.rootConfig.factory({ data }),
      catalogServiceMock.factory({
        entities: [fraudDetector, overridden, website],
      }),
    ],
  });
}

describe('GET /api/modelops/environments', () => {
  it('resolves environments with per-environment errors as data', async () => {
    const { server } = await startBackend();
    const res = await request(server)
      .get('/api/modelops/environments')
      .query({ entityRef: 'component:default/fraud-detector' });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      entityRef: 'component:default/fraud-detector',
      kubernetesId: 'fraud-detector',
      runtime: 'kserve',
      problems: [],
      environments: [
        {
          name: 'dev',
          cluster: 'dev',
          namespace: 'models',
          namespaceSource: 'environment',
        },
        {
          name: 'prod',
          cluster: 'prod',
          namespace: 'models-prod',
          namespaceSource: 'environment',
          error: {
            reason: 'ClusterNotConfigured',
            message: expect.stringContaining(
              'cluster "prod", which is not configured',
            ),
          },
        },
      ],
    });
  });

  it('applies the namespace annotation and reports contract problems', async () => {
    const { server } = await startBackend();
    const res = await request(server)
      .get('/api/modelops/environments')
      .query({ entityRef: 'component:churn-predictor' });

    expect(res.status).toBe(200);
    expect(res.body.environments[0]).toMatchObject({
      namespace: 'growth',
      namespaceSource: 'annotation',
    });
    expect(res.body.environments[0].error).toBeUndefined();
    // prod does not allow the override: the entity cannot move its workloads.
    expect(res.body.environments[1]).toMatchObject({
      namespace: 'models-prod',
      namespaceSource: 'environment',
      error: {
        reason: 'NamespaceNotAllowed',
        message: expect.stringContaining(
          'backstage.io/kubernetes-namespace "growth" is not allowed in environment "prod" (allowed: models-prod)',
        ),
      },
    });
    expect(res.body.problems).toEqual([
      {
        annotation: 'modelops/runtime',
        message: expect.stringContaining('tensorflow'),
      },
    ]);
  });

  it.each([
    [{}, 400, "request/query must have required property 'entityRef'"],
    [
      { entityRef: 'not a ref/at/all' },
      400,
      'Malformed entity ref "not a ref/at/all"',
    ],
    [
      { entityRef: 'fraud-detector' },
      400,
      'Malformed entity ref "fraud-detector"',
    ],
    [
      { entityRef: 'component:default/nope' },
      404,
      'No entity named component:default/nope',
    ],
    [
      { entityRef: 'component:default/website' },
      400,
      'component:default/website is not a model service',
    ],
  ])(
    'answers %j with %i and a message naming the ref',
    async (query, status, message) => {
      const { server } = await startBackend();
      const res = await request(server)
        .get('/api/modelops/environments')
        .query(query);
      expect(res.status).toBe(status);
      expect(res.body.error.message).toContain(message);
    },
  );

  it('rejects unauthenticated requests', async () => {
    const { server } = await startBackend();
    const res = await request(server)
      .get('/api/modelops/environments')
      .set('Authorization', mockCredentials.none.header())
      .query({ entityRef: 'component:default/fraud-detector' });
    expect(res.status).toBe(401);
  });
});

describe('startup', () => {
  it('refuses to start with a bad modelops block, naming the key', async () => {
    await expect(
      startBackend({
        modelops: {
          environments: {
            dev: { cluster: 'dev', namespace: 'models', replicas: 3 },
          },
        },
      }),
    ).rejects.toThrow('modelops.environments.dev.replicas: unknown key');
  });

  it('accepts modules adding providers through the extension points', async () => {
    const seenDefaults: string[][] = [];
    const module = createBackendModule({
      pluginId: 'modelops',
      moduleId: 'test-builder',
      register(env) {
        env.registerInit({
          deps: { builders: modelOpsImageBuildersExtensionPoint },
          async init({ builders }) {
            builders.addImageBuilder(defaults => {
              seenDefaults.push([...defaults.keys()]);
              return {
                type: 'test',
                trigger: async () => ({ externalRef: 'x' }),
                status: async () => ({ phase: 'queued' }),
                logs: async () => ({ text: '', complete: true }),
                cancel: async () => ({ cancelled: false }),
              };
            });
          },
        });
      },
    });
    const logger = mockServices.logger.mock();
    await startTestBackend({
      features: [
        modelOpsPlugin,
        module,
        logger.factory,
        mockServices.rootConfig.factory({ data: config }),
        catalogServiceMock.factory({ entities: [] }),
      ],
    });
    expect(seenDefaults).toEqual([['buildkit']]);
    expect(logger.info).toHaveBeenCalledWith(
      expect.stringContaining('image builders: buildkit, test'),
    );
  });

  /** A module whose source records the PromQL it is asked (a stand-in for e.g. a managed Prometheus, which cannot run here). */
  function recordingSourceModule(queries: string[], seenDefaults: string[][]) {
    return createBackendModule({
      pluginId: 'modelops',
      moduleId: 'recording-source',
      register(env) {
        env.registerInit({
          deps: { sources: modelOpsMetricsSourcesExtensionPoint },
          async init({ sources }) {
            sources.addMetricsSource(defaults => {
              seenDefaults.push([...defaults.keys()]);
              const source: ModelOpsMetricsSource = {
                type: 'recording',
                instant: async query => {
                  queries.push(query);
                  return [];
                },
                range: async () => [],
              };
              return source;
            });
          },
        });
      },
    });
  }

  it('reads metrics from the source modelops.metrics.source names, offering the configured Prometheus as a default', async () => {
    const queries: string[] = [];
    const seenDefaults: string[][] = [];
    const { server } = await startTestBackend({
      features: [
        modelOpsPlugin,
        recordingSourceModule(queries, seenDefaults),
        mockServices.rootConfig.factory({
          data: {
            ...config,
            modelops: {
              ...config.modelops,
              metrics: {
                source: 'recording',
                prometheus: { url: 'http://127.0.0.1:1' },
              },
            },
          },
        }),
        catalogServiceMock.factory({ entities: [fraudDetector] }),
      ],
    });
    expect(seenDefaults).toEqual([['prometheus']]);
    const res = await request(server)
      .get('/api/modelops/health')
      .query({ entityRef: 'component:default/fraud-detector' });
    expect(res.status).toBe(200);
    const dev = res.body.environments.find(
      (e: { environment: string }) => e.environment === 'dev',
    );
    // The module's empty answers are "no series", not the unreachable Prometheus.
    expect(dev.signals.find((s: any) => s.signal === 'errorRate')).toEqual(
      expect.objectContaining({
        status: 'unknown',
        reason: expect.stringContaining('no series match'),
      }),
    );
    expect(queries.length).toBeGreaterThan(0);
    expect(
      queries.every(q =>
        q.includes('backstage_io_kubernetes_id="fraud-detector"'),
      ),
    ).toBe(true);
  });

  it('refuses to start when modelops.metrics.source names no installed source', async () => {
    await expect(
      startBackend({
        ...config,
        modelops: { ...config.modelops, metrics: { source: 'thanos' } },
      }),
    ).rejects.toThrow(
      'modelops.metrics.source is "thanos", but no installed module provides a metrics source of that type (available: none)',
    );
  });
});
