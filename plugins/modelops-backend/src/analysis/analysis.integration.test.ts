/*
 * SLO analyses against the local platform: real pods of the demo model
 * server's releases on the dev cluster's real node, traffic to them through
 * their Service's endpoints, their series in the platform's Prometheus.
 * A good release passes and stays; the faulty release (30 % of requests
 * fail) fails, and the backend rolls back by itself; a backend stopped
 * mid-analysis leaves it to the next one, which rolls back exactly once; a
 * later deploy cancels a running analysis; without Prometheus the analysis
 * ends inconclusive, and the release stays or is rolled back as configured.
 * Canary releases: a good canary is promoted to the stable Deployment; a
 * faulty one is removed without the stable Deployment ever changing.
 */
import {
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Knex } from 'knex';
import request from 'supertest';
import { parse } from 'yaml';
import {
  PLATFORM_CONFIG,
  REPO_ROOT,
  explainSkip,
  kubectl,
  kubectlGet,
  platformAvailable,
  uniqueId,
  waitFor,
} from '../deploy/testUtils/platform';
import { REPO } from '../deploy/testUtils/engine';
import { modelOpsPlugin } from '../plugin';

jest.setTimeout(600_000);

const available = platformAvailable();
if (!available) explainSkip('analysis.integration');
const describeIfPlatform = available ? describe : describe.skip;

const id = uniqueId('it-analysis');
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
      'modelops/image': REPO,
      'modelops/runtime': 'kserve',
      // The good releases fail no request; 0.1.3 fails 30 %. The error
      // rate decides, not latency: on two busy cores (CI runs every suite
      // at once) a good release's p95 can pass any latency SLO tight
      // enough to catch the slow release, so latency is judged in
      // judge.test.ts and the benchmark instead.
      'modelops/slo': 'latency-p95-ms=5000,error-rate=0.1',
    },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/team-it',
    lifecycle: 'experimental',
  },
};

/** Evaluations every 5 s over a 30 s rate window: Prometheus scrapes every 5 s. */
const ANALYSIS = {
  interval: '5s',
  window: '30s',
  minRequestRate: 1,
  onInconclusive: 'pass',
};

/**
 * One more traffic generator like the platform's own for dev (same API
 * server, CA, token and pod network), for this test's Service: 10 requests
 * per second for at most 15 minutes.
 */
function startTraffic(): ChildProcess {
  const state = JSON.parse(
    fs.readFileSync(path.join(REPO_ROOT, '.platform', 'state.json'), 'utf8'),
  );
  const platformGenerator = state.processes.find(
    (p: any) => p.component === 'traffic-generator' && p.cluster === 'dev',
  );
  if (!platformGenerator)
    throw new Error('the platform runs no traffic generator for dev');
  const args: string[] = [...platformGenerator.args];
  const set = (flag: string, value: string) => {
    const i = args.indexOf(flag);
    if (i >= 0) args[i + 1] = value;
    else args.push(flag, value);
  };
  set('--service', `models/${id}`);
  set('--model', id);
  set('--runtime', 'kserve');
  set('--rps', '10');
  set('--control-port', '0');
  set('--duration', '900');
  return spawn(platformGenerator.exe, args, {
    cwd: platformGenerator.cwd ?? path.dirname(args[0]!),
    stdio: 'ignore',
  });
}

/** A loopback port nothing listens on: a Prometheus that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise(r => server.close(r));
  return port;
}

describeIfPlatform('SLO analyses against the local platform', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
  let knex: Knex;
  let traffic: ChildProcess | undefined;
  const backends: Array<{ stop(): Promise<void> }> = [];

  async function backend(
    options: { prometheusUrl?: string; onInconclusive?: string } = {},
  ) {
    const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
    platform.modelops.environments.dev.analysis = {
      ...ANALYSIS,
      ...(options.onInconclusive
        ? { onInconclusive: options.onInconclusive }
        : {}),
    };
    if (options.prometheusUrl)
      platform.modelops.metrics.prometheus = {
        url: options.prometheusUrl,
        timeoutSeconds: 1,
      };
    const started = await startTestBackend({
      features: [
        modelOpsPlugin,
        mockServices.rootConfig.factory({ data: platform }),
        mockServices.database.factory({ knex }),
        // The real scheduler: analyses run as the global task they are in a
        // portal, across backends sharing the database.
        schedulerServiceFactory,
        mockServices.rootLogger.factory({ level: 'warn' }),
        catalogServiceMock.factory({ entities: [entity] }),
      ],
    });
    backends.push(started);
    return started;
  }

  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
  });

  afterAll(async () => {
    traffic?.kill();
    for (const b of backends) await b.stop().catch(() => {});
    await kubectl('dev', [
      'delete',
      '-n',
      'models',
      'deployment,service,hpa',
      '-l',
      `backstage.io/kubernetes-id=${id}`,
      '--wait=false',
    ]);
  });

  const deploy = (server: any, body: object) =>
    request(server)
      .post('/api/modelops/deployments')
      .send({ entityRef, environment: 'dev', ...body });

  const analysisOf = async (server: any, deploymentId: string) => {
    const res = await request(server).get(
      `/api/modelops/deployments/${deploymentId}/analysis`,
    );
    expect(res.status).toBe(200);
    return res.body;
  };

  const ended = (server: any, deploymentId: string, timeoutMs = 240_000) =>
    waitFor(
      `the analysis of ${deploymentId} to end`,
      async () => {
        const a = await analysisOf(server, deploymentId);
        // Ended: passed, cancelled, or its rollback applied.
        return a.finishedAt ? a : undefined;
      },
      { timeoutMs, intervalMs: 2000 },
    );

  const liveImage = async () =>
    (await kubectlGet('dev', 'models', 'deployment', id))?.spec.template.spec
      .containers[0].image;

  const availableAt = (server: any, revision: number) =>
    waitFor(
      `revision ${revision} to be Available`,
      async () => {
        const res = await request(server)
          .get('/api/modelops/deployments/status')
          .query({ entityRef });
        const dev = res.body.environments.find(
          (e: any) => e.environment === 'dev',
        );
        return dev.phase === 'Available' && dev.revision === revision
          ? dev
          : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );

  const history = async (server: any) =>
    (
      await request(server)
        .get('/api/modelops/deployments')
        .query({ entityRef, environment: 'dev', limit: 50 })
    ).body.items as any[];

  let server: any;

  it('deploys the first release without an analysis (none asked, none by default in dev)', async () => {
    server = (await backend()).server;
    const res = await deploy(server, { image: `${REPO}:0.1.0` });
    expect(res.status).toBe(201);
    expect(res.body.analysis).toBeUndefined();
    await availableAt(server, res.body.deployment.revision);
    traffic = startTraffic();
    const none = await request(server).get(
      `/api/modelops/deployments/${res.body.deployment.id}/analysis`,
    );
    expect(none.status).toBe(404);
  });

  it('passes a good release, which stays', async () => {
    const res = await deploy(server, {
      image: `${REPO}:0.1.1`,
      analysis: { durationSeconds: 60 },
    });
    expect(res.status).toBe(201);
    expect(res.body.analysis).toMatchObject({
      status: 'running',
      revision: res.body.deployment.revision,
      intervalSeconds: 5,
      window: '30s',
    });
    const a = await ended(server, res.body.deployment.id);
    expect(a).toMatchObject({ status: 'passed' });
    expect(a.conclusiveEvaluations).toBeGreaterThan(0);
    // Only the new revision's pods were read.
    expect(a.selector).toContain(`pod=~"${id}-`);
    expect(await liveImage()).toBe(`${REPO}:0.1.1`);
  });

  it('fails the faulty release on its error rate and rolls back to the good one by itself', async () => {
    const res = await deploy(server, {
      image: `${REPO}:0.1.3`,
      analysis: { durationSeconds: 180 },
    });
    expect(res.status).toBe(201);
    const revision = res.body.deployment.revision;
    const a = await ended(server, res.body.deployment.id);
    expect(a).toMatchObject({
      status: 'failed',
      breach: { signal: 'errorRate', threshold: 0.1 },
    });
    expect(a.breach.value).toBeGreaterThan(0.1);
    // The failing evaluation's own selector: the faulty revision's pods.
    expect(a.selector).toContain(`pod=~"${id}-`);
    expect(a.rollbackDeploymentId).toBeDefined();
    const [rollback] = await history(server);
    expect(rollback).toMatchObject({
      id: a.rollbackDeploymentId,
      action: 'rollback',
      automatic: true,
      image: `${REPO}:0.1.1`,
      result: 'succeeded',
    });
    expect(rollback.reason).toContain(
      `the analysis of revision ${revision} failed: errorRate`,
    );
    expect(await liveImage()).toBe(`${REPO}:0.1.1`);
    await availableAt(server, rollback.revision);
  });

  it('leaves an analysis whose backend stopped to the next backend, which rolls back once', async () => {
    const res = await deploy(server, {
      image: `${REPO}:0.1.3`,
      analysis: { durationSeconds: 180 },
    });
    expect(res.status).toBe(201);
    const deploymentId = res.body.deployment.id;
    await backends.pop()!.stop();
    const row = await knex('modelops_analyses')
      .where({ deployment_id: deploymentId })
      .first();
    expect(row.status).toBe('running');

    server = (await backend()).server;
    const a = await ended(server, deploymentId);
    expect(a).toMatchObject({
      status: 'failed',
      breach: { signal: 'errorRate', threshold: 0.1 },
    });
    const rollbacks = (await history(server)).filter(
      d =>
        d.automatic &&
        d.reason.includes(`revision ${res.body.deployment.revision} failed`),
    );
    expect(rollbacks).toHaveLength(1);
    expect(await liveImage()).toBe(`${REPO}:0.1.1`);
  });

  it('cancels a running analysis when another deploy replaces its revision', async () => {
    const first = await deploy(server, {
      image: `${REPO}:0.1.0`,
      analysis: { durationSeconds: 600 },
    });
    expect(first.status).toBe(201);
    const second = await deploy(server, { image: `${REPO}:0.1.1` });
    expect(second.status).toBe(201);
    const a = await analysisOf(server, first.body.deployment.id);
    expect(a).toMatchObject({
      status: 'cancelled',
      cancelledBy: expect.stringMatching(/^user:/),
    });
    expect(a.message).toContain(
      `deploy to revision ${second.body.deployment.revision}`,
    );
    await availableAt(server, second.body.deployment.revision);
  });

  it('ends inconclusive without Prometheus, and keeps the release as configured', async () => {
    await backends.pop()!.stop();
    server = (
      await backend({ prometheusUrl: `http://127.0.0.1:${await closedPort()}` })
    ).server;
    const res = await deploy(server, {
      image: `${REPO}:0.1.0`,
      analysis: { durationSeconds: 30 },
    });
    expect(res.status).toBe(201);
    const a = await ended(server, res.body.deployment.id);
    expect(a.status).toBe('inconclusive');
    expect(a.conclusiveEvaluations).toBe(0);
    expect(a.message).toContain('the release stays');
    expect(await liveImage()).toBe(`${REPO}:0.1.0`);
  });

  it('rolls back an inconclusive release where the environment says so', async () => {
    await backends.pop()!.stop();
    server = (
      await backend({
        prometheusUrl: `http://127.0.0.1:${await closedPort()}`,
        onInconclusive: 'rollback',
      })
    ).server;
    const res = await deploy(server, {
      image: `${REPO}:0.1.1`,
      analysis: { durationSeconds: 30 },
    });
    expect(res.status).toBe(201);
    const a = await ended(server, res.body.deployment.id);
    expect(a).toMatchObject({ status: 'inconclusive' });
    expect(a.rollbackDeploymentId).toBeDefined();
    expect(a.message).toContain('rolled back, as configured');
    expect(await liveImage()).toBe(`${REPO}:0.1.0`);
  });

  describe('canary releases', () => {
    const canaryName = `${id}-canary`;
    /** The stable Deployment's ReplicaSets: name, image, and whether it is the current one. */
    const stableReplicaSets = async () => {
      const res = await kubectl('dev', [
        'get',
        '-n',
        'models',
        'replicasets',
        '-l',
        `backstage.io/kubernetes-id=${id}`,
        '-o',
        'json',
      ]);
      expect(res.code).toBe(0);
      const current = (await kubectlGet('dev', 'models', 'deployment', id))
        .metadata.annotations['deployment.kubernetes.io/revision'];
      return (JSON.parse(res.stdout).items as any[])
        .filter(r => r.metadata.ownerReferences?.[0]?.name === id)
        .map(r => ({
          name: r.metadata.name as string,
          image: r.spec.template.spec.containers[0].image as string,
          current:
            r.metadata.annotations['deployment.kubernetes.io/revision'] ===
            current,
        }))
        .sort((x, y) => x.name.localeCompare(y.name));
    };
    const canaryGone = () =>
      waitFor(
        `${canaryName} to be deleted`,
        async () =>
          (await kubectlGet('dev', 'models', 'deployment', canaryName))
            ? undefined
            : true,
        { timeoutMs: 60_000, intervalMs: 1000 },
      );

    beforeAll(async () => {
      await backends.pop()!.stop();
      server = (await backend()).server;
      const [last] = await history(server);
      await availableAt(server, last.revision);
    });

    it('refuses a canary without an analysis, or of more than 50 %, applying nothing', async () => {
      const before = (await history(server)).length;
      const noAnalysis = await deploy(server, {
        image: `${REPO}:0.1.1`,
        analysis: { durationSeconds: 0, canaryPercent: 25 },
      });
      expect(noAnalysis.status).toBe(400);
      expect(noAnalysis.body.error.message).toContain(
        'a canary is judged by its analysis',
      );
      const tooBig = await deploy(server, {
        image: `${REPO}:0.1.1`,
        analysis: { durationSeconds: 60, canaryPercent: 80 },
      });
      expect(tooBig.status).toBe(400);
      expect(
        await kubectlGet('dev', 'models', 'deployment', canaryName),
      ).toBeFalsy();
      // Refused before anything was applied: the refusal is recorded, nothing else.
      const after = await history(server);
      expect(after.length - before).toBeLessThanOrEqual(1);
      expect(after[0].result).toBe('failed');
    });

    it('promotes a good canary to the stable Deployment once its analysis passes', async () => {
      const stableImage = await liveImage();
      const res = await deploy(server, {
        image: `${REPO}:0.1.1`,
        analysis: { durationSeconds: 40, canaryPercent: 25 },
      });
      expect(res.status).toBe(201);
      // Two stable pods: one canary pod is the nearest whole pod to 25 %.
      expect(res.body.analysis.canary).toEqual({
        percent: 25,
        replicas: 1,
        stableReplicas: 2,
        share: 1 / 3,
        deployments: [canaryName],
      });
      expect(res.body.diff.map((d: any) => d.name)).toEqual([canaryName]);
      const canary = await kubectlGet(
        'dev',
        'models',
        'deployment',
        canaryName,
      );
      expect(canary.spec.replicas).toBe(1);
      expect(canary.spec.template.spec.containers[0].image).toBe(
        `${REPO}:0.1.1`,
      );
      expect(await liveImage()).toBe(stableImage);

      const a = await ended(server, res.body.deployment.id);
      expect(a).toMatchObject({
        status: 'passed',
        canary: { outcome: 'promoted' },
      });
      expect(a.message).toContain('promoted to the stable Deployments');
      // Compared with the stable pods on the same signals.
      expect(a.canary.stableSelector).toContain(`pod=~"${id}-`);
      expect(
        a.canary.stableSignals.find((x: any) => x.signal === 'errorRate'),
      ).toBeDefined();
      expect(await liveImage()).toBe(`${REPO}:0.1.1`);
      await canaryGone();
      await availableAt(server, res.body.deployment.revision);
    });

    it('removes a faulty canary, the stable Deployment never changing, and records the rollback', async () => {
      const stableBefore = await stableReplicaSets();
      const res = await deploy(server, {
        image: `${REPO}:0.1.3`,
        analysis: { durationSeconds: 180, canaryPercent: 25 },
      });
      expect(res.status).toBe(201);
      const revision = res.body.deployment.revision;
      const a = await ended(server, res.body.deployment.id);
      expect(a).toMatchObject({
        status: 'failed',
        breach: { signal: 'errorRate', threshold: 0.1 },
        canary: { outcome: 'removed', replicas: 1 },
      });
      expect(a.message).toContain('the canary was removed');
      await canaryGone();
      // The stable Deployment's pods never changed: the same ReplicaSets
      // (none made for the canary's release), the same one current.
      const stableAfter = await stableReplicaSets();
      expect(stableAfter).toEqual(stableBefore);
      expect(stableAfter.find(r => r.current)?.image).toBe(`${REPO}:0.1.1`);
      expect(await liveImage()).toBe(`${REPO}:0.1.1`);
      const [rollback] = await history(server);
      expect(rollback).toMatchObject({
        id: a.rollbackDeploymentId,
        action: 'rollback',
        automatic: true,
        image: `${REPO}:0.1.1`,
      });
      expect(rollback.reason).toContain(
        `the analysis of the canary of revision ${revision} failed`,
      );
      // A revision that only ran as a failed canary is not promoted.
      const status = await request(server)
        .get('/api/modelops/deployments/status')
        .query({ entityRef });
      expect(
        status.body.environments.find((e: any) => e.environment === 'dev')
          .canary,
      ).toBeUndefined();
    });

    it('removes a canary a user stops, and goes back in the history', async () => {
      const res = await deploy(server, {
        image: `${REPO}:0.1.0`,
        analysis: { durationSeconds: 600, canaryPercent: 10 },
      });
      expect(res.status).toBe(201);
      expect(
        await kubectlGet('dev', 'models', 'deployment', canaryName),
      ).toBeTruthy();
      const stop = await request(server)
        .post(
          `/api/modelops/deployments/${res.body.deployment.id}/analysis/cancel`,
        )
        .send({});
      expect(stop.status).toBe(200);
      expect(stop.body).toMatchObject({
        status: 'cancelled',
        canary: { outcome: 'removed' },
      });
      expect(stop.body.finishedAt).toBeDefined();
      expect(stop.body.rollbackDeploymentId).toBeDefined();
      await canaryGone();
      expect(await liveImage()).toBe(`${REPO}:0.1.1`);
      const [rollback] = await history(server);
      expect(rollback).toMatchObject({ action: 'rollback', automatic: true });
      expect(rollback.reason).toContain('stopped the canary');
    });
  });
});
