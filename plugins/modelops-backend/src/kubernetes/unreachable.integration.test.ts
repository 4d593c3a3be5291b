import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import request from 'supertest';
import { parse } from 'yaml';
import {
  PLATFORM_CONFIG,
  explainSkip,
  platformAvailable,
  uniqueId,
} from '../deploy/testUtils/platform';
import { modelOpsPlugin } from '../plugin';
import { startTestApiServer, TestApiServer } from './testUtils/servers';

// The platform's prod cluster replaced by a local socket that accepts
// connections and never answers (like an API server under SIGSTOP), dev left
// as it is: status must answer within the request timeout with dev fine and
// prod unreachable, and later calls must fail fast instead of waiting again.

jest.setTimeout(60_000);

const describeIfPlatform = platformAvailable() ? describe : describe.skip;
if (!platformAvailable()) explainSkip('unreachable.integration');

const TIMEOUT_MS = 1500;
const id = uniqueId('it-hung');
const entityRef = `component:default/${id}`;
const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: id,
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': id,
      'backstage.io/kubernetes-namespace': 'models',
      'modelops/image': 'registry.modelops.local/it/model',
    },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/team-it',
    lifecycle: 'experimental',
  },
};

describeIfPlatform('a cluster that never answers', () => {
  let server: any;
  let stalled: TestApiServer;
  let stalledUrl: string;
  let prodToken: string;

  beforeAll(async () => {
    stalled = await startTestApiServer({ silent: true });
    stalledUrl = stalled.url.replace('http:', 'https:');
    const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
    const clusters = platform.kubernetes.clusterLocatorMethods[0].clusters;
    const prod = clusters.find((c: { name: string }) => c.name === 'prod');
    prodToken = prod.serviceAccountToken;
    prod.url = stalledUrl;
    platform.modelops.kubernetes = {
      requestTimeoutMs: TIMEOUT_MS,
      unreachableCooldownMs: 60_000,
    };
    const backend = await startTestBackend({
      features: [
        modelOpsPlugin,
        mockServices.rootConfig.factory({ data: platform }),
        catalogServiceMock.factory({ entities: [entity] }),
      ],
    });
    server = backend.server;
  });

  afterAll(async () => {
    await stalled?.close();
  });

  const status = () =>
    request(server)
      .get('/api/modelops/deployments/status')
      .query({ entityRef });

  it('costs status one request timeout, with the other environment fine', async () => {
    const started = Date.now();
    const res = await status();
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1500);
    expect(stalled.connections).toBeGreaterThan(0);

    const byName = Object.fromEntries(
      res.body.environments.map((e: any) => [e.environment, e]),
    );
    expect(byName.dev).toMatchObject({ phase: 'NotDeployed' });
    expect(byName.dev.error).toBeUndefined();
    expect(byName.prod.phase).toBe('Unknown');
    expect(byName.prod.error.reason).toBe('ServiceUnavailableError');
    expect(byName.prod.error.message).toContain(
      `Cluster prod at ${stalledUrl} is unreachable: no answer within ${TIMEOUT_MS} ms`,
    );
    expect(JSON.stringify(res.body)).not.toContain(prodToken);
  });

  it('then fails fast: status and a deploy to it answer without waiting', async () => {
    const connections = stalled.connections;
    let started = Date.now();
    const res = await status();
    expect(Date.now() - started).toBeLessThan(1000);
    const prod = res.body.environments.find(
      (e: any) => e.environment === 'prod',
    );
    expect(prod.error.message).toMatch(
      /is unreachable: no answer within \d+ ms \(\d+ s ago; ModelOps tries again after /,
    );

    started = Date.now();
    const deploy = await request(server)
      .post('/api/modelops/deployments')
      .send({
        entityRef,
        environment: 'prod',
        image: 'registry.modelops.local/it/model:1.0.0',
        dryRun: true,
      });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(deploy.status).toBe(503);
    expect(deploy.body.error.message).toContain(
      `Cluster prod at ${stalledUrl} is unreachable`,
    );
    expect(JSON.stringify(deploy.body)).not.toContain(prodToken);
    // Nothing more was sent to the silent cluster.
    expect(stalled.connections).toBe(connections);

    // dev still deploys (a dry run, so nothing is left behind).
    const dev = await request(server).post('/api/modelops/deployments').send({
      entityRef,
      environment: 'dev',
      image: 'registry.modelops.local/it/model:1.0.0',
      dryRun: true,
    });
    expect(dev.status).toBe(200);
    expect(dev.body.deployment).toMatchObject({
      dryRun: true,
      result: 'succeeded',
    });
  });
});
