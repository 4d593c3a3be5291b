import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { parse } from 'yaml';
import {
  PLATFORM_CONFIG,
  explainSkip,
  kubectl,
  kubectlGet,
  platformAvailable,
  uniqueId,
  waitFor,
} from '../deploy/testUtils/platform';
import { REPO } from '../deploy/testUtils/engine';
import { modelOpsPlugin } from '../plugin';

// Deploys through the HTTP API into the local platform's real clusters (dev
// and prod), checking the clusters themselves with the admin kubeconfig after
// each step.

jest.setTimeout(180_000);

const describeIfPlatform = platformAvailable() ? describe : describe.skip;
if (!platformAvailable()) explainSkip('deployments.integration');

const id = uniqueId('it-svc');
// The demo model server's repository: pods run on the real node, so the tags must exist (testUtils/engine.ts).
const repo = REPO;
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
      'modelops/image': repo,
      'modelops/runtime': 'kserve',
    },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/team-it',
    lifecycle: 'experimental',
  },
};

// A second service whose manifests live at a location read through
// Backstage's UrlReader: a plain HTTP server on loopback, allowed by config.
const fromUrlId = `${id}-url`;
const manifestsYaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${fromUrlId}-settings
data:
  threshold: "0.7"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${fromUrlId}
spec:
  replicas: 1
  selector:
    matchLabels: { app: ${fromUrlId} }
  template:
    metadata:
      labels: { app: ${fromUrlId} }
    spec:
      containers:
        - name: model-server
          image: placeholder
`;

describeIfPlatform(
  'deployments through the API against the local platform',
  () => {
    let server: any;
    let manifestServer: Server;

    beforeAll(async () => {
      manifestServer = createServer((req, res) => {
        if (req.url === '/repo/deploy/manifests.yaml') {
          res.writeHead(200, { 'content-type': 'text/yaml' });
          res.end(manifestsYaml);
        } else {
          res.writeHead(404);
          res.end();
        }
      });
      await new Promise<void>(r => manifestServer.listen(0, '127.0.0.1', r));
      const host = `127.0.0.1:${
        (manifestServer.address() as AddressInfo).port
      }`;
      const fromUrl: Entity = {
        ...entity,
        metadata: {
          name: fromUrlId,
          namespace: 'default',
          annotations: {
            ...entity.metadata.annotations,
            'backstage.io/kubernetes-id': fromUrlId,
            'backstage.io/source-location': `url:http://${host}/repo/`,
            'modelops/manifests': './deploy/manifests.yaml',
          },
        },
      };
      const missing: Entity = {
        ...fromUrl,
        metadata: {
          ...fromUrl.metadata,
          name: `${fromUrlId}-missing`,
          annotations: {
            ...fromUrl.metadata.annotations,
            'modelops/manifests': './deploy/missing.yaml',
          },
        },
      };

      const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
      platform.modelops.deployments = { allowInlineManifests: true };
      platform.backend = { reading: { allow: [{ host }] } };
      const backend = await startTestBackend({
        features: [
          modelOpsPlugin,
          mockServices.rootConfig.factory({ data: platform }),
          catalogServiceMock.factory({
            entities: [entity, fromUrl, missing],
          }),
        ],
      });
      server = backend.server;
    });

    afterAll(async () => {
      await new Promise(r => manifestServer.close(r));
      for (const cluster of ['dev', 'prod']) {
        for (const kubernetesId of [id, fromUrlId]) {
          await kubectl(cluster, [
            'delete',
            '-n',
            'models',
            'deployment,service,hpa,configmap',
            '-l',
            `backstage.io/kubernetes-id=${kubernetesId}`,
            '--wait=false',
          ]);
        }
      }
    });

    const deploy = (body: object) =>
      request(server)
        .post('/api/modelops/deployments')
        .send({ entityRef, environment: 'dev', ...body });

    const status = async (environment: string) => {
      const res = await request(server)
        .get('/api/modelops/deployments/status')
        .query({ entityRef });
      expect(res.status).toBe(200);
      return res.body.environments.find(
        (e: any) => e.environment === environment,
      );
    };

    const liveDeployment = (cluster = 'dev') =>
      kubectlGet(cluster, 'models', 'deployment', id);

    const waitAvailable = (environment: string, revision: number) =>
      waitFor(
        `${environment} revision ${revision} to be Available`,
        async () => {
          const s = await status(environment);
          return s.phase === 'Available' && s.revision === revision
            ? s
            : undefined;
        },
      );

    let firstDeploymentId: string;

    it('previews a first deploy without creating anything', async () => {
      const res = await deploy({ image: `${repo}:0.1.0`, dryRun: true });
      expect(res.status).toBe(200);
      expect(res.body.deployment).toMatchObject({
        dryRun: true,
        result: 'succeeded',
      });
      expect(res.body.diff.map((d: any) => [d.kind, d.operation])).toEqual(
        expect.arrayContaining([
          ['Deployment', 'create'],
          ['Service', 'create'],
          ['HorizontalPodAutoscaler', 'create'],
        ]),
      );
      expect(await liveDeployment()).toBeUndefined();
      expect((await status('dev')).phase).toBe('NotDeployed');
    });

    it('deploys and the rollout completes', async () => {
      const res = await deploy({ image: `${repo}:0.1.0` });
      expect(res.status).toBe(201);
      expect(res.body.deployment).toMatchObject({
        revision: 1,
        result: 'succeeded',
        action: 'deploy',
      });
      firstDeploymentId = res.body.deployment.id;

      const s = await waitAvailable('dev', 1);
      expect(s.image).toBe(`${repo}:0.1.0`);
      expect(s.replicas.ready).toBeGreaterThanOrEqual(1);
      expect(s.lastDeployment.id).toBe(firstDeploymentId);

      const live = await liveDeployment();
      expect(live.spec.template.spec.containers[0].image).toBe(`${repo}:0.1.0`);
      expect(live.metadata.annotations['modelops/revision']).toBe('1');
      expect(live.metadata.labels['app.kubernetes.io/managed-by']).toBe(
        'backstage-modelops',
      );
      expect(live.metadata.managedFields.map((f: any) => f.manager)).toContain(
        'backstage-modelops',
      );
    });

    it('shows the image change in a dry run, changing nothing', async () => {
      const before = await liveDeployment();
      const res = await deploy({ image: `${repo}:0.1.1`, dryRun: true });
      expect(res.status).toBe(200);
      const deployment = res.body.diff.find(
        (d: any) => d.kind === 'Deployment',
      );
      expect(deployment.operation).toBe('update');
      expect(deployment.changes).toEqual(
        expect.arrayContaining([
          {
            path: 'spec.template.spec.containers[0].image',
            before: `${repo}:0.1.0`,
            after: `${repo}:0.1.1`,
          },
        ]),
      );
      const after = await liveDeployment();
      expect(after.metadata.resourceVersion).toBe(
        before.metadata.resourceVersion,
      );
    });

    it('deploys a second revision, then rolls back to the first', async () => {
      const second = await deploy({ image: `${repo}:0.1.1` });
      expect(second.status).toBe(201);
      expect(second.body.deployment.revision).toBe(2);
      await waitAvailable('dev', 2);
      expect(
        (await liveDeployment()).spec.template.spec.containers[0].image,
      ).toBe(`${repo}:0.1.1`);

      const rollback = await request(server)
        .post(`/api/modelops/deployments/${firstDeploymentId}/rollback`)
        .send({});
      expect(rollback.status).toBe(201);
      expect(rollback.body.deployment).toMatchObject({
        action: 'rollback',
        revision: 3,
        sourceDeploymentId: firstDeploymentId,
        image: `${repo}:0.1.0`,
      });
      await waitAvailable('dev', 3);
      const live = await liveDeployment();
      expect(live.spec.template.spec.containers[0].image).toBe(`${repo}:0.1.0`);
      expect(live.metadata.annotations['modelops/revision']).toBe('3');
    });

    it('promotes what runs in dev to prod, across the two clusters', async () => {
      expect(await liveDeployment('prod')).toBeUndefined();
      const res = await deploy({ environment: 'prod', fromEnvironment: 'dev' });
      expect(res.status).toBe(201);
      expect(res.body.deployment).toMatchObject({
        action: 'promote',
        environment: 'prod',
        cluster: 'prod',
        image: `${repo}:0.1.0`,
        revision: 1,
      });
      await waitAvailable('prod', 1);
      expect(
        (await liveDeployment('prod')).spec.template.spec.containers[0].image,
      ).toBe(`${repo}:0.1.0`);
    });

    it('refuses invalid manifests and leaves the cluster unchanged', async () => {
      const before = await liveDeployment();
      const refusals: [string, string][] = [
        [
          `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${id}\nstringData:\n  a: b\n`,
          'Secret',
        ],
        [
          `apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: ${id}\n`,
          'apps/v1',
        ],
        [
          `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: ${id}\n`,
          'ClusterRole',
        ],
        [
          `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${id}\n  namespace: kube-system\n`,
          'kube-system',
        ],
        [
          'a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n',
          '',
        ],
      ];
      for (const [manifests, named] of refusals) {
        const res = await deploy({ image: `${repo}:9.9.9`, manifests });
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain(named);
      }
      const after = await liveDeployment();
      expect(after.metadata.resourceVersion).toBe(
        before.metadata.resourceVersion,
      );
      expect(
        await kubectlGet('dev', 'models', 'configmap', id),
      ).toBeUndefined();
    });

    it('reports a field-manager conflict as 409 naming the other manager, and force takes over', async () => {
      const patch = JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: id, namespace: 'models' },
        spec: {
          template: {
            spec: {
              containers: [{ name: 'model-server', image: `${repo}:0.1.3` }],
            },
          },
        },
      });
      const applied = await kubectl(
        'dev',
        [
          'apply',
          '--server-side',
          '--force-conflicts',
          '--field-manager=someone-else',
          '-f',
          '-',
        ],
        patch,
      );
      expect(applied.stderr).toBe('');

      const conflict = await deploy({ image: `${repo}:0.1.2` });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error.message).toContain('someone-else');

      const forced = await deploy({ image: `${repo}:0.1.2`, force: true });
      expect(forced.status).toBe(201);
      const live = await liveDeployment();
      expect(live.spec.template.spec.containers[0].image).toBe(`${repo}:0.1.2`);
    });

    it('reports a rollout whose pods never become ready as failed, past its progress deadline', async () => {
      const failing = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${id}-canary
spec:
  replicas: 1
  progressDeadlineSeconds: 3
  selector:
    matchLabels: { app: ${id}-canary }
  template:
    metadata:
      labels: { app: ${id}-canary }
    spec:
      containers:
        - name: model-server
          image: ${repo}:0.2.0
`;
      // 0.2.0 does not exist: the pod never starts.
      const res = await deploy({ image: `${repo}:0.2.0`, manifests: failing });
      expect(res.body.error).toBeUndefined();
      expect(res.status).toBe(201);
      const s = await waitFor(
        'the rollout to fail',
        async () => {
          const current = await status('dev');
          const deadline = current.conditions?.some(
            (c: any) => c.reason === 'ProgressDeadlineExceeded',
          );
          return current.phase === 'Failed' && deadline ? current : undefined;
        },
        { timeoutMs: 90_000 },
      );
      expect(s.conditions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            type: 'Progressing',
            reason: 'ProgressDeadlineExceeded',
          }),
        ]),
      );
    });

    it('deploys manifests read from the location in modelops/manifests', async () => {
      const res = await request(server)
        .post('/api/modelops/deployments')
        .send({
          entityRef: `component:default/${fromUrlId}`,
          environment: 'dev',
          image: `${repo}:5.0.0`,
        });
      expect(res.body.error).toBeUndefined();
      expect(res.status).toBe(201);
      expect(res.body.deployment.objects).toEqual([
        { apiVersion: 'v1', kind: 'ConfigMap', name: `${fromUrlId}-settings` },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: fromUrlId },
      ]);
      const live = await kubectlGet('dev', 'models', 'deployment', fromUrlId);
      expect(live.spec.template.spec.containers[0].image).toBe(`${repo}:5.0.0`);
      expect(live.metadata.labels['backstage.io/kubernetes-id']).toBe(
        fromUrlId,
      );
      const settings = await kubectlGet(
        'dev',
        'models',
        'configmap',
        `${fromUrlId}-settings`,
      );
      expect(settings.data).toEqual({ threshold: '0.7' });
    });

    it('refuses a manifests location that cannot be read, applying nothing', async () => {
      const res = await request(server)
        .post('/api/modelops/deployments')
        .send({
          entityRef: `component:default/${fromUrlId}-missing`,
          environment: 'dev',
          image: `${repo}:5.0.0`,
        });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(
        '/repo/deploy/missing.yaml (modelops/manifests)',
      );
      expect(
        await kubectlGet('dev', 'models', 'deployment', `${fromUrlId}-missing`),
      ).toBeUndefined();
    });

    it('keeps every attempt in the history, newest first, in pages', async () => {
      const page1 = await request(server)
        .get('/api/modelops/deployments')
        .query({ entityRef, environment: 'dev', limit: 3 });
      expect(page1.status).toBe(200);
      expect(page1.body.items).toHaveLength(3);
      expect(page1.body.nextCursor).toBeDefined();
      const all: any[] = [...page1.body.items];
      let cursor = page1.body.nextCursor;
      while (cursor) {
        const page = await request(server)
          .get('/api/modelops/deployments')
          .query({ entityRef, environment: 'dev', limit: 3, cursor });
        all.push(...page.body.items);
        cursor = page.body.nextCursor;
      }
      const real = all
        .filter(d => !d.dryRun)
        .map(d => [d.action, d.revision, d.result]);
      expect(real.slice(-3).reverse()).toEqual([
        ['deploy', 1, 'succeeded'],
        ['deploy', 2, 'succeeded'],
        ['rollback', 3, 'succeeded'],
      ]);
      expect(all.filter(d => d.dryRun).length).toBeGreaterThanOrEqual(2);
      expect(all.some(d => d.result === 'failed')).toBe(true);
      expect(all[0].manifests).toBeUndefined();
    });
  },
);
