// The health benchmark's workloads: `apply <n>` creates a Deployment for
// each of the n generated model services (bench/catalog.ts) in the demo
// namespace of both clusters, so the overview's one Deployment list per
// cluster carries them all. The first BENCH_RUNNING (default 400; kwok's
// node takes 500 pods) run one pod each on it (kwok makes them Ready; they
// run nothing); the others are scaled to zero and paused, so the controller
// creates no ReplicaSets for them during the run. `delete` removes them all and waits
// until they are gone.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const CLUSTERS = ['dev', 'prod'];
const LABEL = 'modelops.bench/workload';
const RUNNING = Number(process.env.BENCH_RUNNING ?? 400);

function kubectlPath(): string {
  const bin = path.join(
    process.env.MODELOPS_CACHE ?? path.join(os.homedir(), '.cache', 'modelops'),
    'bin',
  );
  const dir = readdirSync(bin)
    .filter(d => d.startsWith('kubectl-v'))
    .sort()
    .pop();
  if (!dir) throw new Error(`no kubectl under ${bin}`);
  return path.join(bin, dir, 'kubectl');
}

function kubectl(cluster: string, args: string[], input?: string): string {
  const r = spawnSync(
    kubectlPath(),
    [
      '--kubeconfig',
      path.join(REPO_ROOT, '.platform', cluster, 'admin.kubeconfig'),
      ...args,
    ],
    { input, encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  if (r.status !== 0)
    throw new Error(`kubectl ${args.join(' ')} (${cluster}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Polls `count` in each cluster every 5 s until `done` holds for all, or
 * fails after 15 min saying what `count` still answers.
 */
function waitInEachCluster(
  what: string,
  count: (cluster: string) => number,
  done: (n: number) => boolean,
) {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const counts = CLUSTERS.map(count);
    if (counts.every(done)) return;
    if (Date.now() > deadline)
      throw new Error(`after 15 min ${counts.join(' and ')} ${what}`);
    spawnSync('sleep', ['5']);
  }
}

function deployment(i: number) {
  const name = `svc-${String(i).padStart(5, '0')}`;
  const running = i < RUNNING;
  const labels = { 'backstage.io/kubernetes-id': name, app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'models',
      labels: { ...labels, [LABEL]: 'true' },
    },
    spec: {
      replicas: running ? 1 : 0,
      paused: !running,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: {
          nodeSelector: { type: 'kwok' },
          tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists' }],
          containers: [
            {
              name: 'model',
              image: `registry.modelops.local/bench/${name}:0.1.0`,
            },
          ],
        },
      },
    },
  };
}

function apply(n: number) {
  const started = Date.now();
  for (const cluster of CLUSTERS) {
    for (let from = 0; from < n; from += 500) {
      const items = [];
      for (let i = from; i < Math.min(n, from + 500); i++)
        items.push(deployment(i));
      kubectl(
        cluster,
        ['apply', '--server-side', '--field-manager=modelops-bench', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
      );
    }
  }
  const running = Math.min(n, RUNNING);
  // The pods, not the Deployments' status: at 10,000 Deployments the
  // controller-manager (20 API requests a second by default) takes many
  // minutes to write every Deployment's status, long after kwok made the
  // pods Ready.
  waitInEachCluster(
    `of ${running} bench pods are ready`,
    cluster =>
      kubectl(cluster, [
        'get',
        'pods',
        '-n',
        'models',
        '-l',
        'backstage.io/kubernetes-id',
        '-o',
        'jsonpath={range .items[*]}{.metadata.labels.app}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
      ])
        .split('\n')
        .filter(l => /^svc-\d+ True$/.test(l)).length,
    ready => ready >= running,
  );
  console.log(
    `workloads: ${n} Deployments in each of ${CLUSTERS.join(
      ', ',
    )} (${running} with a Ready pod on kwok's node, the rest scaled to zero) in ${(
      (Date.now() - started) /
      1000
    ).toFixed(0)} s`,
  );
}

function remove() {
  const started = Date.now();
  for (const cluster of CLUSTERS)
    kubectl(cluster, [
      'delete',
      'deployments',
      '-n',
      'models',
      '-l',
      LABEL,
      '--wait=false',
    ]);
  waitInEachCluster(
    'bench objects remain',
    cluster =>
      kubectl(cluster, [
        'get',
        'pods,replicasets,deployments',
        '-n',
        'models',
        '-l',
        'backstage.io/kubernetes-id',
        '-o',
        'name',
      ])
        .split('\n')
        .filter(l => /\/svc-\d+/.test(l)).length,
    left => left === 0,
  );
  console.log(
    `workloads removed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

const [command, n] = process.argv.slice(2);
if (command === 'apply' && n) apply(Number(n));
else if (command === 'delete') remove();
else {
  console.error('usage: workloads.ts apply <n> | delete');
  process.exit(2);
}
