/*
 * The default query sets and the Prometheus client against the local
 * platform's real Prometheus, which scrapes the demo model servers (one per
 * runtime: fraud-detector kserve, churn-predictor generic, image-classifier
 * triton). Also how the client fails: a closed port, a server that never
 * answers, a query Prometheus refuses, an answer over the limits.
 */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  explainSkip,
  platformAvailable,
  platformConfig,
  waitFor,
} from '../deploy/testUtils/platform';
import { PrometheusClient, PrometheusError } from './PrometheusClient';
import { DEFAULT_QUERY_SETS, renderQuery, Runtime, SIGNALS } from './queries';

const available = platformAvailable();
if (!available) explainSkip('prometheus.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

jest.setTimeout(120_000);

const DEMO: [string, Runtime][] = [
  ['fraud-detector', 'kserve'],
  ['churn-predictor', 'generic'],
  ['image-classifier', 'triton'],
];
const BY = ['backstage_io_kubernetes_id', 'cluster', 'namespace'];

describeIfPlatform('the query sets against the platform Prometheus', () => {
  let client: PrometheusClient;
  let url: string;

  beforeAll(() => {
    url = platformConfig().getString('modelops.metrics.prometheus.url');
    client = new PrometheusClient({
      url,
      timeoutMs: 5000,
      maxResponseBytes: 1 << 20,
      maxSeries: 1000,
    });
  });

  describe.each(DEMO)('%s (%s)', (id, runtime) => {
    const matchers = [
      { name: 'cluster', op: '=' as const, value: 'dev' },
      { name: 'namespace', op: '=' as const, value: 'models' },
      { name: 'backstage_io_kubernetes_id', op: '=' as const, value: id },
    ];
    const set = DEFAULT_QUERY_SETS[runtime];
    const run = (signal: (typeof SIGNALS)[number]) =>
      client.instant(
        renderQuery(set[signal] as string, { matchers, window: '1m', by: BY }),
      );

    it('answers every signal it has a query for, one series per service (or per feature or class)', async () => {
      // Traffic runs at 5 rps; a rate needs two scrapes (5 s apart) in the window.
      const rate = await waitFor(
        'a request rate',
        async () => {
          const r = await run('requestRate');
          return r.length === 1 && r[0]!.value > 0 ? r : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 2000 },
      );
      expect(rate[0]!.metric).toEqual({
        backstage_io_kubernetes_id: id,
        cluster: 'dev',
        namespace: 'models',
      });
      expect(rate[0]!.value).toBeLessThan(50);

      const errors = await run('errorRate');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.value).toBeGreaterThanOrEqual(0);
      expect(errors[0]!.value).toBeLessThanOrEqual(1);

      const latency = await run(
        runtime === 'triton' ? 'latencyMean' : 'latencyP95',
      );
      expect(latency).toHaveLength(1);
      expect(latency[0]!.value).toBeGreaterThan(0);
      expect(latency[0]!.value).toBeLessThan(5);

      const features = await run('featureDrift');
      expect(features.length).toBeGreaterThan(1);
      expect(new Set(features.map(f => f.metric.feature)).size).toBe(
        features.length,
      );
      for (const f of features) expect(f.value).toBeGreaterThanOrEqual(0);
      expect(await run('predictionDrift')).toHaveLength(1);
      const classes = await run('predictionsByClass');
      expect(classes.length).toBeGreaterThanOrEqual(1);
    });
  });

  it('answers one series per service for a grouped query over every service', async () => {
    const all = await client.instant(
      renderQuery('max by ($by) (modelops_prediction_psi{$matchers})', {
        matchers: [{ name: 'namespace', op: '=', value: 'models' }],
        window: '1m',
        by: BY,
      }),
    );
    const keys = all.map(
      s => `${s.metric.cluster}/${s.metric.backstage_io_kubernetes_id}`,
    );
    // One series per service: the demo services', and those of other
    // suites running meanwhile (the analysis tests' own services).
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(
      expect.arrayContaining(
        ['dev', 'prod'].flatMap(c => DEMO.map(([id]) => `${c}/${id}`)),
      ),
    );
  });

  it('reads a range as points at the step', async () => {
    const end = Math.floor(Date.now() / 1000);
    const series = await client.range(
      'sum(up{namespace="models"})',
      end - 60,
      end,
      15,
    );
    expect(series).toHaveLength(1);
    expect(series[0]!.points.length).toBeGreaterThanOrEqual(1);
    expect(series[0]!.points.length).toBeLessThanOrEqual(5);
  });

  it('reports a query Prometheus refuses with its own message', async () => {
    const err = await client.instant('sum(').catch(e => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect(err.reason).toBe('rejected');
    expect(err.message).toMatch(/HTTP 400, bad_data/);
  });

  it('refuses an answer with more series than allowed', async () => {
    const small = new PrometheusClient({
      url,
      timeoutMs: 5000,
      maxResponseBytes: 1 << 20,
      maxSeries: 2,
    });
    const err = await small.instant('up').catch(e => e);
    expect(err).toMatchObject({ reason: 'too-large' });
    expect(err.message).toContain('maxSeries');
    const tiny = new PrometheusClient({
      url,
      timeoutMs: 5000,
      maxResponseBytes: 200,
      maxSeries: 1000,
    });
    expect(await tiny.instant('up').catch(e => e)).toMatchObject({
      reason: 'too-large',
    });
  });

  it('reads compressed answers when asked to, bounded by their decoded size', async () => {
    const end = Math.floor(Date.now() / 1000);
    const query = 'count by (job) (up)';
    const compressed = new PrometheusClient({
      url,
      timeoutMs: 5000,
      maxResponseBytes: 1 << 20,
      maxSeries: 1000,
      compressed: true,
    });
    const [plain, gzipped] = await Promise.all([
      client.range(query, end - 300, end, 60),
      compressed.range(query, end - 300, end, 60),
    ]);
    expect(gzipped.length).toBeGreaterThan(0);
    expect(gzipped.map(s => s.metric).sort()).toEqual(
      plain.map(s => s.metric).sort(),
    );
    // Prometheus gzips when asked; the bound is on the decoded answer.
    const raw = await fetch(`${url}/api/v1/query?query=up`, {
      headers: { 'Accept-Encoding': 'gzip' },
    });
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    const decoded = (await raw.text()).length;
    const tiny = new PrometheusClient({
      url,
      timeoutMs: 5000,
      maxResponseBytes: decoded - 1,
      maxSeries: 1000,
      compressed: true,
    });
    expect(await tiny.instant('up').catch(e => e)).toMatchObject({
      reason: 'too-large',
    });
  });
});

describe('the Prometheus client when there is no answer', () => {
  let hung: Server;
  let hungUrl: string;

  beforeAll(async () => {
    // A real listener that accepts and never responds, like a wedged Prometheus.
    hung = createServer(() => undefined);
    await new Promise<void>(r => hung.listen(0, '127.0.0.1', () => r()));
    hungUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hung.closeAllConnections();
    await new Promise(r => hung.close(r));
  });

  it('times out on a server that never answers, naming the URL', async () => {
    const client = new PrometheusClient({
      url: hungUrl,
      timeoutMs: 300,
      maxResponseBytes: 1000,
      maxSeries: 10,
    });
    const err = await client.instant('up').catch(e => e);
    expect(err).toMatchObject({ reason: 'timeout' });
    expect(err.message).toBe(
      `Prometheus at ${hungUrl} did not answer within 300 ms`,
    );
  });

  it('reports a closed port as unreachable, without the token', async () => {
    const closed = createServer();
    await new Promise<void>(r => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise(r => closed.close(r));
    const client = new PrometheusClient({
      url: `http://127.0.0.1:${port}/`,
      token: 'secret-token-value',
      timeoutMs: 2000,
      maxResponseBytes: 1000,
      maxSeries: 10,
    });
    const err = await client.instant('up').catch(e => e);
    expect(err).toMatchObject({ reason: 'unreachable' });
    expect(err.message).toBe(
      `Prometheus at http://127.0.0.1:${port} is unreachable: ECONNREFUSED`,
    );
    expect(err.message).not.toContain('secret-token-value');
  });
});
