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
  deny?: boolean;
}): Promise<any> {
  const platform = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
  if (options.prometheusUrl)
    platform.modelops.metrics.prometheus = {
      url: options.prometheusUrl,
      timeoutSeconds: 1,
    };
  const features: any[] = [
    modelOpsPlugin,
    mockServices.rootConfig.factory({ data: platform }),
    catalogServiceMock.factory({ entities: [fraud, classifier, ...hostile] }),
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

const health = (server: any, name: string) =>
  request(server)
    .get('/api/modelops/health')
    .query({ entityRef: `component:default/${name}` });

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
