// Benchmark: the health overview (POST /api/modelops/health/query) over a
// catalog of N generated model services plus the demo ones, against the
// one-request-per-entity way (GET /api/modelops/health for each service),
// measured in the same run; and GET /api/modelops/metrics against the raw
// Prometheus range queries it wraps.
//
// Prints, per N: the overview's upstream Prometheus queries (counted in
// Prometheus' own query log), its latency (median and p95 of uncached
// requests) and the backend's peak RSS; at the smallest N also the
// one-per-entity figures. Figures are printed, not asserted.
//
// Run with `yarn bench` (scripts/bench), which generates the catalog,
// starts a backend on it (its own SQLite directory, answers not shared:
// modelops.metrics.cacheSeconds 0) and runs this once per N.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BACKEND, guestToken, postJson } from './backend.ts';
import { machineBusyMs, processCpuMs } from './cpu.ts';
import { median, p95 } from './stats.ts';

const PROMETHEUS =
  process.env.MODELOPS_PROMETHEUS_URL ?? 'http://127.0.0.1:19090';
const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const QUERY_LOG =
  process.env.PROMETHEUS_QUERY_LOG ??
  path.join(REPO_ROOT, '.platform', 'prometheus', 'query.log');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 15);
/** GET /metrics requests of each kind: each takes tens of milliseconds, so many give a steady median. */
const METRICS_ITERATIONS = Number(process.env.BENCH_METRICS_ITERATIONS ?? 40);
/** Requests in flight at once in the one-per-entity run (a browser's limit per host). */
const PER_ENTITY_CONCURRENCY = 6;
/** The one-per-entity run covers at most this many services. */
const PER_ENTITY_MAX = Number(process.env.BENCH_PER_ENTITY_MAX ?? 1000);
const BACKEND_PID = Number(process.env.MODELOPS_BENCH_BACKEND_PID ?? 0);
/** A generated KServe service: its series are backfilled. */
const METRICS_ENTITY = 'component:bench/svc-00001';

function queriesLogged(): number {
  try {
    return readFileSync(QUERY_LOG, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

function loggedQueriesSince(line: number): string[] {
  return readFileSync(QUERY_LOG, 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(line)
    .map(l => JSON.parse(l).params?.query as string);
}

const ms = (x: number) => `${x.toFixed(0)} ms`;

/** The backend's peak resident set (VmHWM) and current RSS, in MiB. */
function memory(): { peak: number; rss: number } | undefined {
  if (!BACKEND_PID) return undefined;
  try {
    const status = readFileSync(`/proc/${BACKEND_PID}/status`, 'utf8');
    const kib = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { peak: kib('VmHWM') / 1024, rss: kib('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

async function overview(auth: string): Promise<{ ms: number; items: any[] }> {
  const started = performance.now();
  const res = await fetch(
    `${BACKEND}/api/modelops/health/query`,
    postJson(auth, {}),
  );
  const body = (await res.json()) as any;
  if (!res.ok)
    throw new Error(`overview: ${res.status} ${JSON.stringify(body.error)}`);
  return { ms: performance.now() - started, items: body.items };
}

async function oneHealth(auth: string, entityRef: string): Promise<void> {
  const res = await fetch(
    `${BACKEND}/api/modelops/health?entityRef=${encodeURIComponent(entityRef)}`,
    { headers: { Authorization: `Bearer ${auth}` } },
  );
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`health of ${entityRef}: ${res.status}`);
}

async function perEntity(auth: string, refs: string[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PER_ENTITY_CONCURRENCY }, async () => {
      while (next < refs.length) await oneHealth(auth, refs[next++]!);
    }),
  );
  return performance.now() - started;
}

async function metricsRoute(
  auth: string,
  start: string,
  end: string,
  entityRef = METRICS_ENTITY,
) {
  const started = performance.now();
  const res = await fetch(
    `${BACKEND}/api/modelops/metrics?entityRef=${encodeURIComponent(
      entityRef,
    )}&environment=prod&start=${encodeURIComponent(
      start,
    )}&end=${encodeURIComponent(end)}`,
    { headers: { Authorization: `Bearer ${auth}` } },
  );
  const body = (await res.json()) as any;
  if (!res.ok)
    throw new Error(`metrics: ${res.status} ${JSON.stringify(body)}`);
  return { ms: performance.now() - started, step: body.step as number };
}

async function rawRange(
  queries: string[],
  start: string,
  end: string,
  step: number,
): Promise<number> {
  const started = performance.now();
  await Promise.all(
    queries.map(async query => {
      const res = await fetch(`${PROMETHEUS}/api/v1/query_range`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          query,
          start: String(Date.parse(start) / 1000),
          end: String(Date.parse(end) / 1000),
          step: String(step),
        }),
      });
      await res.json();
      if (!res.ok) throw new Error(`prometheus: ${res.status}`);
    }),
  );
  return performance.now() - started;
}

async function main() {
  const auth = await guestToken();
  const idle = memory();
  // Warm-up: the first request pays for discovery and connections.
  const first = await overview(auth);
  const generated = first.items.filter(i =>
    String(i.entityRef).startsWith('component:bench/'),
  );
  console.log(
    `health overview over ${first.items.length} model services (${
      generated.length
    } generated, ${
      first.items.length - generated.length
    } demo), 2 clusters, ${ITERATIONS} uncached requests:`,
  );

  // What the overview judged: statuses, and why signals were unknown.
  const statuses: Record<string, number> = {};
  const reasons = new Map<string, number>();
  for (const item of generated) {
    statuses[item.status] = (statuses[item.status] ?? 0) + 1;
    for (const env of item.environments ?? []) {
      if (env.reason && env.status === 'unknown') {
        const key = String(env.reason).replace(/svc-\d+/g, 'svc-N');
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
    }
  }
  console.log(`  generated services judged: ${JSON.stringify(statuses)}`);
  for (const [reason, count] of [...reasons].slice(0, 5))
    console.log(`  unknown (${count}x): ${reason.slice(0, 200)}`);

  const before = queriesLogged();
  await overview(auth);
  const upstream = queriesLogged() - before;
  const times: number[] = [];
  // The CPU the backend and the whole machine (2 cores: at most twice the
  // wall time) used during each request: says what a slow one waited for.
  const cpu: { backend?: number; machine: number }[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const backendBefore = processCpuMs(BACKEND_PID);
    const machineBefore = machineBusyMs();
    times.push((await overview(auth)).ms);
    const backendAfter = processCpuMs(BACKEND_PID);
    cpu.push({
      ...(backendBefore !== undefined && backendAfter !== undefined
        ? { backend: backendAfter - backendBefore }
        : {}),
      machine: machineBusyMs() - machineBefore,
    });
  }
  const mem = memory();
  console.log(`  Prometheus queries per overview: ${upstream}`);
  console.log(`  latency: median ${ms(median(times))}, p95 ${ms(p95(times))}`);
  console.log(
    `  each request (wall / backend CPU / machine CPU): ${times
      .map(
        (t, i) =>
          `${t.toFixed(0)}/${cpu[i]!.backend?.toFixed(0) ?? '?'}/${cpu[
            i
          ]!.machine.toFixed(0)}`,
      )
      .join(' ')} ms`,
  );
  if (mem && idle)
    console.log(
      `  backend RSS: ${idle.rss.toFixed(
        0,
      )} MiB before the first overview, ${mem.rss.toFixed(0)} MiB after ${
        ITERATIONS + 2
      }, ${mem.peak.toFixed(0)} MiB peak`,
    );

  if (first.items.length <= PER_ENTITY_MAX + 10) {
    const refs = first.items.map(i => i.entityRef as string);
    const beforeEach = queriesLogged();
    const perEntityMs = await perEntity(auth, refs);
    const perEntityQueries = queriesLogged() - beforeEach;
    console.log(
      `one GET /health per service (${refs.length} requests, ${PER_ENTITY_CONCURRENCY} at a time):`,
    );
    console.log(`  Prometheus queries: ${perEntityQueries}`);
    console.log(`  wall time: ${ms(perEntityMs)}`);
    console.log(
      `  the overview is ${(perEntityMs / median(times)).toFixed(
        1,
      )}x faster (median) and makes ${(
        perEntityQueries / Math.max(upstream, 1)
      ).toFixed(0)}x fewer queries`,
    );
  }

  // GET /metrics against the range queries it wraps, interleaved: the same
  // service again and again, as a Monitoring tab refreshes (its entity read
  // from the catalog a few seconds earlier), and a service not asked about
  // before at every request (the entity read from the catalog each time).
  const end = new Date().toISOString();
  const start = new Date(Date.parse(end) - 3600_000).toISOString();
  const mark = queriesLogged();
  const { step } = await metricsRoute(auth, start, end);
  const wrapped = loggedQueriesSince(mark);
  const name = METRICS_ENTITY.split('/')[1]!;
  const route: number[] = [];
  const raw: number[] = [];
  const fresh: number[] = [];
  const freshRaw: number[] = [];
  for (let i = 0; i < METRICS_ITERATIONS; i++) {
    route.push((await metricsRoute(auth, start, end)).ms);
    raw.push(await rawRange(wrapped, start, end, step));
    // Another generated KServe service, with the same queries as its own.
    const other = `svc-${String(2 * i + 3).padStart(5, '0')}`;
    fresh.push(
      (await metricsRoute(auth, start, end, `component:bench/${other}`)).ms,
    );
    freshRaw.push(
      await rawRange(
        wrapped.map(q => q.replaceAll(`"${name}"`, `"${other}"`)),
        start,
        end,
        step,
      ),
    );
  }
  console.log(
    `GET /metrics (1 h, ${wrapped.length} range queries, step ${step} s) against the same queries sent to Prometheus directly:`,
  );
  const ratio = (a: number[], b: number[]) =>
    `route median ${ms(median(a))}, raw median ${ms(median(b))}: ${(
      median(a) / median(b)
    ).toFixed(2)}x`;
  console.log(`  the same service again: ${ratio(route, raw)}`);
  console.log(`  a service not asked about before: ${ratio(fresh, freshRaw)}`);
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
