/*
 * GET /health through the plugin, against the local platform: the demo model
 * servers' series in the platform's real Prometheus, the pods' readiness from
 * its real clusters. A Prometheus that is down (a closed port) makes the
 * metric signals unknown with the reason while readiness still answers;
 * annotations that would change what a query selects are a 400 and never
 * reach Prometheus.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import fs from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { parse } from 'yaml';
import path from 'node:path';
import {
  explainSkip,
  PLATFORM_CONFIG,
  platformAvailable,
  waitFor,
} from '../deploy/testUtils/platform';

/** Prometheus' query log (test/platform: global.query_log_file). */
const QUERY_LOG = path.join(
  path.dirname(PLATFORM_CONFIG),
  'prometheus',
  'query.log',
);
import { modelOpsPlugin } from '../plugin';

const available = platformAvailable();
if (!available) explainSkip('health.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

jest.setTimeout(180_000);

function service(name: string, annotations: Record<string, string>): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': name,
        'backstage.io/kubernetes-namespace': 'models',
        ...annotations,
      },
    },
    spec: {
      type: 'model-service',
      owner: 'group:default/team-it',
      lifecycle: 'experimental',
    },
  };
}

// The demo services as the portal's catalog has them (examples/model-services.yaml).
const fraud = service('fraud-detector', {
  'modelops/runtime': 'kserve',
  'modelops/slo': 'latency-p95-ms=250,error-rate=0.01,drift-psi=0.2',
});
const classifier = service('image-classifier', {
  'modelops/runtime': 'triton',
  'modelops/slo': 'latency-p95-ms=300,error-rate=0.01',
});
const hostile = [
  service('hostile-selector', {
    'modelops/metrics-selector': 'team="a"} or vector(1) or {b="',
  }),
  service('hostile-regex', { 'modelops/metrics-selector': 'team=~".+"' }),
  {
    ...service('hostile-id', {}),
    metadata: {
      name: 'hostile-id',
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': 'x"} or up{a="',
        'backstage.io/kubernetes-namespace': 'models',
      },
    },
  },
  service('hostile-namespace', {
    'backstage.io/kubernetes-namespace': 'models"}\nor up',
  }),
];

async function backend(options: {
  prometheusUrl?: string;
  /** Denies modelops.metrics.read for every entity. */
  deny?: boolean;
  /** Entity refs whose catalog.entity.read is denied. */
  hidden?: string[];
  /** Allow modelops.metrics.read on these refs only. */
  allowOnly?: string[];
  /** The policy's answer for every entity at once; per-entity decisions then fail the test. */
  whole?: AuthorizeResult.ALLOW | AuthorizeResult.DENY;
  /** The catalog; the demo services and the hostile ones by default. */
  entities?: Entity[];
  /** modelops.metrics.querySets. */
  querySets?: object;
}): Promise<any> {
  const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
  if (options.querySets)
    platform.modelops.metrics.querySets = options.querySets;
  if (options.prometheusUrl)
    platform.modelops.metrics.prometheus = {
      url: options.prometheusUrl,
      timeoutSeconds: 1,
    };
  const features: any[] = [
    modelOpsPlugin,
    mockServices.rootConfig.factory({ data: platform }),
    catalogServiceMock.factory({
      entities: options.entities ?? [fraud, classifier, ...hostile],
    }),
  ];
  if (options.allowOnly)
    features.push(
      mockServices.permissions.mock({
        // Conditional for the whole catalog: decided per entity.
        authorizeConditional: async requests =>
          requests.map(() => ({
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'catalog',
            resourceType: 'catalog-entity',
            conditions: { rule: 'IS_ENTITY_OWNER', params: {} },
          })) as any,
        authorize: async requests =>
          requests.map(r => ({
            result: options.allowOnly!.includes((r as any).resourceRef)
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
          })),
      }).factory,
    );
  if (options.whole)
    features.push(
      mockServices.permissions.mock({
        authorizeConditional: async requests =>
          requests.map(() => ({ result: options.whole! })),
        authorize: async () => {
          throw new Error('asked per entity although the policy decided');
        },
      }).factory,
    );
  // A policy that denies what `denied` says and allows the rest.
  const denying = (denied: (r: any) => boolean) =>
    mockServices.permissions.mock({
      authorize: async requests =>
        requests.map(r => ({
          result: denied(r) ? AuthorizeResult.DENY : AuthorizeResult.ALLOW,
        })),
    }).factory;
  // Only the read of metrics: the caller still sees the entities.
  if (options.deny)
    features.push(denying(r => r.permission.name === 'modelops.metrics.read'));
  // The catalog's read permission denies the entities named.
  if (options.hidden)
    features.push(
      denying(
        r =>
          r.permission.name === 'catalog.entity.read' &&
          options.hidden!.includes(r.resourceRef),
      ),
    );
  return (await startTestBackend({ features })).server;
}

const health = (server: any, name: string) =>
  request(server)
    .get('/api/modelops/health')
    .query({ entityRef: `component:default/${name}` });

describeIfPlatform("drift from the demo servers' input histograms", () => {
  it('reads the histograms when a runtime has no drift gauges, and says what anchors the reference', async () => {
    // As for a server that exports input histograms but no PSI gauges: the
    // operator's drift template selects a gauge nobody exports.
    const server = await backend({
      entities: [fraud],
      querySets: {
        kserve: {
          featureDrift:
            'max by ($by, feature) (modelops_no_such_psi{$matchers})',
          predictionDrift: 'max by ($by) (modelops_no_such_psi{$matchers})',
        },
      },
    });
    const res = await health(server, 'fraud-detector');
    expect(res.status).toBe(200);
    const drift = res.body.environments[0].signals.find(
      (s: any) => s.signal === 'drift',
    );
    // The demo services run revisions the platform applied, not ModelOps
    // deploys of this backend's database: the histograms are there, the
    // anchor is not, and the answer says so instead of guessing one.
    expect(drift).toEqual(
      expect.objectContaining({
        status: 'unknown',
        reason: expect.stringMatching(
          /^input histograms are exported, but (revision \d+ in dev was not deployed through ModelOps|no running revision in dev anchors)/,
        ),
      }),
    );

    // The overview reads the same histograms, for every service without
    // gauges at once: one grouped query, in Prometheus' own log.
    const before = fs.readFileSync(QUERY_LOG, 'utf8').length;
    const overview = await request(server)
      .post('/api/modelops/health/query')
      .send({});
    expect(overview.status).toBe(200);
    const [item] = overview.body.items;
    expect(item.entityRef).toBe('component:default/fraud-detector');
    for (const env of item.environments)
      expect(env.values.drift).toBeUndefined();
    const asked = fs.readFileSync(QUERY_LOG, 'utf8').slice(before);
    expect(asked).toMatch(
      /modelops_feature_value_bucket\{backstage_io_kubernetes_id!=\\"\\"\}.*unless on \(backstage_io_kubernetes_id, cluster, namespace\)/,
    );
  });
});

describeIfPlatform('GET /health against the local platform', () => {
  let server: any;
  beforeAll(async () => {
    server = await backend({});
  });

  it('judges every signal of a KServe service in both environments', async () => {
    const body = await waitFor(
      'a request rate in both environments',
      async () => {
        const res = await health(server, 'fraud-detector');
        expect(res.status).toBe(200);
        return res.body.environments.every(
          (e: any) =>
            e.signals.find((s: any) => s.signal === 'requestRate')?.value > 0,
        )
          ? res.body
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2000 },
    );
    expect(body).toMatchObject({
      entityRef: 'component:default/fraud-detector',
      window: '5m',
    });
    expect(body.environments.map((e: any) => e.environment)).toEqual([
      'dev',
      'prod',
    ]);
    const dev = body.environments[0];
    expect(dev.selector).toBe(
      '{cluster="dev",namespace="models",backstage_io_kubernetes_id="fraud-detector"}',
    );
    const bySignal = Object.fromEntries(
      dev.signals.map((s: any) => [s.signal, s]),
    );
    expect(Object.keys(bySignal)).toEqual([
      'requestRate',
      'errorRate',
      'latencyP95',
      'drift',
      'readyRatio',
    ]);
    expect(bySignal.errorRate).toMatchObject({
      unit: 'ratio',
      critical: 0.01,
      warning: 0.008,
    });
    expect(bySignal.errorRate.value).toBeGreaterThanOrEqual(0);
    expect(bySignal.latencyP95).toMatchObject({
      unit: 'seconds',
      critical: 0.25,
    });
    expect(bySignal.latencyP95.value).toBeGreaterThan(0);
    expect(bySignal.drift).toMatchObject({
      unit: 'psi',
      critical: 0.2,
      warning: 0.1,
    });
    expect(bySignal.drift.detail).toMatch(/^(feature \w+|predictions)$/);
    expect(bySignal.readyRatio).toMatchObject({ value: 1, status: 'ok' });
    for (const s of dev.signals)
      expect(['ok', 'warning', 'critical']).toContain(s.status);
  });

  it("says why Triton's latency has no percentile, and shows its mean", async () => {
    const res = await health(server, 'image-classifier');
    expect(res.status).toBe(200);
    const mean = res.body.environments[0].signals.find(
      (s: any) => s.signal === 'latencyMean',
    );
    expect(mean).toMatchObject({ unit: 'seconds', status: 'ok' });
    expect(mean.value).toBeGreaterThan(0);
    expect(mean.reason).toContain('summaries');
    expect(
      res.body.environments[0].signals.some(
        (s: any) => s.signal === 'latencyP95',
      ),
    ).toBe(false);
  });

  it.each(hostile.map(e => e.metadata.name))(
    'refuses %s with a 400 naming the annotation',
    async name => {
      const res = await health(server, name);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(
        /Cannot read the metrics of component:default\/hostile-\w+ until its annotations are fixed: (modelops\/metrics-selector|backstage\.io\/kubernetes-id|backstage\.io\/kubernetes-namespace) /,
      );
    },
  );

  it('never lets a hostile annotation reach Prometheus (its query log)', async () => {
    const log = fs.readFileSync(QUERY_LOG, 'utf8');
    // The log has the queries of the tests above, so it is not empty.
    expect(log).toContain('backstage_io_kubernetes_id=\\"fraud-detector\\"');
    for (const fragment of ['vector(1)', 'hostile', '=~\\".+\\"', 'or up']) {
      expect(log).not.toContain(fragment);
    }
  });

  it('answers 403 to a caller without modelops.metrics.read', async () => {
    const denied = await backend({ deny: true });
    const res = await health(denied, 'fraud-detector');
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('modelops.metrics.read');
  });

  it('answers 404, as for a missing entity, to a caller who may not see the entity', async () => {
    const hiding = await backend({
      hidden: ['component:default/fraud-detector'],
    });
    const missing = await health(hiding, 'no-such-service');
    for (const res of [
      await health(hiding, 'fraud-detector'),
      await request(hiding).get('/api/modelops/metrics').query({
        entityRef: 'component:default/fraud-detector',
        environment: 'dev',
      }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe(
        missing.body.error.message.replace('no-such-service', 'fraud-detector'),
      );
    }
    // Another entity of the same catalog is still read.
    expect((await health(hiding, 'image-classifier')).status).toBe(200);
  });
});

describeIfPlatform('GET /health when Prometheus is down', () => {
  it('makes the metric signals unknown with the reason, and still answers readiness', async () => {
    const closed = createServer();
    await new Promise<void>(r => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise(r => closed.close(r));
    const server = await backend({ prometheusUrl: `http://127.0.0.1:${port}` });
    const res = await health(server, 'fraud-detector');
    expect(res.status).toBe(200);
    const dev = res.body.environments[0];
    expect(dev.status).toBe('unknown');
    const bySignal = Object.fromEntries(
      dev.signals.map((s: any) => [s.signal, s]),
    );
    for (const signal of ['requestRate', 'errorRate', 'latencyP95', 'drift'])
      expect(bySignal[signal]).toEqual({
        signal,
        unit: expect.any(String),
        status: 'unknown',
        reason: `Prometheus at http://127.0.0.1:${port} is unreachable: ECONNREFUSED`,
      });
    expect(bySignal.readyRatio).toMatchObject({ status: 'ok', value: 1 });
  });
});

/** Lines of Prometheus' query log that come from the overview's grouped queries. */
function groupedQueriesLogged(): number {
  return fs
    .readFileSync(QUERY_LOG, 'utf8')
    .split('\n')
    .filter(l => l.includes('backstage_io_kubernetes_id!=\\"\\"')).length;
}

const queryHealth = (server: any, body: object) =>
  request(server).post('/api/modelops/health/query').send(body);

describeIfPlatform('POST /health/query against the local platform', () => {
  // Services with no series and no workloads: what a large catalog adds.
  const bulk = Array.from({ length: 300 }, (_, i) =>
    service(`bulk-${i}`, {
      'modelops/runtime': i % 2 ? 'kserve' : 'triton',
    }),
  );

  it('judges every model service the caller may see, worst first, with the demo services live', async () => {
    const server = await backend({});
    const res = await waitFor(
      'a request rate for fraud-detector',
      async () => {
        const r = await queryHealth(server, {});
        expect(r.status).toBe(200);
        const f = r.body.items.find(
          (i: any) => i.entityRef === 'component:default/fraud-detector',
        );
        return f?.environments.every((e: any) => e.values.requestRate > 0)
          ? r
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2000 },
    );
    const byRef = Object.fromEntries(
      res.body.items.map((i: any) => [i.entityRef, i]),
    );
    expect(Object.keys(byRef).sort()).toEqual(
      [fraud, classifier, ...hostile]
        .map(e => `component:default/${e.metadata.name}`)
        .sort(),
    );
    const f = byRef['component:default/fraud-detector'];
    expect(f).toMatchObject({
      owner: 'group:default/team-it',
      lifecycle: 'experimental',
      runtime: 'kserve',
    });
    expect(f.environments.map((e: any) => e.environment)).toEqual([
      'dev',
      'prod',
    ]);
    const dev = f.environments[0];
    expect(dev.values.latencyP95).toBeGreaterThan(0);
    expect(dev.values.errorRate).toBeGreaterThanOrEqual(0);
    expect(dev.values.drift).toBeGreaterThanOrEqual(0);
    expect(dev.values.readyRatio).toBe(1);
    // Triton has a mean, not a p95.
    const triton = byRef['component:default/image-classifier'].environments[0];
    expect(triton.values.latencyMean).toBeGreaterThan(0);
    expect(triton.values.latencyP95).toBeUndefined();
    // A hostile annotation makes its service unknown with the reason; it
    // does not fail the others.
    expect(byRef['component:default/hostile-regex']).toMatchObject({
      status: 'unknown',
      environments: [],
      error: {
        reason: 'InvalidAnnotations',
        message: expect.stringContaining('modelops/metrics-selector'),
      },
    });
    // Worst first.
    const RANK: Record<string, number> = {
      ok: 0,
      unknown: 1,
      warning: 2,
      critical: 3,
    };
    const ranks = res.body.items.map((i: any) => RANK[i.status]);
    expect([...ranks].sort((a, b) => b - a)).toEqual(ranks);
    expect(Date.parse(res.body.generatedAt)).toBeLessThanOrEqual(Date.now());
  });

  it('costs the same number of Prometheus queries for 2 services and for 302, and shares them between callers', async () => {
    const small = await backend({ entities: [fraud, classifier] });
    let before = groupedQueriesLogged();
    expect((await queryHealth(small, {})).status).toBe(200);
    const forTwo = groupedQueriesLogged() - before;

    const large = await backend({ entities: [fraud, classifier, ...bulk] });
    before = groupedQueriesLogged();
    const res = await queryHealth(large, {});
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(302);
    const forMany = groupedQueriesLogged() - before;
    expect(forTwo).toBeGreaterThan(0);
    expect(forMany).toBe(forTwo);
    // Per runtime its own rate, errors and latency; drift, and the input
    // histograms of services without drift gauges, once for all.
    expect(forMany).toBeLessThanOrEqual(9);
    // The services without series say so, with their own selector.
    const quiet = res.body.items.find(
      (i: any) => i.entityRef === 'component:default/bulk-1',
    );
    expect(quiet.status).toBe('unknown');
    expect(quiet.environments[0].reason).toBe(
      'no series match {cluster="dev",namespace="models",backstage_io_kubernetes_id="bulk-1"}',
    );

    // A second viewer within the cache's 30 s costs nothing upstream.
    before = groupedQueriesLogged();
    const again = await queryHealth(large, {});
    expect(again.status).toBe(200);
    expect(groupedQueriesLogged() - before).toBe(0);
    expect(again.body.generatedAt).toBe(res.body.generatedAt);
  });

  it('reads only the named refs, or what a catalog filter selects; unknown refs are absent', async () => {
    const server = await backend({});
    const named = await queryHealth(server, {
      entityRefs: [
        'component:default/fraud-detector',
        'component:default/nope',
      ],
    });
    expect(named.status).toBe(200);
    expect(named.body.items.map((i: any) => i.entityRef)).toEqual([
      'component:default/fraud-detector',
    ]);
    const filtered = await queryHealth(server, {
      filter: { 'metadata.name': ['image-classifier'] },
    });
    expect(filtered.status).toBe(200);
    expect(filtered.body.items.map((i: any) => i.entityRef)).toEqual([
      'component:default/image-classifier',
    ]);
  });

  it('leaves out services whose metrics the caller may not read', async () => {
    const server = await backend({
      allowOnly: ['component:default/image-classifier'],
    });
    const res = await queryHealth(server, {});
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: any) => i.entityRef)).toEqual([
      'component:default/image-classifier',
    ]);
  });

  it.each([
    [AuthorizeResult.ALLOW, 2],
    [AuthorizeResult.DENY, 0],
  ] as const)(
    'asks once when the policy decides for every entity (%s: %i services)',
    async (whole, count) => {
      const server = await backend({ whole, entities: [fraud, classifier] });
      const res = await queryHealth(server, {
        entityRefs: [
          'component:default/fraud-detector',
          'component:default/image-classifier',
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(count);
    },
  );

  it.each([
    [{ entityRefs: ['component:'] }, /Malformed entity ref "component:"/],
    [{ filter: { 'spec.owner")': 'x' } }, /Invalid catalog filter key/],
    [
      { entityRefs: ['component:default/a'], filter: { 'spec.owner': 'x' } },
      /not both/,
    ],
    [{ entityRefs: 'component:default/a' }, /entityRefs/],
    [{ sql: 'drop table' }, /must NOT have additional properties/],
  ])('refuses %j with a 400', async (body, message) => {
    const server = await backend({});
    const res = await queryHealth(server, body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });
});

describeIfPlatform('GET /metrics against the local platform', () => {
  let server: any;
  beforeAll(async () => {
    server = await backend({});
  });
  const metrics = (query: Record<string, unknown>) =>
    request(server)
      .get('/api/modelops/metrics')
      .query({ entityRef: 'component:default/fraud-detector', ...query });

  it('charts every signal of the last 15 minutes with the SLO lines', async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 15 * 60_000);
    const res = await metrics({
      environment: 'dev',
      start: start.toISOString(),
      end: end.toISOString(),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      entityRef: 'component:default/fraud-detector',
      environment: 'dev',
      selector:
        '{cluster="dev",namespace="models",backstage_io_kubernetes_id="fraud-detector"}',
      step: 15,
      deploys: expect.any(Array),
    });
    const bySignal = Object.fromEntries(
      res.body.signals.map((s: any) => [s.signal, s]),
    );
    expect(Object.keys(bySignal)).toEqual([
      'requestRate',
      'errorRate',
      'latencyP50',
      'latencyP95',
      'latencyP99',
      'predictionsByClass',
      'featureDrift',
      'predictionDrift',
      'replicas',
    ]);
    // Pods answering scrapes: whole numbers, at least the one serving traffic.
    expect(bySignal.replicas.unit).toBe('pods');
    const pods = bySignal.replicas.series[0].points.at(-1)[1];
    expect(Number.isInteger(pods) && pods >= 1).toBe(true);
    const rate = bySignal.requestRate;
    expect(rate.series).toHaveLength(1);
    expect(rate.series[0].labels).toEqual({});
    // Points on the 15 s grid of the range (as many as Prometheus has had
    // time to scrape since the platform came up).
    const from = Math.floor(start.getTime() / 1000);
    expect(rate.series[0].points.length).toBeGreaterThan(0);
    expect(rate.series[0].points.length).toBeLessThanOrEqual(61);
    for (const [t, v] of rate.series[0].points) {
      expect(t).toBeGreaterThanOrEqual(from);
      expect((t - from) % 15).toBe(0);
      expect(v).toBeGreaterThan(0);
    }
    expect(bySignal.latencyP95).toMatchObject({
      critical: 0.25,
      unit: 'seconds',
    });
    expect(bySignal.featureDrift.critical).toBe(0.2);
    // Drift per feature: one series each, told apart by the feature label.
    expect(bySignal.featureDrift.series.length).toBeGreaterThan(1);
    for (const s of bySignal.featureDrift.series)
      expect(Object.keys(s.labels)).toEqual(['feature']);
  });

  it.each([
    [{ environment: 'staging' }, /Unknown environment "staging"/],
    [
      { environment: 'dev', start: 'an hour ago' },
      /start must be an RFC 3339 time/,
    ],
    [
      {
        environment: 'dev',
        start: '2026-12-01T12:00:00Z',
        end: '2026-12-01T11:00:00Z',
      },
      /start must be before end/,
    ],
    [{ environment: 'dev', step: 0 }, /step/],
  ])('refuses %j with a 400', async (query, message) => {
    const res = await metrics(query);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });

  it('refuses a hostile selector with a 400 before any query', async () => {
    const res = await request(server).get('/api/modelops/metrics').query({
      entityRef: 'component:default/hostile-selector',
      environment: 'dev',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('modelops/metrics-selector');
    const log = fs.readFileSync(QUERY_LOG, 'utf8');
    for (const fragment of ['vector(1)', 'hostile', '=~\\".+\\"', 'or up'])
      expect(log).not.toContain(fragment);
  });
});
