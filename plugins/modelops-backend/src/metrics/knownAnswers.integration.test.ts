/*
 * Known answers: a Prometheus of its own (the platform's pinned build),
 * backfilled with `promtool tsdb create-blocks-from openmetrics` from exact
 * samples, so request rate, error rate, percentiles, the Triton mean and
 * PSI (from drift gauges and computed here from input histograms) have
 * values worked out by hand, asserted to 10 decimals. Then `promtool test
 * rules` evaluates the same health expressions, rendered for one service,
 * on series written in its own notation.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import knexFactory, { Knex } from 'knex';
import { stringify } from 'yaml';
import { LabelMatcher } from '@modelops/plugin-modelops-common';
import { DatabaseDeploymentStore } from '../database/DatabaseDeploymentStore';
import { DatabaseDriftReferenceStore } from '../database/DriftReferenceStore';
import { migrationsDir } from '../database/migrations';
import { cachedBinary } from '../deploy/testUtils/platform';
import { evaluateSignals, Outcome, signalsToRead } from './evaluate';
import { thresholdsFor } from './health';
import { driftForMany, driftFromHistograms } from './histogramDrift';
import { overviewTemplate } from './HealthService';
import { ConfigReader } from '@backstage/config';
import { readModelOpsConfig } from '../config';
import { EnvironmentService } from '../service/EnvironmentService';
import { toModelServiceTarget } from '../service/entities';
import { PrometheusClient } from './PrometheusClient';
import { SeriesService } from './SeriesService';
import { DEFAULT_QUERY_SETS, renderQuery, Runtime, Signal } from './queries';

const run = promisify(execFile);
jest.setTimeout(180_000);

const prometheusBin = cachedBinary('prometheus');
const promtoolBin = cachedBinary('promtool');
const available = !!prometheusBin && !!promtoolBin;
if (!available && process.env.MODELOPS_REQUIRE_PLATFORM === '1')
  throw new Error(
    'MODELOPS_REQUIRE_PLATFORM=1 but the pinned prometheus/promtool are not in the build cache (node test/platform/cli.ts build)',
  );
const describeIfBuilt = available ? describe : describe.skip;

const STEP = 15;
const HOUR = 3600;
/** The series start two hours before the evaluation time, an hour boundary three hours ago. */
const T0 = Math.floor(Date.now() / 1000 / HOUR) * HOUR - 3 * HOUR;
const AT = T0 + 2 * HOUR;
const BY = ['backstage_io_kubernetes_id', 'cluster', 'namespace'];
const WINDOW = '5m';

const matchersOf = (id: string): LabelMatcher[] => [
  { name: 'cluster', op: '=', value: 'dev' },
  { name: 'namespace', op: '=', value: 'models' },
  { name: 'backstage_io_kubernetes_id', op: '=', value: id },
];
const labelsOf = (id: string, extra: Record<string, string> = {}) => ({
  backstage_io_kubernetes_id: id,
  cluster: 'dev',
  namespace: 'models',
  ...extra,
});

/** A series as increments per 15 s step: `perStep(t)` for the step ending at t. */
interface Series {
  labels: Record<string, string>;
  perStep: (t: number) => number;
  /** Gauges are written as is, counters cumulatively. */
  gauge?: boolean;
}

/** A classic histogram's series from per-step counts per bucket (non-cumulative, +Inf last). */
function histogram(
  name: string,
  labels: Record<string, string>,
  bounds: string[],
  counts: (t: number) => number[],
  sumPerObservation: number,
): { family: string; series: [string, Series][] } {
  const series: [string, Series][] = bounds.map((le, i) => [
    `${name}_bucket`,
    {
      labels: { ...labels, le },
      perStep: t =>
        counts(t)
          .slice(0, i + 1)
          .reduce((a, b) => a + b, 0),
    },
  ]);
  const total = (t: number) => counts(t).reduce((a, b) => a + b, 0);
  series.push([`${name}_count`, { labels, perStep: total }]);
  series.push([
    `${name}_sum`,
    { labels, perStep: t => total(t) * sumPerObservation },
  ]);
  return { family: name, series };
}

/** Families in OpenMetrics order: TYPE line, then each series' samples in time order. */
function openMetrics(
  families: {
    family: string;
    type: 'counter' | 'gauge' | 'histogram';
    series: [string, Series][];
  }[],
): string {
  const fmt = (l: Record<string, string>) =>
    `{${Object.entries(l)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')}}`;
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# TYPE ${f.family} ${f.type}`);
    for (const [name, s] of f.series) {
      let value = 0;
      for (let t = T0; t <= AT; t += STEP) {
        // Counters start at 0 and grow by each step's increment.
        if (s.gauge) value = s.perStep(t);
        else if (t > T0) value += s.perStep(t);
        lines.push(`${name}${fmt(s.labels)} ${value} ${t}`);
      }
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

/** The reference hour (steps ending in (T0, T0+1h]) and the hour after it. */
const inReference = (t: number) => t <= T0 + HOUR;
const FEATURE_BOUNDS = ['-1', '0', '1', '+Inf'];

function demoData(): string {
  const generic = labelsOf('ka-generic');
  const kserve = labelsOf('ka-kserve');
  const triton = labelsOf('ka-triton');
  return openMetrics([
    // ka-generic: 1.8 rps of 200s, 0.2 rps of 500s (error rate 0.1).
    {
      family: 'http_requests',
      type: 'counter',
      series: [
        [
          'http_requests_total',
          { labels: { ...generic, code: '200' }, perStep: () => 27 },
        ],
        [
          'http_requests_total',
          { labels: { ...generic, code: '500' }, perStep: () => 3 },
        ],
      ],
    },
    // 30 requests a step: 15 up to 0.1 s, 12 in (0.1, 0.25], 3 in (0.25, 0.5].
    {
      type: 'histogram',
      ...histogram(
        'http_request_duration_seconds',
        generic,
        ['0.1', '0.25', '0.5', '+Inf'],
        () => [15, 12, 3, 0],
        0.1,
      ),
    },
    // Inputs: f1 evenly over its four buckets in the reference hour, then
    // 1/8, 1/8, 3/8, 3/8; f2 evenly throughout.
    {
      type: 'histogram',
      family: 'modelops_feature_value',
      series: [
        ...histogram(
          'modelops_feature_value',
          { ...generic, feature: 'f1' },
          FEATURE_BOUNDS,
          t => (inReference(t) ? [10, 10, 10, 10] : [5, 5, 15, 15]),
          0,
        ).series,
        ...histogram(
          'modelops_feature_value',
          { ...generic, feature: 'f2' },
          FEATURE_BOUNDS,
          () => [10, 10, 10, 10],
          0,
        ).series,
      ],
    },
    // ka-kserve: 10 predictions a step (4, 4, 2 in its buckets), no failures at all.
    {
      type: 'histogram',
      ...histogram(
        'request_predict_seconds',
        { ...kserve, model_name: 'm' },
        ['0.05', '0.1', '0.5', '+Inf'],
        () => [4, 4, 2, 0],
        0.1,
      ),
    },
    {
      family: 'modelops_requests',
      type: 'counter',
      series: [
        [
          'modelops_requests_total',
          { labels: { ...kserve, code: '200' }, perStep: () => 10 },
        ],
      ],
    },
    {
      family: 'modelops_feature_psi',
      type: 'gauge',
      series: [
        [
          'modelops_feature_psi',
          {
            labels: { ...kserve, feature: 'f1' },
            perStep: () => 0.3,
            gauge: true,
          },
        ],
        [
          'modelops_feature_psi',
          {
            labels: { ...kserve, feature: 'f2' },
            perStep: () => 0.05,
            gauge: true,
          },
        ],
      ],
    },
    // ka-triton: 30 successes and 3 failures a step, 200 ms each.
    {
      family: 'nv_inference_request_success',
      type: 'counter',
      series: [
        [
          'nv_inference_request_success',
          { labels: { ...triton, model: 'm' }, perStep: () => 30 },
        ],
      ],
    },
    {
      family: 'nv_inference_request_failure',
      type: 'counter',
      series: [
        [
          'nv_inference_request_failure',
          { labels: { ...triton, model: 'm' }, perStep: () => 3 },
        ],
      ],
    },
    {
      family: 'nv_inference_request_duration_us',
      type: 'counter',
      series: [
        [
          'nv_inference_request_duration_us',
          { labels: { ...triton, model: 'm' }, perStep: () => 33 * 200_000 },
        ],
      ],
    },
  ]);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return port;
}

describeIfBuilt('known answers from a backfilled Prometheus', () => {
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let client: PrometheusClient;
  let knex: Knex;
  let store: DatabaseDeploymentStore;
  let references: DatabaseDriftReferenceStore;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelops-known-answers-'));
    const data = path.join(dir, 'data');
    fs.writeFileSync(path.join(dir, 'series.om'), demoData());
    await run(promtoolBin!, [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      path.join(dir, 'series.om'),
      data,
    ]);
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), 'global: {}\n');
    const port = await freePort();
    const log = fs.openSync(path.join(dir, 'prometheus.log'), 'w');
    prometheus = spawn(
      prometheusBin!,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', log, log] },
    );
    const url = `http://127.0.0.1:${port}`;
    client = new PrometheusClient({
      url,
      timeoutMs: 5000,
      maxSeries: 1000,
      maxResponseBytes: 1 << 20,
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`${url}/-/ready`).then(
        r => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline || prometheus.exitCode !== null)
        throw new Error(
          `Prometheus did not become ready: ${fs
            .readFileSync(path.join(dir, 'prometheus.log'), 'utf8')
            .slice(-2000)}`,
        );
      await new Promise(r => setTimeout(r, 250));
    }

    knex = knexFactory({
      client: 'better-sqlite3',
      connection: ':memory:',
      useNullAsDefault: true,
    });
    await knex.migrate.latest({ directory: migrationsDir });
    store = new DatabaseDeploymentStore(knex);
    references = new DatabaseDriftReferenceStore(knex);
  });

  afterAll(async () => {
    await knex?.destroy();
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise(resolve => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Every signal of a service, as its runtime's queries answer at AT. */
  async function outcomes(
    id: string,
    runtime: Runtime,
  ): Promise<Map<Signal, Outcome>> {
    const set = DEFAULT_QUERY_SETS[runtime];
    const out = new Map<Signal, Outcome>();
    for (const signal of Object.keys(set) as Signal[]) {
      const template = set[signal];
      if (typeof template !== 'string') {
        out.set(signal, template);
        continue;
      }
      const query = renderQuery(template, {
        matchers: matchersOf(id),
        window: WINDOW,
        by: BY,
      });
      out.set(signal, { samples: await client.instant(query, AT) });
    }
    return out;
  }
  const only = (o: Outcome | undefined) => {
    if (!o || !('samples' in o))
      throw new Error(`no samples: ${JSON.stringify(o)}`);
    expect(o.samples).toHaveLength(1);
    return o.samples[0]!.value;
  };

  /** A rollout recorded as created at `at` (seconds); its revision. */
  async function rolloutAt(
    entityRef: string,
    at: number,
    environment = 'dev',
  ): Promise<number> {
    const { attempt, nextRevision } = await store.begin({
      entityRef,
      environment,
      cluster: 'dev',
      namespace: 'models',
      action: 'deploy',
      image: 'registry.local/ka:1.0.0',
      requestedBy: 'user:default/ada',
    });
    await store.commitRevision({ id: attempt.id, revision: nextRevision });
    await store.finish({ id: attempt.id, result: 'succeeded', manifests: [] });
    await knex('modelops_deployments')
      .where({ id: attempt.id })
      .update({ created_at: new Date(at * 1000) });
    return nextRevision;
  }

  it('generic runtime: rate 2, error rate 0.1, p50 0.1 s, p95 0.375 s, judged against its SLO', async () => {
    const o = await outcomes('ka-generic', 'generic');
    expect(only(o.get('requestRate'))).toBeCloseTo(2, 10);
    expect(only(o.get('errorRate'))).toBeCloseTo(0.1, 10);
    expect(only(o.get('latencyP50'))).toBeCloseTo(0.1, 10);
    // Rank 28.5 of 30 lies halfway through the 3 requests of (0.25, 0.5].
    expect(only(o.get('latencyP95'))).toBeCloseTo(0.375, 10);
    // Rank 29.7: 0.25 + 0.25 * 2.7 / 3.
    expect(only(o.get('latencyP99'))).toBeCloseTo(0.475, 10);
    // No drift gauges: the features' histograms are there instead.
    expect(o.get('featureDrift')).toEqual({ samples: [] });

    const thresholds = thresholdsFor({ 'latency-p95-ms': 400 }, {});
    const judged = evaluateSignals({
      set: DEFAULT_QUERY_SETS.generic,
      thresholds,
      outcome: s => o.get(s)!,
      selector: () => '{…}',
      window: WINDOW,
      workload: undefined,
    });
    const byName = Object.fromEntries(judged.signals.map(s => [s.signal, s]));
    expect(byName.errorRate).toMatchObject({
      status: 'critical',
      critical: 0.05,
    });
    expect(byName.errorRate!.warning).toBeCloseTo(0.04, 10);
    expect(byName.latencyP95).toMatchObject({ status: 'warning' });
    expect(byName.latencyP95!.warning).toBeCloseTo(0.32, 10);
    expect(judged.status).toBe('critical');
    expect(signalsToRead(thresholds)).not.toContain('latencyP99');
  });

  it('PSI from input histograms: 0.2746530722 for f1 against the first hour after the deploy, 0 for f2', async () => {
    const entityRef = 'component:default/ka-generic';
    const revision = await rolloutAt(entityRef, T0);
    const base = {
      source: client,
      store,
      references,
      template: DEFAULT_QUERY_SETS.generic.featureHistogram as string,
      matchers: matchersOf('ka-generic'),
      by: BY,
      window: WINDOW,
      referenceHours: 1,
      entityRef,
      environment: 'dev',
      revision,
    };
    const drift = await driftFromHistograms({ ...base, now: AT * 1000 });
    // Shares 1/4 each against 1/8, 1/8, 3/8, 3/8:
    // 2 (1/8 - 1/4) ln(1/2) + 2 (3/8 - 1/4) ln(3/2).
    const expected =
      2 * (0.125 - 0.25) * Math.log(0.5) + 2 * (0.375 - 0.25) * Math.log(1.5);
    expect(expected).toBeCloseTo(0.2746530722, 10);
    if (!drift || !('samples' in drift)) throw new Error(JSON.stringify(drift));
    expect(drift.samples.map(s => s.metric.feature)).toEqual(['f1', 'f2']);
    expect(drift.samples[0]!.value).toBeCloseTo(expected, 10);
    expect(drift.samples[1]!.value).toBeCloseTo(0, 10);
    expect(drift.note).toBe(
      `PSI computed from the input histograms against the 1 h after revision ${revision} was deployed`,
    );

    // Judged with the usual bands: critical, naming the feature.
    const o = await outcomes('ka-generic', 'generic');
    o.set('featureDrift', drift);
    const judged = evaluateSignals({
      set: DEFAULT_QUERY_SETS.generic,
      thresholds: thresholdsFor({}, {}),
      outcome: s => o.get(s)!,
      selector: () => '{…}',
      window: WINDOW,
      workload: undefined,
    });
    expect(judged.signals.find(s => s.signal === 'drift')).toMatchObject({
      status: 'critical',
      detail: 'feature f1',
      reason: drift.note,
    });

    // In the reference hour itself the distributions agree: PSI 0.
    const early = await driftFromHistograms({
      ...base,
      now: (T0 + 50 * 60) * 1000,
    });
    if (!early || !('samples' in early)) throw new Error(JSON.stringify(early));
    for (const s of early.samples) expect(s.value).toBeCloseTo(0, 10);

    // Four minutes after the deploy the reference does not hold a window yet.
    const tooEarly = await driftFromHistograms({
      ...base,
      now: (T0 + 240) * 1000,
    });
    expect(tooEarly).toEqual({
      error: expect.stringMatching(/does not hold 5m of inputs yet/),
    });
    // A revision not deployed through ModelOps anchors nothing.
    expect(
      await driftFromHistograms({ ...base, revision: 42, now: AT * 1000 }),
    ).toEqual({
      error: expect.stringMatching(
        /revision 42 in dev was not deployed through ModelOps/,
      ),
    });
    // A service without histograms: nothing to compute (its gauges' "no series" stands).
    expect(
      await driftFromHistograms({
        ...base,
        matchers: matchersOf('ka-kserve'),
        now: AT * 1000,
      }),
    ).toBeUndefined();
  });

  it('keeps a reference once read: later reads ask Prometheus for the current window only, and many services share one database read within a budget', async () => {
    const entityRef = 'component:default/ka-generic';
    await knex('modelops_drift_references').delete();
    const dev = await rolloutAt(entityRef, T0);
    // The same series, as if a second environment's.
    const staging = await rolloutAt(entityRef, T0, 'staging');
    const template = DEFAULT_QUERY_SETS.generic.featureHistogram as string;
    const asked: string[] = [];
    const source = {
      instant: (query: string, time?: number) => {
        asked.push(query);
        return client.instant(query, time);
      },
    };
    const optionsFor = (environment: string, revision: number) => ({
      source,
      store,
      references,
      template,
      matchers: matchersOf('ka-generic'),
      by: BY,
      window: WINDOW,
      referenceHours: 1,
      entityRef,
      environment,
      revision,
      now: AT * 1000,
    });
    const expected =
      2 * (0.125 - 0.25) * Math.log(0.5) + 2 * (0.375 - 0.25) * Math.log(1.5);
    const f1 = (o: Outcome | undefined) => {
      if (!o || !('samples' in o)) throw new Error(JSON.stringify(o));
      return o.samples.find(s => s.metric.feature === 'f1')!.value;
    };

    // First read: the current window and the reference.
    expect(f1(await driftFromHistograms(optionsFor('dev', dev)))).toBeCloseTo(
      expected,
      10,
    );
    expect(asked).toHaveLength(2);
    const [row] = await knex('modelops_drift_references').where({
      environment: 'dev',
    });
    expect(row).toMatchObject({ revision: dev });
    expect(Boolean(row.complete)).toBe(true);
    expect(new Date(row.window_start).getTime()).toBe(T0 * 1000);
    expect(new Date(row.window_end).getTime()).toBe((T0 + HOUR) * 1000);
    // Second read: the reference comes from the database.
    asked.length = 0;
    expect(f1(await driftFromHistograms(optionsFor('dev', dev)))).toBeCloseTo(
      expected,
      10,
    );
    expect(asked).toHaveLength(1);

    // Many services, as the overview has them: the current histograms read
    // already; a budget of 0 new references serves only the stored one.
    const current = await client.instant(
      renderQuery(template, {
        matchers: matchersOf('ka-generic'),
        window: WINDOW,
        by: BY,
      }),
      AT,
    );
    asked.length = 0;
    const services = [
      { current, options: optionsFor('dev', dev) },
      { current, options: optionsFor('staging', staging) },
    ];
    const [stored, later] = await driftForMany({
      services,
      references,
      budget: 0,
    });
    expect(f1(stored)).toBeCloseTo(expected, 10);
    expect(later).toEqual({
      error: `the drift reference of revision ${staging} is read from the input histograms on a later refresh (at most 0 are read per request)`,
    });
    expect(asked).toHaveLength(0);
    // With a budget of one, the missing reference is read and kept.
    const [, read] = await driftForMany({ services, references, budget: 1 });
    expect(f1(read)).toBeCloseTo(expected, 10);
    expect(asked).toHaveLength(1);
    expect(
      await knex('modelops_drift_references').where({ environment: 'staging' }),
    ).toHaveLength(1);
    // A service with no running revision costs no read and says why.
    const [none] = await driftForMany({
      services: [
        {
          current,
          options: { ...optionsFor('dev', dev), revision: undefined },
        },
      ],
      references,
      budget: 1,
    });
    expect(none).toEqual({
      error: expect.stringMatching(/no running revision in dev anchors/),
    });
    expect(asked).toHaveLength(1);
  });

  it('charts PSI from the input histograms, each point against the reference of the revision serving then', async () => {
    const entityRef = 'component:default/ka-generic';
    // Revision A from T0; revision B from T0 + 90 min, after f1 moved.
    const a = await rolloutAt(entityRef, T0, 'charts');
    const b = await rolloutAt(entityRef, T0 + 90 * 60, 'charts');
    const config = readModelOpsConfig(
      new ConfigReader({
        modelops: {
          environments: { charts: { cluster: 'dev', namespace: 'models' } },
          metrics: { window: WINDOW, driftReferenceHours: 1 },
        },
      }),
    );
    const series = new SeriesService({
      config,
      environments: new EnvironmentService({
        config,
        clusters: { names: new Set(['dev']), complete: true },
      }),
      store,
      references,
      source: client,
    });
    const target = toModelServiceTarget({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'ka-generic',
        namespace: 'default',
        annotations: {
          'backstage.io/kubernetes-id': 'ka-generic',
          'modelops/runtime': 'generic',
        },
      },
      spec: { type: 'model-service', owner: 'team-a', lifecycle: 'production' },
    });
    const iso = (t: number) => new Date(t * 1000).toISOString();
    const res = await series.series({
      target,
      environment: 'charts',
      start: iso(T0 + 30 * 60),
      end: iso(AT),
      step: 300,
    });
    const drift = res.signals.find(x => x.signal === 'featureDrift')!;
    expect(drift.reason).toBeUndefined();
    expect(drift.note).toBe(
      'PSI computed from the input histograms, each point against the first 1 h after the revision serving then was deployed',
    );
    expect(drift.series.map(x => x.labels)).toEqual([
      { feature: 'f1' },
      { feature: 'f2' },
    ]);
    const at = (feature: string, t: number) =>
      drift.series
        .find(x => x.labels.feature === feature)!
        .points.find(([pt]) => pt === t)?.[1];
    const expected =
      2 * (0.125 - 0.25) * Math.log(0.5) + 2 * (0.375 - 0.25) * Math.log(1.5);
    // Inside A's reference hour: the same distribution.
    expect(at('f1', T0 + 40 * 60)).toBeCloseTo(0, 10);
    // After f1 moved, still against A's reference.
    expect(at('f1', T0 + 80 * 60)).toBeCloseTo(expected, 10);
    // From B's deploy on, against B's reference (f1 as it is now): 0.
    expect(at('f1', T0 + 110 * 60)).toBeCloseTo(0, 10);
    expect(at('f1', AT)).toBeCloseTo(0, 10);
    for (const [, v] of drift.series[1]!.points) expect(v).toBeCloseTo(0, 10);
    // Both references are kept.
    expect(
      (
        await knex('modelops_drift_references').where({ environment: 'charts' })
      ).map(r => r.revision),
    ).toEqual(expect.arrayContaining([a, b]));
    // The deploys are the chart's markers.
    expect(res.deploys.map(d => d.revision)).toEqual([b]);
  });

  it('kserve runtime: rate 2/3, error rate 0 without any failure series, p95 0.4 s, drift 0.3 from its gauges', async () => {
    const o = await outcomes('ka-kserve', 'kserve');
    expect(only(o.get('requestRate'))).toBeCloseTo(10 / 15, 10);
    expect(only(o.get('errorRate'))).toBe(0);
    expect(only(o.get('latencyP50'))).toBeCloseTo(0.0625, 10);
    expect(only(o.get('latencyP95'))).toBeCloseTo(0.4, 10);
    const judged = evaluateSignals({
      set: DEFAULT_QUERY_SETS.kserve,
      thresholds: thresholdsFor({}, {}),
      outcome: s => o.get(s)!,
      selector: () => '{…}',
      window: WINDOW,
      workload: undefined,
    });
    expect(judged.signals.find(s => s.signal === 'drift')).toMatchObject({
      status: 'critical',
      value: 0.3,
      detail: 'feature f1',
    });
    expect(judged.signals.find(s => s.signal === 'errorRate')).toMatchObject({
      status: 'ok',
      value: 0,
    });

    // The overview reads only each service's largest feature drift: one
    // series per service and environment, still naming the feature.
    const top = await client.instant(
      renderQuery(
        overviewTemplate(
          'featureDrift',
          DEFAULT_QUERY_SETS.kserve.featureDrift,
        ) as string,
        {
          matchers: [
            { name: 'backstage_io_kubernetes_id', op: '!=', value: '' },
          ],
          window: WINDOW,
          by: BY,
        },
      ),
      AT,
    );
    expect(top).toEqual([
      { metric: { ...labelsOf('ka-kserve'), feature: 'f1' }, value: 0.3 },
    ]);
  });

  it('triton runtime: rate 2.2, error rate 1/11, mean latency 0.22 s and no percentiles', async () => {
    const o = await outcomes('ka-triton', 'triton');
    expect(only(o.get('requestRate'))).toBeCloseTo(2.2, 10);
    expect(only(o.get('errorRate'))).toBeCloseTo(1 / 11, 10);
    // Δduration over Δsuccesses: 33 × 200 ms over 30.
    expect(only(o.get('latencyMean'))).toBeCloseTo(0.22, 10);
    expect(o.get('latencyP95')).toEqual({
      unavailable: expect.stringMatching(/summary_latencies/),
    });
  });

  it('promtool test rules: the health expressions on series in its own notation', async () => {
    const set = DEFAULT_QUERY_SETS.generic;
    const expr = (signal: Signal) =>
      renderQuery(set[signal] as string, {
        matchers: matchersOf('ka-generic'),
        window: WINDOW,
        by: BY,
      });
    const rules = {
      groups: [
        {
          name: 'modelops-health',
          rules: [
            { record: 'modelops:request_rate', expr: expr('requestRate') },
            { record: 'modelops:error_ratio', expr: expr('errorRate') },
            {
              record: 'modelops:latency_p95_seconds',
              expr: expr('latencyP95'),
            },
            {
              record: 'modelops:feature_inputs',
              expr: expr('featureHistogram'),
            },
            // The error-rate SLO (5 %) as an alert: what critical means.
            {
              alert: 'ModelErrorRateCritical',
              expr: `${expr('errorRate')} >= 0.05`,
            },
          ],
        },
      ],
    };
    const l =
      'backstage_io_kubernetes_id="ka-generic",cluster="dev",namespace="models"';
    const by = {
      backstage_io_kubernetes_id: 'ka-generic',
      cluster: 'dev',
      namespace: 'models',
    };
    const tests = {
      rule_files: ['rules.yml'],
      evaluation_interval: '15s',
      // Floats compared to within a few ulps (rate extrapolation rounds).
      fuzzy_compare: true,
      tests: [
        {
          interval: '15s',
          input_series: [
            {
              series: `http_requests_total{${l},code="200"}`,
              values: '0+27x40',
            },
            {
              series: `http_requests_total{${l},code="500"}`,
              values: '0+3x40',
            },
            {
              series: `http_request_duration_seconds_bucket{${l},le="0.1"}`,
              values: '0+15x40',
            },
            {
              series: `http_request_duration_seconds_bucket{${l},le="0.25"}`,
              values: '0+27x40',
            },
            {
              series: `http_request_duration_seconds_bucket{${l},le="0.5"}`,
              values: '0+30x40',
            },
            {
              series: `http_request_duration_seconds_bucket{${l},le="+Inf"}`,
              values: '0+30x40',
            },
            {
              series: `modelops_feature_value_bucket{${l},feature="f1",le="0"}`,
              values: '0+10x40',
            },
            {
              series: `modelops_feature_value_bucket{${l},feature="f1",le="+Inf"}`,
              values: '0+40x40',
            },
          ],
          promql_expr_test: [
            {
              expr: 'modelops:request_rate',
              eval_time: '10m',
              exp_samples: [
                { labels: `modelops:request_rate{${l}}`, value: 2 },
              ],
            },
            {
              expr: 'modelops:error_ratio',
              eval_time: '10m',
              exp_samples: [
                { labels: `modelops:error_ratio{${l}}`, value: 0.1 },
              ],
            },
            {
              // Interpolation rounds a few ulps off: compared to the microsecond.
              expr: 'round(modelops:latency_p95_seconds, 0.000001)',
              eval_time: '10m',
              exp_samples: [{ labels: `{${l}}`, value: 0.375 }],
            },
            {
              expr: 'modelops:feature_inputs',
              eval_time: '10m',
              exp_samples: [
                // 5 min of 10 and 40 a step: 200 and 800.
                {
                  labels: `modelops:feature_inputs{${l},feature="f1",le="0"}`,
                  value: 200,
                },
                {
                  labels: `modelops:feature_inputs{${l},feature="f1",le="+Inf"}`,
                  value: 800,
                },
              ],
            },
          ],
          alert_rule_test: [
            {
              alertname: 'ModelErrorRateCritical',
              eval_time: '10m',
              exp_alerts: [{ exp_labels: by }],
            },
          ],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, 'rules.yml'), stringify(rules));
    fs.writeFileSync(path.join(dir, 'rules.test.yml'), stringify(tests));
    const checked = await run(promtoolBin!, [
      'check',
      'rules',
      path.join(dir, 'rules.yml'),
    ]);
    expect(checked.stdout).toMatch(/SUCCESS: 5 rules found/);
    const tested = await run(
      promtoolBin!,
      ['test', 'rules', path.join(dir, 'rules.test.yml')],
      { cwd: dir },
    );
    expect(tested.stdout).toMatch(/SUCCESS/);
  });
});
