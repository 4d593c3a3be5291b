import {
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import fs from 'node:fs';
import request from 'supertest';
import { parse } from 'yaml';
import {
  PLATFORM_CONFIG,
  explainSkip,
  kubectl,
  platformAvailable,
  uniqueId,
  waitFor,
} from '../deploy/testUtils/platform';
import { modelOpsPlugin } from '../plugin';

// Build triggers through the HTTP API against the local platform's dev
// cluster: the Job they create, what they refuse without creating one, and
// how a build follows its Job. (The build itself, BuildKit cloning and
// pushing, is the platform's own test and the end-to-end suite's.)

jest.setTimeout(180_000);

const describeIfPlatform = platformAvailable() ? describe : describe.skip;
if (!platformAvailable()) explainSkip('builds.integration');

const id = uniqueId('it-build');
const entityRef = `component:default/${id}`;
const NS = 'modelops-builds';

const service = (
  name: string,
  annotations: Record<string, string>,
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name,
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': name,
      'backstage.io/kubernetes-namespace': 'models',
      // Nothing listens on port 1: the commit stays unknown, quickly.
      'backstage.io/source-location': `url:http://127.0.0.1:1/modelops-demo/${name}/src/branch/main/`,
      ...annotations,
    },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/team-it',
    lifecycle: 'experimental',
  },
});

const entities = [
  service(id, { 'modelops/image': `registry.modelops.local/models/${id}` }),
  service(`${id}-noimage`, {}),
  service(`${id}-builder`, {
    'modelops/image': `registry.modelops.local/models/${id}`,
    'modelops/builder': 'tekton',
  }),
];

async function backend(options: { deny?: boolean } = {}): Promise<any> {
  const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
  platform.modelops.builds = {
    ...platform.modelops.builds,
    allowedBuildArgs: ['MODEL_VERSION'],
    buildkit: {
      image: 'registry.modelops.local/platform/buildkit:v0.34.2',
      mode: 'privileged',
      ...platform.modelops.builds?.buildkit,
      // Never finishes on its own here: the tests end it.
      activeDeadlineSeconds: 600,
    },
  };
  const features: any[] = [
    modelOpsPlugin,
    mockServices.rootConfig.factory({ data: platform }),
    catalogServiceMock.factory({ entities }),
  ];
  if (options.deny)
    features.push(
      mockServices.permissions.mock({
        authorize: async requests =>
          requests.map(() => ({ result: AuthorizeResult.DENY })),
      }).factory,
    );
  return (await startTestBackend({ features })).server;
}

/** The build Jobs of this test run, by build id. */
async function jobs(): Promise<Map<string, any>> {
  const res = await kubectl('dev', [
    'get',
    'jobs',
    '-n',
    NS,
    '-l',
    'app.kubernetes.io/component=image-build',
    '-o',
    'json',
  ]);
  if (res.code !== 0) throw new Error(res.stderr);
  const out = new Map<string, any>();
  for (const job of JSON.parse(res.stdout).items)
    if (
      job.metadata.annotations?.['modelops/entity-ref']?.startsWith(entityRef)
    )
      out.set(job.metadata.labels['modelops/build-id'], job);
  return out;
}

const trigger = (server: any, body: object) =>
  request(server)
    .post('/api/modelops/builds')
    .send({ entityRef, idempotencyKey: uniqueId('key'), ...body });

describeIfPlatform('builds against the local platform', () => {
  let server: any;
  beforeAll(async () => {
    server = await backend();
  });
  afterAll(async () => {
    for (const job of (await jobs()).values())
      await kubectl('dev', [
        'delete',
        'job',
        '-n',
        NS,
        job.metadata.name,
        '--wait=false',
      ]);
  });

  it('creates a BuildKit Job for a trigger, and the same one for the same key', async () => {
    const res = await trigger(server, {
      idempotencyKey: 'click-1',
      ref: 'main',
      buildArgs: { MODEL_VERSION: '7' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      entityRef,
      builder: 'buildkit',
      status: 'queued',
      image: `registry.modelops.local/models/${id}`,
      source: {
        url: `http://127.0.0.1:1/modelops-demo/${id}.git`,
        ref: 'main',
        contextPath: '.',
        dockerfile: 'Dockerfile',
      },
      requestedBy: 'user:default/mock',
    });
    // No commit could be read: a timestamp tag with the build's own suffix.
    expect(res.body.tag).toMatch(/^\d{8}t\d{6}-[0-9a-f]{6}$/);
    expect(res.body).not.toHaveProperty('externalRef');
    const job = (await jobs()).get(res.body.id);
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 600,
    });
    expect(job.spec.template.spec.containers[0].args).toEqual(
      expect.arrayContaining([
        `--opt=context=http://127.0.0.1:1/modelops-demo/${id}.git#main`,
        '--opt=build-arg:MODEL_VERSION=7',
        '--metadata-file=/tmp/buildctl-metadata.json',
      ]),
    );

    const again = await trigger(server, {
      idempotencyKey: 'click-1',
      ref: 'main',
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(res.body.id);
  });

  it('makes one build and one Job of 20 concurrent triggers with one key', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        trigger(server, { idempotencyKey: 'burst' }),
      ),
    );
    const ids = new Set(results.map(r => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter(r => r.status === 201)).toHaveLength(1);
    const built = [...(await jobs()).keys()].filter(k => ids.has(k));
    expect(built).toHaveLength(1);
  });

  it.each([
    [
      { ref: '--upload-pack=touch /tmp/pwned' },
      'ref "--upload-pack=touch /tmp/pwned" starts with "-"',
    ],
    [{ ref: 'main;id' }, 'ref "main;id" may hold only'],
    [
      { contextPath: '../../etc' },
      'contextPath "../../etc" leaves the repository',
    ],
    [
      { dockerfile: '/etc/passwd' },
      'dockerfile must be relative to the repository',
    ],
    [
      { buildArgs: { HTTP_PROXY: 'http://evil' } },
      'buildArgs.HTTP_PROXY is not allowed',
    ],
    [{ deployTo: 'staging' }, 'staging'],
    [
      { entityRef: `component:default/${id}-noimage` },
      'has no modelops/image annotation',
    ],
    [
      { entityRef: `component:default/${id}-builder` },
      'No image builder named "tekton" is installed',
    ],
    [{ image: 'evil.example.com/x' }, 'not image (the image repository is'],
  ])('refuses %j with a 400 and creates no Job', async (body, message) => {
    const before = (await jobs()).size;
    const res = await trigger(server, body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
    expect((await jobs()).size).toBe(before);
  });

  it('answers 403 to a caller without modelops.build.create, and creates nothing', async () => {
    const denied = await backend({ deny: true });
    const before = (await jobs()).size;
    const res = await trigger(denied, {});
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('modelops.build.create');
    expect((await jobs()).size).toBe(before);
    const list = await request(server)
      .get('/api/modelops/builds')
      .query({ entityRef, limit: 100 });
    expect(list.status).toBe(200);
    expect(list.body.items.map((b: any) => b.id)).toEqual(
      expect.arrayContaining([...(await jobs()).keys()]),
    );
    expect(list.body.items).toHaveLength((await jobs()).size);
  });

  it('fails a build whose Job was deleted by hand as lost, and cancels one by deleting its Job', async () => {
    const lost = await trigger(server, {});
    const job = (await jobs()).get(lost.body.id);
    await kubectl('dev', [
      'delete',
      'job',
      '-n',
      NS,
      job.metadata.name,
      '--wait=true',
    ]);
    const read = await waitFor(
      'the lost build',
      async () => {
        const r = await request(server).get(
          `/api/modelops/builds/${lost.body.id}`,
        );
        return r.body.status === 'failed' ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(read.body).toMatchObject({ status: 'failed', reason: 'lost' });
    expect(read.body.message).toContain('no longer exists');

    const doomed = await trigger(server, {});
    const cancelled = await request(server).post(
      `/api/modelops/builds/${doomed.body.id}/cancel`,
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    await waitFor('the cancelled Job to go', async () =>
      (await jobs()).has(doomed.body.id) ? undefined : true,
    );
    // A finished build stays as it ended.
    const later = await request(server).get(
      `/api/modelops/builds/${doomed.body.id}`,
    );
    expect(later.body.status).toBe('cancelled');
  });

  it('says a build id that does not exist is not found', async () => {
    const res = await request(server).get(
      '/api/modelops/builds/01234567-89ab-cdef-0123-456789abcdef',
    );
    expect(res.status).toBe(404);
  });
});

/** The platform's git server, from the Backstage config `up` wrote (absent without real nodes). */
function gitServer(): string | undefined {
  if (!platformAvailable()) return undefined;
  const config = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
  return config.integrations?.gitea?.[0]?.baseUrl;
}
const git = gitServer();
const describeIfGit = git ? describe : describe.skip;

/** Removes what a test deployed for `kubernetesId` in dev. */
const removeWorkloads = (kubernetesId: string) =>
  kubectl('dev', [
    'delete',
    '-n',
    'models',
    'deployments,services,horizontalpodautoscalers',
    '-l',
    `backstage.io/kubernetes-id=${kubernetesId}`,
    '--wait=false',
  ]);

/** The build once it finished (read through the API, which follows its Job). */
const buildFinished = (server: any, buildId: string) =>
  waitFor(
    `build ${buildId} to finish`,
    async () => {
      const r = await request(server).get(`/api/modelops/builds/${buildId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(r.body.status)
        ? r.body
        : undefined;
    },
    { timeoutMs: 600_000, intervalMs: 2000 },
  );

describeIfGit('a real build: BuildKit in a Job on the dev node', () => {
  const built = uniqueId('it-built');
  const ref = `component:default/${built}`;
  const repository = `registry.modelops.local/it/${built}`;
  let server: any;

  beforeAll(async () => {
    const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
    server = (
      await startTestBackend({
        features: [
          modelOpsPlugin,
          mockServices.rootConfig.factory({ data: platform }),
          catalogServiceMock.factory({
            entities: [
              service(built, {
                'backstage.io/source-location': `url:${git}/modelops-demo/fraud-detector/src/branch/main/`,
                'modelops/image': repository,
                'modelops/runtime': 'kserve',
              }),
            ],
          }),
        ],
      })
    ).server;
  });

  afterAll(async () => {
    await removeWorkloads(built);
  });

  it("clones the demo service's source from the git server, pushes the image, records its digest and deploys exactly that digest", async () => {
    const res = await request(server)
      .post('/api/modelops/builds')
      .send({ entityRef: ref, idempotencyKey: 'real-1', deployTo: 'dev' });
    expect(res.status).toBe(201);
    // The commit was read from the git server: it names the tag.
    expect(res.body.source.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(res.body.tag).toBe(res.body.source.commit.slice(0, 12));
    // Before its container starts, a build's log is empty, not an error.
    const early = await request(server).get(
      `/api/modelops/builds/${res.body.id}/logs`,
    );
    expect(early.status).toBe(200);
    expect(early.body.complete).toBe(false);

    const done = await buildFinished(server, res.body.id);
    expect(done).toMatchObject({ status: 'succeeded' });
    expect(done.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // The registry serves that digest for the tag.
    const registry = `http://127.0.0.1:${
      15000 + Number(process.env.MODELOPS_PORT_OFFSET ?? 0)
    }`;
    const head = await fetch(
      `${registry}/v2/it/${built}/manifests/${done.tag}`,
      {
        method: 'HEAD',
        headers: {
          Accept:
            'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
        },
      },
    );
    expect(head.headers.get('docker-content-digest')).toBe(done.digest);

    // The log is there, and complete.
    const logs = await request(server).get(
      `/api/modelops/builds/${res.body.id}/logs`,
    );
    expect(logs.status).toBe(200);
    expect(logs.body.complete).toBe(true);
    expect(logs.body.text).toContain('exporting to image');

    // Built, then deployed: the pods run exactly the built digest.
    const deployed = await waitFor(
      'the deploy of the build',
      async () => {
        const r = await request(server).get(
          `/api/modelops/builds/${res.body.id}`,
        );
        return r.body.deploymentId ? r.body : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2000 },
    );
    const status = await waitFor(
      'the rollout to be Available',
      async () => {
        const r = await request(server)
          .get('/api/modelops/deployments/status')
          .query({ entityRef: ref });
        const dev = r.body.environments.find(
          (e: any) => e.environment === 'dev',
        );
        return dev?.phase === 'Available' || dev?.phase === 'Failed'
          ? dev
          : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 2000 },
    );
    expect(status.phase).toBe('Available');
    expect(status.image).toBe(`${repository}@${done.digest}`);
    const history = await request(server)
      .get('/api/modelops/deployments')
      .query({ entityRef: ref });
    expect(history.body.items[0]).toMatchObject({
      id: deployed.deploymentId,
      image: `${repository}@${done.digest}`,
      buildId: res.body.id,
      requestedBy: 'user:default/mock',
    });

    // The built digest deploys again by the build's id, and that deploy names it too.
    const again = await request(server).post('/api/modelops/deployments').send({
      entityRef: ref,
      environment: 'dev',
      buildId: res.body.id,
      dryRun: true,
    });
    expect(again.status).toBe(200);
    expect(again.body.deployment).toMatchObject({
      image: `${repository}@${done.digest}`,
      buildId: res.body.id,
      dryRun: true,
    });
  });
});

describeIfGit(
  'a real build that fails, and one that outlives its backend',
  () => {
    const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
    const broken = uniqueId('it-broken');
    const restarted = uniqueId('it-restart');
    const gitea = () =>
      parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8')).integrations.gitea[0] as {
        baseUrl: string;
        password: string;
      };
    /** A branch of the demo repository whose Dockerfile copies a file the repository lacks. */
    const brokenBranch = `${broken}-dockerfile`;
    const DEMO_REPO = 'modelops-demo/fraud-detector';

    const entity = (name: string): Entity =>
      service(name, {
        'backstage.io/source-location': `url:${git}/${DEMO_REPO}/src/branch/main/`,
        'modelops/image': `registry.modelops.local/it/${name}`,
        'modelops/runtime': 'kserve',
      });

    /** A backend of the platform's config on `knex`: a restart is another one on the same database. */
    async function realBackend(knex: Knex) {
      const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
      return startTestBackend({
        features: [
          modelOpsPlugin,
          mockServices.rootConfig.factory({ data: platform }),
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({
            entities: [entity(broken), entity(restarted)],
          }),
        ],
      });
    }

    async function giteaApi(method: string, urlPath: string, body?: object) {
      const { baseUrl, password } = gitea();
      const res = await fetch(`${baseUrl}/api/v1${urlPath}`, {
        method,
        headers: {
          authorization: `token ${password}`,
          'content-type': 'application/json',
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (!res.ok)
        throw new Error(
          `${method} ${urlPath}: ${res.status} ${text.slice(0, 200)}`,
        );
      return text ? JSON.parse(text) : undefined;
    }

    beforeAll(async () => {
      const current = await giteaApi(
        'GET',
        `/repos/${DEMO_REPO}/contents/Dockerfile?ref=main`,
      );
      const dockerfile = Buffer.from(current.content, 'base64').toString(
        'utf8',
      );
      await giteaApi('PUT', `/repos/${DEMO_REPO}/contents/Dockerfile`, {
        branch: 'main',
        new_branch: brokenBranch,
        sha: current.sha,
        message: 'Copy model weights the repository does not have',
        content: Buffer.from(
          `${dockerfile}\nCOPY model-weights.bin ./\n`,
          'utf8',
        ).toString('base64'),
      });
    });

    afterAll(async () => {
      await giteaApi(
        'DELETE',
        `/repos/${DEMO_REPO}/branches/${encodeURIComponent(brokenBranch)}`,
      ).catch(() => undefined);
      await removeWorkloads(restarted);
    });

    it('fails a build whose Dockerfile fails, with the reason and the log tail, and deploys nothing', async () => {
      const knex = await databases.init('SQLITE_3');
      const failing = await realBackend(knex);
      try {
        const res = await request(failing.server)
          .post('/api/modelops/builds')
          .send({
            entityRef: `component:default/${broken}`,
            idempotencyKey: 'broken-1',
            ref: brokenBranch,
            deployTo: 'dev',
          });
        expect(res.status).toBe(201);
        const done = await buildFinished(failing.server, res.body.id);
        expect(done).toMatchObject({ status: 'failed' });
        expect(done.reason).toBeTruthy();
        expect(done.digest).toBeUndefined();
        // The message ends with the log's last lines: BuildKit naming the missing file.
        expect(done.message).toContain('model-weights.bin');
        const logs = await request(failing.server).get(
          `/api/modelops/builds/${res.body.id}/logs`,
        );
        expect(logs.body.complete).toBe(true);
        expect(logs.body.text).toMatch(/model-weights\.bin.*not found/);
        expect(done.deploymentId).toBeUndefined();
        const history = await request(failing.server)
          .get('/api/modelops/deployments')
          .query({ entityRef: `component:default/${broken}` });
        expect(history.body.items).toEqual([]);
      } finally {
        await failing.stop();
      }
    });

    it('follows a build to its end and deploys it once after the backend that started it stopped', async () => {
      const knex = await databases.init('SQLITE_3');
      const first = await realBackend(knex);
      const res = await request(first.server)
        .post('/api/modelops/builds')
        .send({
          entityRef: `component:default/${restarted}`,
          idempotencyKey: 'restart-1',
          deployTo: 'dev',
        });
      expect(res.status).toBe(201);
      await first.stop();
      // Still unfinished in the database when its backend went away.
      const row = await knex('modelops_builds')
        .where({ id: res.body.id })
        .first();
      expect(['queued', 'running']).toContain(row.status);

      const second = await realBackend(knex);
      try {
        const done = await buildFinished(second.server, res.body.id);
        expect(done).toMatchObject({ status: 'succeeded' });
        expect(done.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        const deployed = await waitFor(
          'the deploy of the build',
          async () => {
            const r = await request(second.server).get(
              `/api/modelops/builds/${res.body.id}`,
            );
            return r.body.deploymentId ? r.body : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 2000 },
        );
        const history = await request(second.server)
          .get('/api/modelops/deployments')
          .query({ entityRef: `component:default/${restarted}` });
        // One deploy, naming the build and pinning its digest.
        expect(history.body.items).toHaveLength(1);
        expect(history.body.items[0]).toMatchObject({
          id: deployed.deploymentId,
          buildId: res.body.id,
          image: `registry.modelops.local/it/${restarted}@${done.digest}`,
          result: 'succeeded',
        });
      } finally {
        await second.stop();
      }
    });
  },
);
