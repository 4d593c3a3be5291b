// Benchmark: how fast an SLO analysis rolls a bad release back. Each run
// deploys a good release of component:default/fraud-detector to dev (no
// analysis: the revision to go back to), then the demo's faulty release
// (30 % of requests fail) with a five-minute analysis, and follows the
// analysis until its automatic rollback. The platform's traffic generator
// sends 5 requests/s through the Service's endpoints throughout.
//
// Measured per run, on the clocks that saw each event:
//  - breach: the first Prometheus scrape in which the faulty revision's pods
//    (the analysis' own selector) report a failed request: a range query of
//    their failed-request counter at a 1 s step over the run, its first
//    point;
//  - applied: the analysis' `finishedAt`, written once the rollback's apply
//    returned;
//  - deploy: when the faulty release's deploy was answered.
// Printed: breach → rollback applied, in seconds and in evaluation intervals
// (dev's `analysis.interval`; the target is at most two), and deploy →
// rollback applied. Figures are printed, not asserted. Dev runs its
// original image again at the end.
//
// Run with `yarn bench` (scripts/bench; BENCH_ONLY=analysis for this part
// alone), which brings up the local platform and the backend first.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { median, p90 } from './stats.ts';
import { BACKEND, guestToken } from './backend.ts';

const ITERATIONS = Number(process.env.BENCH_ANALYSIS_ITERATIONS ?? 3);
const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const ENTITY_REF = 'component:default/fraud-detector';
const REPOSITORY = 'registry.modelops.local/risk/fraud-detector';
const GOOD = `${REPOSITORY}:0.1.1`;
/** Dev's analysis window (1m) and a scrape or two more. */
const QUIET_MS = 75_000;
const FAULTY = `${REPOSITORY}:0.1.3`;

const config = parse(
  readFileSync(path.join(REPO_ROOT, 'app-config.yaml'), 'utf8'),
);
const platform = parse(
  readFileSync(
    path.join(REPO_ROOT, '.platform', 'app-config.platform.yaml'),
    'utf8',
  ),
);
const PROMETHEUS: string = platform.modelops.metrics.prometheus.url;
const INTERVAL: string = config.modelops.environments.dev.analysis.interval;
const intervalSeconds =
  Number(INTERVAL.slice(0, -1)) *
  ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[INTERVAL.slice(-1)]!;

async function api(
  auth: string,
  method: string,
  route: string,
  body?: object,
): Promise<any> {
  const res = await fetch(`${BACKEND}/api/modelops${route}`, {
    method,
    headers: {
      authorization: `Bearer ${auth}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok)
    throw new Error(
      `${method} ${route}: ${res.status} ${JSON.stringify(json)}`,
    );
  return json;
}

async function devStatus(auth: string) {
  const status = await api(
    auth,
    'GET',
    `/deployments/status?entityRef=${ENTITY_REF}`,
  );
  return status.environments.find((e: any) => e.environment === 'dev');
}

/** Polls `read` every 500 ms until it returns a value; at most `seconds`. */
async function until<T>(
  what: string,
  seconds: number,
  read: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 500));
  }
}

async function deployAndWait(auth: string, image: string) {
  const res = await api(auth, 'POST', '/deployments', {
    entityRef: ENTITY_REF,
    environment: 'dev',
    image,
  });
  await until(`${image} Available in dev`, 180, async () => {
    const dev = await devStatus(auth);
    return dev.phase === 'Available' && dev.revision === res.deployment.revision
      ? dev
      : undefined;
  });
}

/**
 * The first scrape (unix seconds) with a failed request from a pod that
 * `selector` selects and that was not serving before `deployedAt`: a
 * template seen before gets its old ReplicaSet (and so its pod name prefix)
 * back, and the pods of an earlier run must not count.
 */
async function firstFailedScrape(
  selector: string,
  deployedAt: number,
  to: number,
): Promise<number | undefined> {
  const query = `count by (pod) (modelops_requests_total${selector.slice(
    0,
    -1,
  )},code=~"5..",} > 0)`;
  const from = Math.floor(deployedAt) - 30;
  const url = `${PROMETHEUS}/api/v1/query_range?query=${encodeURIComponent(
    query,
  )}&start=${from}&end=${Math.ceil(to)}&step=1`;
  const res = (await (await fetch(url)).json()) as any;
  if (res.status !== 'success')
    throw new Error(`Prometheus: ${JSON.stringify(res)}`);
  const firsts = (res.data.result as Array<{ values: [number, string][] }>)
    .map(series => series.values[0]?.[0])
    .filter((t): t is number => t !== undefined && t >= deployedAt);
  return firsts.length ? Math.min(...firsts) : undefined;
}

interface Run {
  breachToApplied: number;
  deployToApplied: number;
}

async function main() {
  const auth = await guestToken();
  const original = (await devStatus(auth)).image as string;
  const runs: Run[] = [];
  try {
    for (let i = 0; i < ITERATIONS; i++) {
      await deployAndWait(auth, GOOD);
      // The faulty template gets its old ReplicaSet back, and so its pod
      // name prefix: the earlier run's faulty pods must have left the rate
      // window (and this run's range query) before this run starts.
      if (i > 0) await new Promise(r => setTimeout(r, QUIET_MS));
      const sentAt = Date.now() / 1000;
      const deployed = await api(auth, 'POST', '/deployments', {
        entityRef: ENTITY_REF,
        environment: 'dev',
        image: FAULTY,
        analysis: { durationSeconds: 300 },
      });
      const answeredAt = Date.now() / 1000;
      const analysis = await until('the analysis to end', 300, async () => {
        const a = await api(
          auth,
          'GET',
          `/deployments/${deployed.deployment.id}/analysis`,
        );
        // A failed analysis has ended once its rollback is applied.
        return a.finishedAt ? a : undefined;
      });
      if (analysis.status !== 'failed' || !analysis.rollbackDeploymentId)
        throw new Error(`the analysis ended ${JSON.stringify(analysis)}`);
      const applied = Date.parse(analysis.finishedAt) / 1000;
      const breach = await firstFailedScrape(
        analysis.selector,
        sentAt,
        applied + 5,
      );
      if (breach === undefined)
        throw new Error(`no failed request in ${analysis.selector}`);
      const run = {
        breachToApplied: applied - breach,
        deployToApplied: applied - answeredAt,
      };
      runs.push(run);
      console.log(
        `run ${i + 1}: breach → rollback applied ${run.breachToApplied.toFixed(
          1,
        )} s (${(run.breachToApplied / intervalSeconds).toFixed(
          2,
        )} intervals); deploy → rollback applied ${run.deployToApplied.toFixed(
          1,
        )} s; ${analysis.breach.signal} ${analysis.breach.value.toFixed(3)} > ${
          analysis.breach.threshold
        }`,
      );
    }
  } finally {
    await deployAndWait(auth, original).catch(e =>
      console.error(`could not put ${original} back in dev: ${e}`),
    );
  }
  const b = runs.map(r => r.breachToApplied);
  const d = runs.map(r => r.deployToApplied);
  console.log(
    `\nSLO analysis, ${runs.length} runs, evaluation interval ${intervalSeconds} s:`,
  );
  console.log(
    `  first breaching scrape → rollback applied: median ${median(b).toFixed(
      1,
    )} s (${(median(b) / intervalSeconds).toFixed(2)} intervals), p90 ${p90(
      b,
    ).toFixed(1)} s, worst ${Math.max(...b).toFixed(1)} s (${(
      Math.max(...b) / intervalSeconds
    ).toFixed(2)} intervals; target ≤ 2)`,
  );
  console.log(
    `  deploy answered → rollback applied: median ${median(d).toFixed(
      1,
    )} s, p90 ${p90(d).toFixed(1)} s`,
  );
}

await main();
