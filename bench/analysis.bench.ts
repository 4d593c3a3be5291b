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
// rollback applied.
//
// Then canaries (BENCH_CANARY_ITERATIONS, default 3): the good release on 3
// stable pods (inline manifests: the demo's Deployment with 3 replicas),
// then the faulty release as a 25 % canary with a five-minute analysis,
// followed until the canary is removed. Measured per run, from Prometheus:
// the requests the canary's pods served over the canary's whole life (its
// pods' request counters from their first to their last scrape) against the
// requests the stable pods served meanwhile; printed as the bad release's
// share of the requests (target ≤ 30 %), with the canary's life.
// Figures are printed, not asserted. Dev runs its original image (and the
// built-in manifests' 2 replicas) again at the end.
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
const CANARY_ITERATIONS = Number(process.env.BENCH_CANARY_ITERATIONS ?? 3);

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

async function deployAndWait(auth: string, image: string, manifests?: string) {
  const res = await api(auth, 'POST', '/deployments', {
    entityRef: ENTITY_REF,
    environment: 'dev',
    image,
    ...(manifests ? { manifests } : {}),
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

/** The demo's Deployment (the built-in template's) with `replicas` pods, as inline manifests. */
function stableManifest(replicas: number): string {
  const id = 'fraud-detector';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${id}
  labels: { app.kubernetes.io/name: ${id}, backstage.io/kubernetes-id: ${id} }
spec:
  replicas: ${replicas}
  revisionHistoryLimit: 10
  selector:
    matchLabels: { backstage.io/kubernetes-id: ${id} }
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxSurge: 25%, maxUnavailable: 0 }
  template:
    metadata:
      labels: { app.kubernetes.io/name: ${id}, backstage.io/kubernetes-id: ${id} }
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "8080"
        prometheus.io/path: /metrics
    spec:
      containers:
        - name: model-server
          ports: [{ name: http, containerPort: 8080, protocol: TCP }]
          env:
            - { name: MODEL_SERVER_HOST, value: 0.0.0.0 }
            - { name: MODEL_SERVER_PORT, value: "8080" }
            - { name: MODEL_NAME, value: ${id} }
            - { name: MODEL_RUNTIME, value: kserve }
          resources:
            requests: { cpu: 100m, memory: 256Mi }
            limits: { cpu: "1", memory: 1Gi }
          readinessProbe:
            httpGet: { path: /v2/health/ready, port: http }
            initialDelaySeconds: 2
            periodSeconds: 5
            failureThreshold: 3
          livenessProbe:
            httpGet: { path: /v2/health/live, port: http }
            initialDelaySeconds: 10
            periodSeconds: 10
            failureThreshold: 3
`;
}

/**
 * Requests the pods `selector` selects served in [from, to] (unix
 * seconds): per series, the counter's last value less its first, or its
 * last value for a series first scraped after `from` (a new pod starts at
 * zero).
 */
async function served(
  selector: string,
  from: number,
  to: number,
): Promise<number> {
  const query = `modelops_requests_total${selector}`;
  const url = `${PROMETHEUS}/api/v1/query_range?query=${encodeURIComponent(
    query,
  )}&start=${Math.floor(from)}&end=${Math.ceil(to)}&step=1`;
  const res = (await (await fetch(url)).json()) as any;
  if (res.status !== 'success')
    throw new Error(`Prometheus: ${JSON.stringify(res)}`);
  let total = 0;
  for (const series of res.data.result as Array<{
    values: [number, string][];
  }>) {
    const first = series.values[0];
    const last = series.values[series.values.length - 1];
    if (!first || !last) continue;
    const born = first[0] > from + 10;
    total += Number(last[1]) - (born ? 0 : Number(first[1]));
  }
  return total;
}

interface CanaryRun {
  share: number;
  podShare: number;
  lifeSeconds: number;
}

async function canaryRun(auth: string, i: number): Promise<CanaryRun> {
  const stable = await api(auth, 'POST', '/deployments', {
    entityRef: ENTITY_REF,
    environment: 'dev',
    image: GOOD,
    manifests: stableManifest(3),
  });
  await until('3 stable pods Available in dev', 180, async () => {
    const dev = await devStatus(auth);
    return dev.phase === 'Available' &&
      dev.revision === stable.deployment.revision &&
      dev.replicas?.ready === 3
      ? dev
      : undefined;
  });
  // The stable pods' rate must cover the canary's whole life.
  await new Promise(r => setTimeout(r, i > 0 ? QUIET_MS : 15_000));
  const sentAt = Date.now() / 1000;
  const deployed = await api(auth, 'POST', '/deployments', {
    entityRef: ENTITY_REF,
    environment: 'dev',
    image: FAULTY,
    manifests: stableManifest(3),
    analysis: { durationSeconds: 300, canaryPercent: 25 },
  });
  const analysis = await until('the canary analysis to end', 330, async () => {
    const a = await api(
      auth,
      'GET',
      `/deployments/${deployed.deployment.id}/analysis`,
    );
    return a.finishedAt ? a : undefined;
  });
  if (analysis.status !== 'failed' || analysis.canary?.outcome !== 'removed')
    throw new Error(`the canary analysis ended ${JSON.stringify(analysis)}`);
  const removedAt = Date.parse(analysis.finishedAt) / 1000;
  // Past the last scrape of the canary's pods.
  await new Promise(r => setTimeout(r, 10_000));
  const to = removedAt + 10;
  const canary = await served(analysis.selector, sentAt, to);
  const stablePods = await served(analysis.canary.stableSelector, sentAt, to);
  if (!(canary > 0) || !(stablePods > 0))
    throw new Error(
      `no requests counted: canary ${canary}, stable ${stablePods} (${analysis.selector}, ${analysis.canary.stableSelector})`,
    );
  return {
    share: canary / (canary + stablePods),
    podShare: analysis.canary.share,
    lifeSeconds: removedAt - sentAt,
  };
}

async function main() {
  const auth = await guestToken();
  const original = (await devStatus(auth)).image as string;
  const runs: Run[] = [];
  const canaryRuns: CanaryRun[] = [];
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
    for (let i = 0; i < CANARY_ITERATIONS; i++) {
      const run = await canaryRun(auth, i);
      canaryRuns.push(run);
      console.log(
        `canary run ${i + 1}: the faulty release served ${(
          run.share * 100
        ).toFixed(1)} % of the requests (${(run.podShare * 100).toFixed(
          0,
        )} % of the pods) over the canary's ${run.lifeSeconds.toFixed(
          0,
        )} s life`,
      );
    }
  } finally {
    // The built-in manifests' autoscaler keeps the live replica count on a
    // deploy: the inline manifests (no autoscaler) put back its 2 first.
    if (canaryRuns.length)
      await deployAndWait(auth, original, stableManifest(2)).catch(e =>
        console.error(`could not put dev back on 2 replicas: ${e}`),
      );
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
  if (canaryRuns.length) {
    const shares = canaryRuns.map(r => r.share * 100);
    console.log(
      `  25 % canary of the faulty release, ${
        canaryRuns.length
      } runs: its share of the requests median ${median(shares).toFixed(
        1,
      )} %, worst ${Math.max(...shares).toFixed(
        1,
      )} % (target ≤ 30 %); canary life median ${median(
        canaryRuns.map(r => r.lifeSeconds),
      ).toFixed(0)} s`,
    );
  }
}

await main();
