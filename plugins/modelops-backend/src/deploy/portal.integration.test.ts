/*
 * The demo portal's deploy settings (app-config.yaml's modelops block) on the
 * local platform, through the HTTP API: the seed pair (a model server behind a
 * LoadBalancer) deploys inline to dev with no image; prod keeps the defaults.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { modelOpsPlugin } from '../plugin';
import {
  PLATFORM_CONFIG,
  REPO_ROOT,
  explainSkip,
  kubectl,
  kubectlGet,
  platformAvailable,
  uniqueId,
} from './testUtils/platform';

const available = platformAvailable();
if (!available) explainSkip('portal.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

jest.setTimeout(180_000);

const id = uniqueId('it-portal');
const entityRef = `component:default/${id}`;
const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: id,
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': id },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/team-it',
    lifecycle: 'experimental',
  },
};

const seed = fs
  .readFileSync(
    path.join(REPO_ROOT, 'examples', 'manifests', 'loadbalancer.yaml'),
    'utf8',
  )
  .replaceAll('model-demo', id);
/** The image the example's manifests name (they are deployed with no image of the request's). */
const SEED_IMAGE = 'registry.modelops.local/risk/fraud-detector:0.1.0';

describeIfPlatform(
  "the demo portal's dev environment on the local platform",
  () => {
    let server: any;

    beforeAll(async () => {
      const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
      const portal = parse(
        fs.readFileSync(path.join(REPO_ROOT, 'app-config.yaml'), 'utf8'),
      );
      // The portal's environments and deploy settings, the platform's clusters.
      platform.modelops = { ...platform.modelops, ...portal.modelops };
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
      await kubectl('dev', [
        'delete',
        '-n',
        'models',
        'deployment,service,hpa,configmap',
        '-l',
        `backstage.io/kubernetes-id=${id}`,
        '--ignore-not-found',
        '--wait=false',
      ]);
    });

    const deploy = (body: object) =>
      request(server)
        .post('/api/modelops/deployments')
        .send({ entityRef, environment: 'dev', ...body });

    const devStatus = async () => {
      const res = await request(server)
        .get('/api/modelops/deployments/status')
        .query({ entityRef });
      expect(res.status).toBe(200);
      return res.body.environments.find((e: any) => e.environment === 'dev');
    };

    it('deploys a model server behind a LoadBalancer inline to dev with no image; the Service is pending an address', async () => {
      const res = await deploy({ manifests: seed });
      expect(res.body.error).toBeUndefined();
      expect(res.status).toBe(201);
      expect(res.body.deployment).toMatchObject({
        revision: 1,
        result: 'succeeded',
        image: SEED_IMAGE,
      });

      const deadline = Date.now() + 60_000;
      let status = await devStatus();
      while (status.phase !== 'Available' && Date.now() < deadline) {
        await new Promise(r => setTimeout(r, 500));
        status = await devStatus();
      }
      expect(status).toMatchObject({
        phase: 'Available',
        image: SEED_IMAGE,
        revision: 1,
        replicas: { desired: 1, ready: 1 },
      });
      expect(status.services).toEqual([
        {
          name: id,
          type: 'LoadBalancer',
          addresses: [],
          pending: expect.stringContaining(
            'no load-balancer controller on cluster dev has assigned one',
          ),
        },
      ]);
      const live = await kubectlGet('dev', 'models', 'service', id);
      expect(live.spec.type).toBe('LoadBalancer');
    });

    it('keeps prod to the defaults: no inline manifests there', async () => {
      const res = await deploy({ environment: 'prod', manifests: seed });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(
        'Inline manifests are disabled in environment "prod"',
      );
      expect(await kubectlGet('prod', 'models', 'service', id)).toBeUndefined();
    });
  },
);
