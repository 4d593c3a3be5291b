import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  APP_URL,
  BACKEND_URL,
  getJson,
  postJson,
  platformSecrets,
  signInWhenCatalogReady,
} from './support.ts';

describe('ModelOps API against the running portal and local platform', () => {
  let token: string;
  before(async () => {
    token = await signInWhenCatalogReady();
  });

  it('resolves the environments of a demo model service from both clusters', async () => {
    const { status, body } = await getJson(
      `${BACKEND_URL}/api/modelops/environments?entityRef=component:default/fraud-detector`,
      token,
    );
    assert.equal(status, 200);
    assert.equal(body.kubernetesId, 'fraud-detector');
    assert.equal(body.runtime, 'kserve');
    assert.deepEqual(body.problems, []);
    assert.deepEqual(
      body.environments.map((e: any) => [
        e.name,
        e.cluster,
        e.namespace,
        e.error,
      ]),
      [
        ['dev', 'dev', 'models', undefined],
        ['prod', 'prod', 'models', undefined],
      ],
    );
  });

  for (const [entityRef, status, message] of [
    ['not a ref', 400, 'Malformed entity ref "not a ref"'],
    [
      'component:default/does-not-exist',
      404,
      'component:default/does-not-exist',
    ],
    [
      'group:default/team-risk',
      400,
      'group:default/team-risk is not a model service',
    ],
  ] as const) {
    it(`answers ${status} for ${entityRef} with a message naming it`, async () => {
      const res = await getJson(
        `${BACKEND_URL}/api/modelops/environments?entityRef=${encodeURIComponent(
          entityRef,
        )}`,
        token,
      );
      assert.equal(res.status, status);
      assert.match(
        res.body.error.message,
        new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
      );
    });
  }

  it('refuses requests without a token', async () => {
    const res = await fetch(
      `${BACKEND_URL}/api/modelops/environments?entityRef=component:default/fraud-detector`,
    );
    assert.equal(res.status, 401);
  });

  it('lets the demo user deploy what her team owns, and nothing else', async () => {
    const res = await postJson(
      `${BACKEND_URL}/api/permission/authorize`,
      token,
      {
        items: ['fraud-detector', 'churn-predictor', 'image-classifier'].map(
          name => ({
            id: name,
            permission: {
              type: 'resource',
              name: 'modelops.deployment.create',
              attributes: { action: 'create' },
              resourceType: 'catalog-entity',
            },
            resourceRef: `component:default/${name}`,
          }),
        ),
      },
    );
    assert.equal(res.status, 200);
    const { items } = res.body as {
      items: { id: string; result: string }[];
    };
    assert.deepEqual(Object.fromEntries(items.map(i => [i.id, i.result])), {
      'fraud-detector': 'ALLOW',
      'churn-predictor': 'DENY',
      'image-classifier': 'DENY',
    });
  });

  it('refuses a real deploy of a service the demo user does not own', async () => {
    const res = await postJson(
      `${BACKEND_URL}/api/modelops/deployments`,
      token,
      {
        entityRef: 'component:default/churn-predictor',
        environment: 'dev',
        image: 'registry.modelops.local/growth/churn-predictor:9.9.9',
      },
    );
    assert.equal(res.status, 403);
    const body = res.body;
    assert.match(
      body.error.message,
      /You may not deploy component:default\/churn-predictor/,
    );
    const history = await getJson(
      `${BACKEND_URL}/api/modelops/deployments?entityRef=component:default/churn-predictor`,
      token,
    );
    assert.deepEqual(history.body.items, []);
  });

  it('previews a deploy of an owned service as a server-side diff', async () => {
    const res = await postJson(
      `${BACKEND_URL}/api/modelops/deployments`,
      token,
      {
        entityRef: 'component:default/fraud-detector',
        environment: 'prod',
        image: 'registry.modelops.local/risk/fraud-detector:0.2.0',
        dryRun: true,
      },
    );
    assert.equal(res.status, 200);
    const body = res.body;
    assert.equal(body.deployment.dryRun, true);
    const deployment = body.diff.find((d: any) => d.kind === 'Deployment');
    assert.equal(deployment.operation, 'update');
    assert.ok(
      deployment.changes.some(
        (c: any) =>
          c.path === 'spec.template.spec.containers[0].image' &&
          c.after === 'registry.modelops.local/risk/fraud-detector:0.2.0',
      ),
    );
  });

  it('serves the official Kubernetes plugin the same clusters, without errors', async () => {
    const entity = await getJson(
      `${BACKEND_URL}/api/catalog/entities/by-name/component/default/fraud-detector`,
      token,
    );
    const res = await postJson(
      `${BACKEND_URL}/api/kubernetes/services/fraud-detector`,
      token,
      { entity: entity.body },
    );
    assert.equal(res.status, 200);
    const { items } = res.body;
    assert.deepEqual(items.map((i: any) => i.cluster.name).sort(), [
      'dev',
      'prod',
    ]);
    for (const item of items) {
      assert.deepEqual(
        item.errors,
        [],
        `${item.cluster.name} answers without errors`,
      );
      const pods = item.resources.find((r: any) => r.type === 'pods');
      assert.ok(pods.resources.length >= 1, `${item.cluster.name} has pods`);
    }
  });

  it("reads a service's health per environment from Prometheus and the clusters", async () => {
    const deadline = Date.now() + 90_000;
    let body: any;
    for (;;) {
      const res = await getJson(
        `${BACKEND_URL}/api/modelops/health?entityRef=component:default/fraud-detector`,
        token,
      );
      assert.equal(res.status, 200);
      body = res.body;
      // Traffic and drift read in both: the analysis suite rolls dev out
      // meanwhile, and new pods' drift gauges take a scrape to appear.
      const read = body.environments.every((e: any) => {
        const of = (name: string) =>
          e.signals.find((s: any) => s.signal === name);
        return of('requestRate')?.value > 0 && of('drift')?.value !== undefined;
      });
      if (read || Date.now() > deadline) break;
      await new Promise(r => setTimeout(r, 2000));
    }
    assert.deepEqual(
      body.environments.map((e: any) => e.environment),
      ['dev', 'prod'],
    );
    for (const env of body.environments) {
      const signals = Object.fromEntries(
        env.signals.map((s: any) => [s.signal, s]),
      );
      assert.ok(
        signals.requestRate.value > 0,
        `${env.environment} has traffic`,
      );
      // fraud-detector's modelops/slo: latency-p95-ms=250, error-rate=0.01, drift-psi=0.2
      assert.equal(signals.latencyP95.critical, 0.25);
      assert.equal(signals.errorRate.critical, 0.01);
      assert.equal(
        signals.drift.critical,
        0.2,
        `${env.environment} drift: ${JSON.stringify(signals.drift)}`,
      );
      assert.equal(signals.readyRatio.value, 1);
    }
  });

  it('judges every demo model service in one overview request', async () => {
    const res = await postJson(
      `${BACKEND_URL}/api/modelops/health/query`,
      token,
      {},
    );
    assert.equal(res.status, 200);
    const refs = res.body.items.map((i: any) => i.entityRef);
    for (const name of [
      'fraud-detector',
      'churn-predictor',
      'image-classifier',
    ])
      assert.ok(refs.includes(`component:default/${name}`), `lists ${name}`);
    const fraud = res.body.items.find(
      (i: any) => i.entityRef === 'component:default/fraud-detector',
    );
    assert.deepEqual(
      fraud.environments.map((e: any) => e.environment),
      ['dev', 'prod'],
    );
    assert.ok(fraud.environments[1].values.requestRate > 0, 'prod has traffic');
    assert.equal(fraud.environments[1].values.readyRatio, 1);
    assert.ok(!Number.isNaN(Date.parse(res.body.generatedAt)));
  });

  it("charts a service's signals over the last 15 minutes", async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 15 * 60_000);
    const res = await getJson(
      `${BACKEND_URL}/api/modelops/metrics?entityRef=component:default/fraud-detector&environment=prod&start=${start.toISOString()}&end=${end.toISOString()}`,
      token,
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.step, 15);
    const rate = res.body.signals.find((s: any) => s.signal === 'requestRate');
    assert.equal(rate.series.length, 1);
    assert.ok(rate.series[0].points.length > 0, 'traffic has points');
    const p95 = res.body.signals.find((s: any) => s.signal === 'latencyP95');
    assert.equal(p95.critical, 0.25);
    assert.ok(Array.isArray(res.body.deploys));
  });

  it('never sends cluster credentials to the browser', async () => {
    const secrets = platformSecrets();
    assert.ok(
      secrets.length >= 2,
      'the platform config holds the cluster tokens',
    );
    const html = await (await fetch(`${APP_URL}/`)).text();
    const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map(
      m => m[1]!,
    );
    assert.ok(scripts.length > 0);
    const served = [html];
    for (const src of scripts) {
      served.push(await (await fetch(new URL(src, APP_URL))).text());
    }
    const api = await getJson(
      `${BACKEND_URL}/api/modelops/environments?entityRef=component:default/fraud-detector`,
      token,
    );
    served.push(JSON.stringify(api.body));
    for (const secret of secrets) {
      for (const text of served) {
        assert.ok(
          !text.includes(secret),
          'a cluster token reached the browser',
        );
      }
    }
  });
});
