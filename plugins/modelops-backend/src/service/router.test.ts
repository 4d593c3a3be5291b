import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { modelOpsPlugin } from '../plugin';

// Route-level checks that need no cluster: every refusal here happens before
// anything could reach Kubernetes. Deploys against real clusters are covered
// by deploy.integration.test.ts and the end-to-end tests.

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'fraud-detector',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': 'fraud-detector' },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/team-risk',
    lifecycle: 'production',
  },
};
const website: Entity = {
  ...entity,
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
            serviceAccountToken: 'not-a-real-token',
            skipTLSVerify: true,
          },
        ],
      },
    ],
  },
  modelops: { environments: { dev: { cluster: 'dev', namespace: 'models' } } },
};

async function start(options: { deny?: boolean } = {}) {
  const features: any[] = [
    modelOpsPlugin,
    mockServices.rootConfig.factory({ data: config }),
    catalogServiceMock.factory({ entities: [entity, website] }),
  ];
  if (options.deny) {
    features.push(
      mockServices.permissions.mock({
        authorize: async requests =>
          requests.map(() => ({ result: AuthorizeResult.DENY })),
      }).factory,
    );
  }
  return (await startTestBackend({ features })).server;
}

const good = {
  entityRef: 'component:default/fraud-detector',
  environment: 'dev',
  image: 'registry.local/risk/fraud-detector:1.0.0',
};

describe('POST /api/modelops/deployments refusals', () => {
  it.each([
    [
      { ...good, environment: undefined },
      "request/body must have required property 'environment'",
    ],
    [
      { ...good, replicas: 3 },
      'request/body must NOT have additional properties',
    ],
    [
      { ...good, fromEnvironment: 'prod' },
      'pass one of image, buildId or fromEnvironment, not image and fromEnvironment',
    ],
    [
      { ...good, buildId: '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b' },
      'not image and buildId',
    ],
    [
      {
        ...good,
        image: undefined,
        buildId: '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b',
      },
      'component:default/fraud-detector has no build "019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b"',
    ],
    [{ ...good, dryRun: 'yes' }, 'request/body/dryRun must be boolean'],
    [
      { ...good, analysis: { durationSeconds: -5 } },
      'request/body/analysis/durationSeconds must be >= 0',
    ],
    [
      { ...good, analysis: { durationSeconds: 60, onInconclusive: 'pass' } },
      'request/body/analysis must NOT have additional properties',
    ],
    [{ ...good, image: 42 }, 'request/body/image must be string'],
    [
      { ...good, entityRef: 'fraud-detector' },
      'Malformed entity ref "fraud-detector"',
    ],
    [
      { ...good, entityRef: 'component:default/website' },
      'is not a model service',
    ],
    [
      { ...good, environment: 'staging' },
      'Unknown environment "staging" for component:default/fraud-detector; configured environments: dev',
    ],
    [{ ...good, image: 'registry.local/x:1.0\nkind: Secret' }, 'image'],
    [{ ...good, image: undefined }, 'An image is required'],
    [
      { ...good, manifests: 'kind: Deployment' },
      'Inline manifests are disabled',
    ],
  ])('answers 400 for %j: %s', async (body, message) => {
    const server = await start();
    const res = await request(server)
      .post('/api/modelops/deployments')
      .send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
  });

  it('answers 404 for an entity that does not exist', async () => {
    const server = await start();
    const res = await request(server)
      .post('/api/modelops/deployments')
      .send({ ...good, entityRef: 'component:default/nope' });
    expect(res.status).toBe(404);
  });

  it('answers 403 without the deployment permission and records nothing', async () => {
    const server = await start({ deny: true });
    const res = await request(server)
      .post('/api/modelops/deployments')
      .send(good);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain(
      'You may not deploy component:default/fraud-detector',
    );
    const history = await request(server)
      .get('/api/modelops/deployments')
      .query({ entityRef: good.entityRef });
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([]);
  });

  it('answers 413 for a body over the limit', async () => {
    const server = await start();
    const res = await request(server)
      .post('/api/modelops/deployments')
      .send({ ...good, manifests: 'x'.repeat(1200 * 1024) });
    expect(res.status).toBe(413);
  });

  it('answers 503 naming the cluster when it cannot be reached, and records the failure', async () => {
    const server = await start();
    const res = await request(server)
      .post('/api/modelops/deployments')
      .send(good);
    expect(res.status).toBe(503);
    expect(res.body.error.message).toContain('dev');
    expect(res.body.error.message).not.toContain('not-a-real-token');
    const history = await request(server)
      .get('/api/modelops/deployments')
      .query({ entityRef: good.entityRef });
    expect(history.body.items).toEqual([
      expect.objectContaining({ result: 'failed', dryRun: false }),
    ]);
    // The attempt never reached the cluster, so it took no revision.
    expect(history.body.items[0].revision).toBeUndefined();
  });
});

describe('other deployment routes', () => {
  it.each([
    [
      '/api/modelops/deployments?entityRef=component:default/fraud-detector&limit=0',
      400,
      'limit',
    ],
    [
      '/api/modelops/deployments?entityRef=component:default/fraud-detector&cursor=zzz',
      400,
      'Invalid cursor',
    ],
    [
      '/api/modelops/deployments/status',
      400,
      "request/query must have required property 'entityRef'",
    ],
  ])('GET %s answers %i', async (url, status, message) => {
    const server = await start();
    const res = await request(server).get(url);
    expect(res.status).toBe(status);
    expect(res.body.error.message).toContain(message);
  });

  it('lists the configured environments without an entity, even to a caller denied every permission', async () => {
    const server = await start({ deny: true });
    const res = await request(server).get(
      '/api/modelops/environments/configured',
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [{ name: 'dev', cluster: 'dev', namespace: 'models' }],
    });
  });

  it('refuses the configured environments to an unauthenticated caller', async () => {
    const server = await start();
    const res = await request(server)
      .get('/api/modelops/environments/configured')
      .set('authorization', 'Bearer mock-none-token');
    expect(res.status).toBe(401);
  });

  it('reports an unreachable cluster as data in the status', async () => {
    const server = await start();
    const res = await request(server)
      .get('/api/modelops/deployments/status')
      .query({ entityRef: good.entityRef });
    expect(res.status).toBe(200);
    expect(res.body.environments).toEqual([
      expect.objectContaining({
        environment: 'dev',
        phase: 'Unknown',
        error: expect.objectContaining({
          message: expect.stringContaining('dev'),
        }),
      }),
    ]);
  });

  it.each([
    ['GET', 'analysis'],
    ['POST', 'analysis/cancel'],
  ])(
    '%s /deployments/{id}/%s answers 404 for a deployment that does not exist',
    async (method, route) => {
      const server = await start();
      const url = `/api/modelops/deployments/01890000-0000-7000-8000-000000000000/${route}`;
      const res =
        method === 'GET'
          ? await request(server).get(url)
          : await request(server).post(url);
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain('No deployment with id');
    },
  );

  it.each([
    ['not-an-id', {}, 400],
    ['01890000-0000-7000-8000-000000000000', {}, 404],
    ['01890000-0000-7000-8000-000000000000', { force: 'yes' }, 400],
  ])(
    'POST /deployments/%s/rollback %j answers %i',
    async (id, body, status) => {
      const server = await start();
      const res = await request(server)
        .post(`/api/modelops/deployments/${id}/rollback`)
        .send(body);
      expect(res.status).toBe(status);
    },
  );
});
