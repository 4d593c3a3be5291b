// Benchmark: an image build of component:default/fraud-detector (its Gitea
// repository at the commit `main` names) from trigger to pushed image, three
// ways, in one run:
//  1. ModelOps: POST /api/modelops/builds (a fresh idempotency key each time,
//     `rebuild: true`, so a Job builds even though the commit was built),
//     then GET /api/modelops/builds/{id} every 250 ms until it reports
//     `succeeded` with a digest: what a client of the API waits.
//     Beside it, the same trigger without `rebuild`: the earlier build of
//     the same inputs comes back (200, `ModelOps-Build-Reused`), already
//     succeeded with its digest, and nothing is built, as BuildKit's warm
//     cache builds nothing for (3).
//  2. The same Job without ModelOps: the Job ModelOps created for the cold
//     build of (1), read back, renamed and given its own output tag, created
//     with `kubectl create -f` (admin kubeconfig), until its Complete
//     condition (seen by a watch, as `kubectl wait` would).
//  3. BuildKit's own CLI on the host: the platform's buildkitd, on a unix
//     socket and a root under a temp dir, host network, a config mirroring
//     registry.modelops.local to the platform registry on loopback; buildctl
//     builds the same commit from Gitea on loopback and pushes to that
//     registry. Cold: a daemon started on a fresh root for that one build
//     (its start counted); warm: one long-lived daemon whose cache is kept
//     (primed by one unmeasured build).
// One cold run of each first, then BENCH_BUILD_ITERATIONS (default 5) warm
// runs of each, interleaved. A watch on the builds namespace times every Job
// and pod transition on the client's clock, which splits each build into
// trigger, pod start, container and completion; /proc gives the CPU the
// backend, the dev API server and the whole machine used during each build.
// Every pushed tag is checked
// in the registry (HEAD of its manifest), and each ModelOps digest against
// the registry's for the build's tag. Figures are printed, not asserted.
//
// The host daemon runs in a mount namespace of its own whose resolv.conf
// names 127.0.0.1 only, so no name it looks up is resolved off the machine.
// Every daemon, temp dir and Job of the run is removed at the end, also on
// failure or a signal; the ModelOps builds stay in the entity's build history
// (their Jobs, and so their logs, are deleted), and the pushed tags stay in
// the registry (it deletes manifests only by digest, which every tag of the
// same content shares).
//
// Run with `yarn bench` (scripts/bench; BENCH_ONLY=build for this part
// alone), which brings up the local platform and the backend first.
import { KubeConfig, Watch } from '@kubernetes/client-node';
import {
  execFile,
  spawn,
  spawnSync,
  type ChildProcess,
} from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  BUILDS_NAMESPACE,
  CACHE_DIR,
  STATE_DIR,
} from '../test/platform/lib/layout.ts';
import { podNetwork, routeInterface } from '../test/platform/lib/network.ts';
import { GITEA_PORT, HOST, REGISTRY_PORT } from '../test/platform/ports.ts';
import { median, p90 } from './stats.ts';
import { machineBusyMs, processCpuMs } from './cpu.ts';
import { BACKEND, guestToken, postJson } from './backend.ts';

const run = promisify(execFile);

const ITERATIONS = Number(process.env.BENCH_BUILD_ITERATIONS ?? 5);
const ENTITY_REF = 'component:default/fraud-detector';
/** How often a client asks the API about an unfinished build. */
const POLL_MS = 250;
/** A build's Job may run this long (modelops.builds.buildkit.activeDeadlineSeconds). */
const BUILD_TIMEOUT_MS = 900_000;
const CONTAINER = 'buildkit';
const KUBECONFIG = path.join(STATE_DIR, 'dev', 'admin.kubeconfig');
const REGISTRY = `${HOST}:${REGISTRY_PORT}`;
/** The run's own name: in its Jobs' names and labels and its tags. */
const RUN = Date.now().toString(36);
const BENCH_LABELS = {
  'app.kubernetes.io/managed-by': 'modelops-bench',
  'modelops-bench/run': RUN,
};
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** The newest pinned binary `<name>-v*\/<name>` under the platform's cache. */
function pinned(name: string): string {
  const bin = path.join(CACHE_DIR, 'bin');
  const dir = readdirSync(bin)
    .filter(d => d.startsWith(`${name}-v`))
    .sort()
    .pop();
  if (!dir)
    throw new Error(
      `no ${name} under ${bin}; run node test/platform/cli.ts build`,
    );
  return path.join(bin, dir, name);
}
const KUBECTL = pinned('kubectl');
const BUILDKITD = pinned('buildkitd');
const BUILDCTL = pinned('buildctl');

// ---------------------------------------------------------------- cleanup

/** Everything the run started or created: removed at the end of `main`, or by the exit handler. */
const owned = {
  daemons: new Set<Daemon>(),
  dirs: new Set<string>(),
  /** Names of Jobs in the builds namespace: the run's own and those of its ModelOps builds. */
  jobs: new Set<string>(),
};

function deleteJobsSync(): void {
  if (!owned.jobs.size) return;
  spawnSync(
    KUBECTL,
    [
      '--kubeconfig',
      KUBECONFIG,
      '-n',
      BUILDS_NAMESPACE,
      'delete',
      'job',
      ...owned.jobs,
      '--cascade=background',
      '--ignore-not-found',
      '--wait=false',
    ],
    { stdio: 'ignore', timeout: 30_000 },
  );
  owned.jobs.clear();
}

/** True once the process is gone or a zombie (it no longer runs). */
function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** For the exit handler: kills what is left, waits (briefly) and removes the temp dirs. */
function cleanupSync(): void {
  for (const d of owned.daemons) {
    const pid = d.proc.pid;
    if (pid && !ended(pid)) {
      process.kill(pid, 'SIGKILL');
      const until = Date.now() + 5000;
      while (!ended(pid) && Date.now() < until)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  owned.daemons.clear();
  for (const dir of owned.dirs) rmSync(dir, { recursive: true, force: true });
  owned.dirs.clear();
  deleteJobsSync();
}
process.on('exit', cleanupSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  owned.dirs.add(dir);
  return dir;
}

// ---------------------------------------------------------------- statistics

/** The median of the values that were measured; NaN when none was. */
function medianOf(values: (number | undefined)[]): number {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? median(known) : NaN;
}

/** The end of a (possibly long) error message: a failed command's last lines of output. */
const lastLines = (text: string, n = 12) =>
  text.trim().split('\n').slice(-n).join('\n    ');

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

// ---------------------------------------------------------------- CPU

/** The backend's own process: the one listening on the backend URL's port. */
function backendPid(): number | undefined {
  const port = new URL(BACKEND).port || '80';
  const out =
    spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' })
      .stdout ?? '';
  const pid = /pid=(\d+)/.exec(out)?.[1];
  return pid ? Number(pid) : undefined;
}

/** The dev cluster's API server, from the platform's state. */
function apiserverPid(): number | undefined {
  try {
    const state = JSON.parse(
      readFileSync(path.join(STATE_DIR, 'state.json'), 'utf8'),
    ) as { processes?: { name: string; pid: number }[] };
    return state.processes?.find(p => p.name === 'dev-kube-apiserver')?.pid;
  } catch {
    return undefined;
  }
}

/** CPU time used, in ms: by the backend, by the dev API server, by the whole machine. */
interface Cpu {
  backend?: number;
  apiserver?: number;
  machine: number;
}
const PIDS = { backend: backendPid(), apiserver: apiserverPid() };

function cpuNow(): Cpu {
  return {
    backend: processCpuMs(PIDS.backend),
    apiserver: processCpuMs(PIDS.apiserver),
    machine: machineBusyMs(),
  };
}

function cpuSince(start: Cpu): Cpu {
  const now = cpuNow();
  const minus = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a - b;
  return {
    backend: minus(now.backend, start.backend),
    apiserver: minus(now.apiserver, start.apiserver),
    machine: now.machine - start.machine,
  };
}

// ---------------------------------------------------------------- the watch

/** When the client first saw each step of one Job (performance.now() ms). */
interface Timeline {
  job?: number;
  pod?: number;
  podName?: string;
  running?: number;
  terminated?: number;
  exitCode?: number;
  /** The container's termination message: buildctl's metadata JSON. */
  message?: string;
  /** The pod's phase became Succeeded or Failed (the kubelet has stopped it). */
  podDone?: number;
  complete?: number;
  failed?: string;
}

/**
 * Watches the builds namespace's Jobs and pods and records, per Job, the
 * first time each state was seen. A watch the server ends is started again;
 * its replay of existing objects changes nothing already recorded.
 */
function watchBuilds() {
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);
  const watch = new Watch(kc);
  const timelines = new Map<string, Timeline>();
  const jobOfBuild = new Map<string, string>();
  const waiters = new Set<() => void>();
  const aborts = new Set<AbortController>();
  let stopped = false;
  const of = (job: string): Timeline => {
    let t = timelines.get(job);
    if (!t) timelines.set(job, (t = {}));
    return t;
  };
  const changed = () => {
    for (const w of [...waiters]) w();
  };
  const onJob = (type: string, job: any) => {
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    const now = performance.now();
    const name: string = job.metadata.name;
    const t = of(name);
    t.job ??= now;
    const buildId = job.metadata.labels?.['modelops/build-id'];
    if (buildId) jobOfBuild.set(buildId, name);
    for (const c of (job.status?.conditions ?? []) as any[]) {
      if (c.status !== 'True') continue;
      if (c.type === 'Complete' || c.type === 'SuccessCriteriaMet')
        t.complete ??= now;
      if (c.type === 'Failed' || c.type === 'FailureTarget')
        t.failed ??= `${c.reason ?? c.type}: ${c.message ?? ''}`;
    }
    changed();
  };
  const onPod = (type: string, pod: any) => {
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    const now = performance.now();
    const labels = pod.metadata.labels ?? {};
    const name = labels['batch.kubernetes.io/job-name'] ?? labels['job-name'];
    if (!name) return;
    const t = of(name);
    t.pod ??= now;
    t.podName ??= pod.metadata.name;
    const container = ((pod.status?.containerStatuses ?? []) as any[]).find(
      c => c.name === CONTAINER,
    );
    if (container?.state?.running) t.running ??= now;
    const terminated = container?.state?.terminated;
    if (terminated && t.terminated === undefined) {
      t.terminated = now;
      t.exitCode = terminated.exitCode;
      t.message = terminated.message;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')
      t.podDone ??= now;
    changed();
  };
  const start = async (
    resource: string,
    onEvent: (type: string, obj: any) => void,
  ): Promise<void> => {
    const controller = await watch.watch(
      resource,
      { allowWatchBookmarks: false },
      onEvent,
      () => {
        aborts.delete(controller);
        if (!stopped)
          setTimeout(() => {
            if (!stopped) start(resource, onEvent).catch(() => undefined);
          }, 200);
      },
    );
    aborts.add(controller);
  };
  return {
    async start() {
      await start(`/apis/batch/v1/namespaces/${BUILDS_NAMESPACE}/jobs`, onJob);
      await start(`/api/v1/namespaces/${BUILDS_NAMESPACE}/pods`, onPod);
    },
    timeline: (job: string): Timeline => of(job),
    jobOfBuild: (id: string): string | undefined => jobOfBuild.get(id),
    /** Resolves once `done` holds for the Job's timeline; throws on failure or timeout. */
    until(job: string, done: (t: Timeline) => boolean): Promise<Timeline> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`Job ${job} did not finish in time`));
        }, BUILD_TIMEOUT_MS);
        const check = () => {
          const t = of(job);
          if (done(t)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(t);
          } else if (t.failed) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`Job ${job} failed: ${t.failed}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    stop() {
      stopped = true;
      for (const a of aborts) a.abort();
      aborts.clear();
    },
  };
}
type BuildWatch = ReturnType<typeof watchBuilds>;

// ---------------------------------------------------------------- kubectl

async function kubectl(args: string[]): Promise<string> {
  const { stdout } = await run(
    KUBECTL,
    ['--kubeconfig', KUBECONFIG, '-n', BUILDS_NAMESPACE, ...args],
    { maxBuffer: 16 << 20 },
  );
  return stdout;
}

/** Seconds the Dockerfile's FROM step took in a build log (base image pull and unpack); 0 when cached. */
function fromSeconds(log: string): number | undefined {
  const step = /^#(\d+) \[[^\]]*\] FROM /m.exec(log)?.[1];
  if (!step) return undefined;
  if (new RegExp(`^#${step} CACHED`, 'm').test(log)) return 0;
  const done = new RegExp(`^#${step} DONE ([\\d.]+)s`, 'm').exec(log)?.[1];
  return done === undefined ? undefined : Number(done);
}

async function podLog(pod: string | undefined): Promise<string> {
  if (!pod) return '';
  return kubectl(['logs', pod, '-c', CONTAINER]).catch(() => '');
}

function digestOf(metadata: string | undefined): string | undefined {
  try {
    const d = JSON.parse(metadata ?? '{}')['containerimage.digest'];
    return typeof d === 'string' ? d : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- the network

/**
 * Throws unless every address the Job's build reaches is loopback or the
 * host's own address on the dev cluster's pod bridge (routed locally): the
 * build pod is to reach Gitea and the registry there and nowhere else.
 */
function checkJobTargets(args: string[]): void {
  const hosts = new Set<string>();
  for (const a of args) {
    const context = /^--opt=context=([^#]+)/.exec(a)?.[1];
    if (context) hosts.add(new URL(context).hostname);
    const output = /^--output=.*\bname=([^,/]+)\//.exec(a)?.[1];
    if (output) hosts.add(output.replace(/:\d+$/, ''));
  }
  for (const host of hosts)
    if (!host.startsWith('127.')) checkBridgeAddress(host);
}

/** Throws unless `host` is this host's address on the dev cluster's pod bridge, routed locally. */
function checkBridgeAddress(host: string): void {
  const netw = podNetwork('dev');
  const addrs = spawnSync(
    'ip',
    ['-4', '-o', 'addr', 'show', 'dev', netw.bridge],
    { encoding: 'utf8' },
  ).stdout;
  const dev = routeInterface(host);
  if (
    host !== netw.hostIp ||
    !addrs.includes(` ${host}/`) ||
    (dev !== 'lo' && dev !== netw.bridge)
  )
    throw new Error(
      `a build would reach ${host} (route ${
        dev ?? 'missing'
      }), not the host's address ${netw.hostIp} on the platform bridge ${
        netw.bridge
      }: not starting it`,
    );
}

// ---------------------------------------------------------------- 1. ModelOps

/**
 * The backend stopped answering in the middle of a build (the development
 * server restarts when a source file changes): that build is repeated.
 */
class BackendGone extends Error {
  /** The Job of the interrupted build, if it was created. */
  job?: string;
}

/** A request to the backend; a refused connection or a 502/503/504 is BackendGone. */
async function backend(url: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new BackendGone(
      `the backend stopped answering (${cause ?? (error as Error).message})`,
    );
  }
  if ([502, 503, 504].includes(res.status))
    throw new BackendGone(`the backend answered ${res.status}`);
  return res;
}

/** Waits (up to 5 minutes) until the backend is ready again. */
async function backendReady(): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const ok = await fetch(`${BACKEND}/.backstage/health/v1/readiness`)
      .then(r => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`the backend at ${BACKEND} did not come back`);
    await sleep(1000);
  }
}

interface Measured {
  ms: number;
  /** Client times (ms after the start) of the Job's steps, where measured. */
  job?: number;
  pod?: number;
  running?: number;
  terminated?: number;
  podDone?: number;
  complete?: number;
  /** ModelOps only: when the POST answered. */
  answered?: number;
  fromSeconds?: number;
  /** CPU used while the build ran. */
  cpu?: Cpu;
  /** ModelOps only: GET /builds/{id} requests until it succeeded. */
  polls?: number;
  tag: string;
  digest: string;
  jobName?: string;
}

function relative(t: Timeline, t0: number) {
  const at = (v: number | undefined) => (v === undefined ? undefined : v - t0);
  return {
    job: at(t.job),
    pod: at(t.pod),
    running: at(t.running),
    terminated: at(t.terminated),
    podDone: at(t.podDone),
    complete: at(t.complete),
  };
}

/** POST /builds of the entity with a fresh idempotency key. */
const triggerBuild = (auth: string, options: { rebuild?: boolean }) =>
  backend(
    `${BACKEND}/api/modelops/builds`,
    postJson(auth, {
      entityRef: ENTITY_REF,
      idempotencyKey: `bench-${randomUUID()}`,
      ...options,
    }),
  );

async function modelopsBuild(
  auth: string,
  watch: BuildWatch,
): Promise<Measured> {
  const headers = { Authorization: `Bearer ${auth}` };
  const cpu = cpuNow();
  const t0 = performance.now();
  const res = await triggerBuild(auth, { rebuild: true });
  const answered = performance.now() - t0;
  const created = (await res.json()) as any;
  if (res.status !== 201)
    throw new Error(
      `POST /builds answered ${res.status}: ${
        created?.error?.message ?? JSON.stringify(created)
      }`,
    );
  const id: string = created.id;
  // BuildkitBuilder names the Job after the build; the watch tells for sure.
  const trackJob = () => {
    const name = watch.jobOfBuild(id) ?? `modelops-build-${id}`;
    owned.jobs.add(name);
    return name;
  };
  trackJob();
  let build = created;
  let polled = t0;
  let polls = 0;
  const poll = async () => {
    try {
      return await backend(`${BACKEND}/api/modelops/builds/${id}`, {
        headers,
      });
    } catch (error) {
      if (error instanceof BackendGone) error.job = trackJob();
      throw error;
    }
  };
  for (;;) {
    if (build.status === 'succeeded') break;
    if (['failed', 'cancelled'].includes(build.status))
      throw new Error(
        `ModelOps build ${id} ${build.status}: ${build.reason ?? ''} ${
          build.message ?? ''
        }`,
      );
    if (performance.now() - t0 > BUILD_TIMEOUT_MS)
      throw new Error(`ModelOps build ${id} did not finish in time`);
    await sleep(Math.max(0, polled + POLL_MS - performance.now()));
    polled = performance.now();
    polls++;
    const r = await poll();
    if (!r.ok) throw new Error(`GET /builds/${id} answered ${r.status}`);
    build = await r.json();
  }
  const ms = performance.now() - t0;
  const used = cpuSince(cpu);
  if (!build.digest)
    throw new Error(`ModelOps build ${id} succeeded without a digest`);
  const jobName = trackJob();
  const t = watch.timeline(jobName);
  return {
    ms,
    answered,
    cpu: used,
    polls,
    ...relative(t, t0),
    fromSeconds: fromSeconds(await podLog(t.podName)),
    tag: build.tag,
    digest: build.digest,
    jobName,
  };
}

/**
 * A trigger of the same commit and inputs without `rebuild`: the earlier
 * build comes back, succeeded with its digest, and no Job is created.
 */
async function modelopsReused(auth: string): Promise<Measured> {
  const cpu = cpuNow();
  const t0 = performance.now();
  const res = await triggerBuild(auth, {});
  const build = (await res.json()) as any;
  const ms = performance.now() - t0;
  if (
    res.status !== 200 ||
    res.headers.get('modelops-build-reused') !== 'true' ||
    build.status !== 'succeeded' ||
    !build.digest
  )
    throw new Error(
      `POST /builds of a built commit answered ${res.status} ${
        build.status ?? build?.error?.message ?? ''
      } without reusing the earlier build`,
    );
  return {
    ms,
    answered: ms,
    cpu: cpuSince(cpu),
    tag: build.tag,
    digest: build.digest,
  };
}

// ---------------------------------------------------------------- 2. the same Job

/** The Job ModelOps created, as a new Job of the run's: its own name, labels and output tag. */
function sameJob(source: any, name: string, tag: string): any {
  const spec = structuredClone(source.spec);
  // Generated by the API server from the source Job's uid: a new Job gets its own.
  delete spec.selector;
  spec.template.metadata = {
    ...spec.template.metadata,
    labels: BENCH_LABELS,
  };
  const container = (spec.template.spec.containers as any[]).find(
    c => c.name === CONTAINER,
  );
  container.args = (container.args as string[]).map(a =>
    a.startsWith('--output=')
      ? a.replace(/\bname=([^,]+):[^:,/]+(?=,|$)/, `name=$1:${tag}`)
      : a,
  );
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: BUILDS_NAMESPACE, labels: BENCH_LABELS },
    spec,
  };
}

async function directJob(
  source: any,
  label: string,
  watch: BuildWatch,
  dir: string,
): Promise<Measured> {
  const name = `bench-build-${RUN}-${label}`;
  const tag = `bench-job-${RUN}-${label}`;
  const job = sameJob(source, name, tag);
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(job));
  owned.jobs.add(name);
  const cpu = cpuNow();
  const t0 = performance.now();
  await run(KUBECTL, ['--kubeconfig', KUBECONFIG, 'create', '-f', file]);
  const t = await watch.until(name, x => x.complete !== undefined);
  const ms = (t.complete ?? performance.now()) - t0;
  const used = cpuSince(cpu);
  if (t.exitCode !== 0)
    throw new Error(`Job ${name} completed, but buildctl exited ${t.exitCode}`);
  const digest = digestOf(t.message);
  if (!digest) throw new Error(`Job ${name} reported no digest`);
  return {
    ms,
    cpu: used,
    ...relative(t, t0),
    fromSeconds: fromSeconds(await podLog(t.podName)),
    tag,
    digest,
    jobName: name,
  };
}

// ---------------------------------------------------------------- 3. host buildctl

interface Daemon {
  proc: ChildProcess;
  dir: string;
  socket: string;
  log: string;
  exited: Promise<void>;
}

/**
 * Starts buildkitd on a fresh root under a temp dir, in a mount namespace of
 * its own whose /etc/resolv.conf names only 127.0.0.1, and waits until its
 * socket accepts connections. Returns it and how long that took.
 */
async function startDaemon(): Promise<{ daemon: Daemon; readyMs: number }> {
  const dir = tempDir('modelops-bench-buildkitd-');
  const config = path.join(dir, 'buildkitd.toml');
  writeFileSync(
    config,
    [
      '[worker.oci]',
      '  enabled = true',
      '[worker.containerd]',
      '  enabled = false',
      '[registry."registry.modelops.local"]',
      `  mirrors = ["${REGISTRY}"]`,
      `[registry."${REGISTRY}"]`,
      '  http = true',
      '  insecure = true',
      '',
    ].join('\n'),
  );
  const resolv = path.join(dir, 'resolv.conf');
  writeFileSync(resolv, 'nameserver 127.0.0.1\n');
  const socket = path.join(dir, 'buildkitd.sock');
  const log = path.join(dir, 'buildkitd.log');
  const out = openSync(log, 'w');
  const t0 = performance.now();
  const proc = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"',
      'buildkitd',
      resolv,
      BUILDKITD,
      `--addr=unix://${socket}`,
      `--root=${path.join(dir, 'root')}`,
      `--config=${config}`,
      '--oci-worker-net=host',
    ],
    {
      stdio: ['ignore', out, out],
      // No proxy settings reach it: everything it fetches is on loopback.
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: dir,
      },
    },
  );
  closeSync(out);
  let spawnError: Error | undefined;
  const exited = new Promise<void>(resolve => {
    proc.once('exit', () => resolve());
    proc.once('error', error => {
      spawnError = error;
      resolve();
    });
  });
  const daemon: Daemon = { proc, dir, socket, log, exited };
  owned.daemons.add(daemon);
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = t0 + 60_000;
  for (;;) {
    if (gone)
      throw new Error(
        `buildkitd exited at start (${
          spawnError ? spawnError.message : `code ${proc.exitCode}`
        }): ${readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .slice(-10)
          .join('\n')}`,
      );
    if (existsSync(socket) && (await accepts(socket))) break;
    if (performance.now() > deadline)
      throw new Error(`buildkitd did not listen on ${socket} within 60 s`);
    await sleep(20);
  }
  return { daemon, readyMs: performance.now() - t0 };
}

function accepts(socket: string): Promise<boolean> {
  return new Promise(resolve => {
    const c = net.connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

async function stopDaemon(daemon: Daemon): Promise<void> {
  if (daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
    daemon.proc.kill('SIGTERM');
    const killed = await Promise.race([
      daemon.exited.then(() => false),
      sleep(15_000).then(() => true),
    ]);
    if (killed) {
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
    }
  }
  owned.daemons.delete(daemon);
  rmSync(daemon.dir, { recursive: true, force: true });
  owned.dirs.delete(daemon.dir);
}

/** The build's options for buildctl on the host: the Job's, the git context on loopback. */
function hostOptions(jobArgs: string[]): string[] {
  return jobArgs
    .filter(a => a.startsWith('--frontend=') || a.startsWith('--opt='))
    .map(a => {
      const m = /^--opt=context=([^#]+)(#.*)?$/.exec(a);
      if (!m) return a;
      const url = new URL(m[1]!);
      url.host = `${HOST}:${GITEA_PORT}`;
      return `--opt=context=${url.toString()}${m[2] ?? ''}`;
    });
}

async function hostBuild(
  daemon: Daemon,
  options: string[],
  repository: string,
  tag: string,
): Promise<Measured> {
  const metadata = path.join(daemon.dir, `${tag}.json`);
  const cpu = cpuNow();
  const t0 = performance.now();
  const { stderr } = await run(
    BUILDCTL,
    [
      `--addr=unix://${daemon.socket}`,
      'build',
      '--progress=plain',
      ...options,
      `--output=type=image,name=${REGISTRY}/${repository}:${tag},push=true`,
      `--metadata-file=${metadata}`,
    ],
    { maxBuffer: 16 << 20 },
  );
  const ms = performance.now() - t0;
  const used = cpuSince(cpu);
  const digest = digestOf(readFileSync(metadata, 'utf8'));
  if (!digest) throw new Error(`buildctl reported no digest for ${tag}`);
  return { ms, cpu: used, fromSeconds: fromSeconds(stderr), tag, digest };
}

// ---------------------------------------------------------------- the registry

async function registryDigest(
  repository: string,
  tag: string,
): Promise<string | undefined> {
  const res = await fetch(
    `http://${REGISTRY}/v2/${repository}/manifests/${tag}`,
    { method: 'HEAD', headers: { accept: MANIFEST_TYPES } },
  );
  return res.ok
    ? res.headers.get('docker-content-digest') ?? undefined
    : undefined;
}

// ---------------------------------------------------------------- the report

interface HostCold {
  /** From starting buildkitd until its socket accepted a connection. */
  readyMs: number;
  m: Measured;
}

type Step = Exclude<
  keyof Measured,
  'tag' | 'digest' | 'jobName' | 'fromSeconds' | 'cpu' | 'polls'
>;

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
/** "120 ms more" or "30 ms less". */
const more = (n: number) =>
  Number.isFinite(n)
    ? `${fmt(Math.abs(n))} ms ${n < 0 ? 'less' : 'more'}`
    : '- ms more';
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '-';
const fromMs = (x: Measured) =>
  x.fromSeconds === undefined ? undefined : x.fromSeconds * 1000;
/** The median time from one step to another (0: the start) over the runs that saw both. */
const between = (xs: Measured[], from: Step | 0, to: Step) =>
  medianOf(
    xs.map(x => {
      const a = from === 0 ? 0 : x[from];
      const b = x[to];
      return a === undefined || b === undefined ? undefined : b - a;
    }),
  );

async function report(r: {
  title: string;
  repository: string;
  modelops: { cold: Measured; warm: Measured[] };
  /** Triggers of the built commit that got the earlier build back. */
  reused: Measured[];
  job: { cold: Measured; warm: Measured[] };
  host: { cold?: HostCold; warm: Measured[]; error?: string };
  pushed: { variant: string; m: Measured }[];
  /** ModelOps builds repeated because the backend restarted during them. */
  repeated: number;
}): Promise<void> {
  const ms = (xs: Measured[]) => xs.map(x => x.ms);
  const warmMedian = (xs: Measured[]) => (xs.length ? median(ms(xs)) : NaN);
  const warmP90 = (xs: Measured[]) => (xs.length ? p90(ms(xs)) : NaN);
  const m = r.modelops.warm;
  const j = r.job.warm;
  const h = r.host.warm;
  const hostColdMs = r.host.cold ? r.host.cold.readyMs + r.host.cold.m.ms : NaN;

  console.log(
    `${r.title}: 1 cold + ${ITERATIONS} warm runs per variant, interleaved`,
  );
  if (r.repeated)
    console.log(
      `  (${r.repeated} ModelOps build(s) repeated: the backend restarted during them)`,
    );
  const row = (name: string, cold: string, med: string, p: string) =>
    console.log(
      `  ${name.padEnd(56)} ${cold.padStart(8)} ${med.padStart(
        12,
      )} ${p.padStart(8)}`,
    );
  row('variant', 'cold ms', 'warm med ms', 'p90 ms');
  const variants: [string, number, Measured[]][] = [
    [
      '1 ModelOps rebuild: POST -> GET /builds/{id} succeeded',
      r.modelops.cold.ms,
      m,
    ],
    ['  same inputs, no rebuild: POST -> earlier build (200)', NaN, r.reused],
    ['2 same Job: kubectl create -> Job complete', r.job.cold.ms, j],
    ['3 host buildctl, own buildkitd (cold: start + build)', hostColdMs, h],
  ];
  for (const [name, cold, warm] of variants)
    row(name, fmt(cold), fmt(warmMedian(warm)), fmt(warmP90(warm)));
  const mMed = warmMedian(m);
  const jMed = warmMedian(j);
  const hMed = warmMedian(h);
  console.log(
    `  ratio ModelOps / direct Job, warm medians            ${ratio(
      mMed,
      jMed,
    )}`,
  );
  console.log(
    `  ratio ModelOps rebuild / host buildctl warm          ${ratio(
      mMed,
      hMed,
    )}   (a Job: its pod, a fresh buildkitd)`,
  );
  console.log(
    `  ratio ModelOps same inputs / host buildctl warm      ${ratio(
      warmMedian(r.reused),
      hMed,
    )}   (target: at most 1.3; both build nothing)`,
  );

  const phases: [string, number, number][] = [
    [
      'trigger -> Job exists (POST; kubectl create)',
      between(m, 0, 'job'),
      between(j, 0, 'job'),
    ],
    ['  the POST answered', between(m, 0, 'answered'), NaN],
    [
      'Job -> pod exists (Job controller)',
      between(m, 'job', 'pod'),
      between(j, 'job', 'pod'),
    ],
    [
      'pod -> container running (schedule, sandbox, volumes)',
      between(m, 'pod', 'running'),
      between(j, 'pod', 'running'),
    ],
    [
      'container running -> exited (buildkitd, build, push)',
      between(m, 'running', 'terminated'),
      between(j, 'running', 'terminated'),
    ],
    [
      '  of which FROM: base image pull + unpack (log)',
      medianOf(m.map(fromMs)),
      medianOf(j.map(fromMs)),
    ],
    [
      'container exited -> client knows (250 ms API poll; Job complete)',
      between(m, 'terminated', 'ms'),
      between(j, 'terminated', 'ms'),
    ],
    [
      '  container exited -> pod Succeeded (kubelet stops it)',
      NaN,
      between(j, 'terminated', 'podDone'),
    ],
    [
      '  pod Succeeded -> Job complete (Job controller)',
      NaN,
      between(j, 'podDone', 'complete'),
    ],
  ];
  console.log(
    `  where the time goes: warm medians, ms on the client's clock  ${'ModelOps'.padStart(
      8,
    )} ${'direct Job'.padStart(10)}`,
  );
  for (const [name, a, b] of phases)
    console.log(
      `    ${name.padEnd(58)} ${fmt(a).padStart(8)} ${fmt(b).padStart(10)}`,
    );
  if (r.host.cold)
    console.log(
      `  host: cold = buildkitd ready in ${fmt(
        r.host.cold.readyMs,
      )} ms + build ${fmt(r.host.cold.m.ms)} ms (FROM ${fmt(
        fromMs(r.host.cold.m) ?? NaN,
      )} ms); warm builds: FROM ${fmt(
        medianOf(h.map(fromMs)),
      )} ms (every step cached)`,
    );
  if (r.host.error)
    console.log(`  host buildctl did not work:\n    ${r.host.error}`);

  // CPU used while the builds ran: the backend, the API server, everything.
  const cpu = (xs: Measured[], k: keyof Cpu) =>
    medianOf(xs.map(x => x.cpu?.[k]));
  const cores = (xs: Measured[]) =>
    medianOf(xs.map(x => (x.cpu ? x.cpu.machine / x.ms : undefined)));
  console.log(
    `  CPU used while a build ran: warm medians, ms            ${'ModelOps'.padStart(
      8,
    )} ${'direct Job'.padStart(10)} ${'host warm'.padStart(9)}`,
  );
  const cpuRows: [string, (xs: Measured[]) => string][] = [
    [
      'backend (the process on the backend port)',
      xs => fmt(cpu(xs, 'backend')),
    ],
    ['dev API server', xs => fmt(cpu(xs, 'apiserver'))],
    ['whole machine, the build included', xs => fmt(cpu(xs, 'machine'))],
    [
      `  busy cores of ${os.availableParallelism()}`,
      xs => (Number.isFinite(cores(xs)) ? cores(xs).toFixed(2) : '-'),
    ],
  ];
  for (const [name, f] of cpuRows)
    console.log(
      `    ${name.padEnd(58)} ${f(m).padStart(8)} ${f(j).padStart(10)} ${f(
        h,
      ).padStart(9)}`,
    );
  const polls = medianOf(m.map(x => x.polls));
  console.log(
    `  ModelOps: ${fmt(
      polls,
    )} GET /builds/{id} per build (median), one every ${POLL_MS} ms`,
  );

  // Where the difference is, from the figures above.
  const diff = (from: Step | 0, to: Step) =>
    between(m, from, to) - between(j, from, to);
  const before = diff(0, 'job');
  const pod = diff('job', 'pod') + diff('pod', 'running');
  const container = diff('running', 'terminated');
  const after = diff('terminated', 'ms');
  let where =
    `  ModelOps took ${more(
      mMed - jMed,
    )} than the same Job created directly: ` +
    `${more(
      before,
    )} until the Job existed (sign-in check, catalog, git ls-remote, ` +
    `the build record and the apply, against kubectl's start-up and create), ` +
    `${more(pod)} starting the pod, ` +
    `${more(container)} in the container running the same build, and ` +
    `${more(after)} from the container's exit until the client knew ` +
    `(ModelOps reports the build once buildctl has exited 0 with the digest, ` +
    `seen by the ${POLL_MS} ms poll, each asking the cluster for the Job and its pods; ` +
    `the direct Job is done when the kubelet has stopped the pod and the Job controller ` +
    `has marked it complete). ` +
    `The polling also takes CPU from the ${os.availableParallelism()} cores the build runs on: ` +
    `during a ModelOps build the backend used ${fmt(
      cpu(m, 'backend'),
    )} ms and the ` +
    `API server ${fmt(cpu(m, 'apiserver'))} ms, against ${fmt(
      cpu(j, 'backend'),
    )} and ` +
    `${fmt(cpu(j, 'apiserver'))} ms during a direct Job.`;
  if (h.length)
    where +=
      ` Against the warm host build (${fmt(
        hMed,
      )} ms) the gap is the Job itself, ` +
      `with or without ModelOps: ${fmt(
        between(j, 'pod', 'running'),
      )} ms to start the pod, ` +
      `${fmt(
        between(j, 'running', 'terminated'),
      )} ms in the container, where buildkitd ` +
      `starts on an empty emptyDir and pulls and unpacks the base image again ` +
      `(${fmt(medianOf(j.map(fromMs)))} ms of it), and ` +
      `${fmt(
        between(j, 'terminated', 'complete'),
      )} ms from the container's exit to the ` +
      `Job's completion (the kubelet stopping the pod and removing its volumes, then the ` +
      `Job controller); the warm daemon has every step cached` +
      (r.host.cold
        ? `, and a fresh daemon on the host took ${fmt(hostColdMs)} ms.`
        : '.');
  console.log(where);

  // Every pushed tag is in the registry with the digest its build reported.
  const problems: string[] = [];
  for (const { variant, m: x } of r.pushed) {
    const d = await registryDigest(r.repository, x.tag);
    if (d !== x.digest)
      problems.push(
        `${variant} ${x.tag}: reported ${x.digest}, registry ${
          d ?? 'has no such tag'
        }`,
      );
  }
  const ours = r.pushed.filter(p => p.variant.startsWith('ModelOps'));
  const oursWrong = problems.filter(p => p.startsWith('ModelOps ')).length;
  console.log(
    problems.length
      ? `  registry: ${r.pushed.length - problems.length}/${
          r.pushed.length
        } pushed tags have the digest their build reported; not:\n    ${problems.join(
          '\n    ',
        )}`
      : `  registry: all ${r.pushed.length} pushed tags are there with the digest their build reported (HEAD ${REGISTRY}/v2/${r.repository}/manifests/<tag>)`,
  );
  console.log(
    `  ModelOps: ${ours.length - oursWrong}/${
      ours.length
    } builds' digests equal the registry's for their tags; ` +
      `${
        new Set(r.pushed.map(p => p.m.digest)).size
      } distinct digests over all ${r.pushed.length} builds`,
  );
}

// ---------------------------------------------------------------- main

async function main() {
  // Build pods reach Gitea and the registry at the host's bridge address only.
  checkBridgeAddress(podNetwork('dev').hostIp);
  let auth = await guestToken();
  const watch = watchBuilds();
  await watch.start();
  let repeated = 0;
  /** A ModelOps build; one a restart of the backend interrupted is deleted and repeated. */
  const viaModelOps = async (): Promise<Measured> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await modelopsBuild(auth, watch);
      } catch (error) {
        if (!(error instanceof BackendGone) || attempt >= 3) throw error;
        repeated++;
        console.log(`  (${error.message}: repeating that ModelOps build)`);
        if (error.job)
          await kubectl([
            'delete',
            'job',
            error.job,
            '--cascade=background',
            '--ignore-not-found',
            '--wait=false',
          ]).catch(() => undefined);
        await backendReady();
        PIDS.backend = backendPid();
        auth = await guestToken();
      }
    }
  };
  const dir = tempDir('modelops-bench-build-');
  const modelops: Measured[] = [];
  const reused: Measured[] = [];
  const job: Measured[] = [];
  const host: Measured[] = [];
  const pushed: { variant: string; m: Measured }[] = [];
  let hostCold: HostCold | undefined;
  let hostError: string | undefined;
  let warmDaemon: Daemon | undefined;
  try {
    // Cold: the first build of each, in the same order as the warm runs.
    const cold = await viaModelOps();
    pushed.push({ variant: 'ModelOps', m: cold });
    if (!cold.jobName || cold.job === undefined)
      throw new Error('the watch never saw the ModelOps Job');
    const source = JSON.parse(
      await kubectl(['get', 'job', cold.jobName, '-o', 'json']),
    );
    const args = (source.spec.template.spec.containers as any[]).find(
      c => c.name === CONTAINER,
    ).args as string[];
    checkJobTargets(args);
    const repository = /\bname=[^,/]+\/([^,]+):[^:,/]+(?:,|$)/.exec(
      args.find(a => a.startsWith('--output=')) ?? '',
    )?.[1];
    if (!repository)
      throw new Error(
        `no output image in the Job's arguments: ${args.join(' ')}`,
      );
    const context = args.find(a => a.startsWith('--opt=context='));
    const coldJob = await directJob(source, 'cold', watch, dir);
    pushed.push({ variant: 'direct Job', m: coldJob });

    const options = hostOptions(args);
    try {
      const started = await startDaemon();
      try {
        const m = await hostBuild(
          started.daemon,
          options,
          repository,
          `bench-host-${RUN}-cold`,
        );
        hostCold = { readyMs: started.readyMs, m };
        pushed.push({ variant: 'host buildctl', m });
      } finally {
        await stopDaemon(started.daemon);
      }
      warmDaemon = (await startDaemon()).daemon;
      pushed.push({
        variant: 'host buildctl',
        m: await hostBuild(
          warmDaemon,
          options,
          repository,
          `bench-host-${RUN}-prime`,
        ),
      });
    } catch (error) {
      hostError = lastLines((error as Error).message);
      if (warmDaemon) await stopDaemon(warmDaemon);
      warmDaemon = undefined;
    }

    for (let i = 1; i <= ITERATIONS; i++) {
      const a = await viaModelOps();
      modelops.push(a);
      pushed.push({ variant: 'ModelOps', m: a });
      const again = await modelopsReused(auth);
      reused.push(again);
      pushed.push({ variant: 'ModelOps (reused)', m: again });
      const b = await directJob(source, String(i), watch, dir);
      job.push(b);
      pushed.push({ variant: 'direct Job', m: b });
      if (warmDaemon) {
        try {
          const c = await hostBuild(
            warmDaemon,
            options,
            repository,
            `bench-host-${RUN}-${i}`,
          );
          host.push(c);
          pushed.push({ variant: 'host buildctl', m: c });
        } catch (error) {
          hostError = lastLines((error as Error).message);
          await stopDaemon(warmDaemon);
          warmDaemon = undefined;
        }
      }
    }

    const commit = /#([0-9a-f]{12})/.exec(context ?? '')?.[1] ?? '?';
    await report({
      title: `image build of ${ENTITY_REF} (${repository} at commit ${commit})`,
      repository,
      modelops: { cold, warm: modelops },
      reused,
      job: { cold: coldJob, warm: job },
      host: { cold: hostCold, warm: host, error: hostError },
      pushed,
      repeated,
    });
  } finally {
    watch.stop();
    if (warmDaemon) await stopDaemon(warmDaemon);
    for (const d of [...owned.daemons]) await stopDaemon(d);
    if (owned.jobs.size)
      await kubectl([
        'delete',
        'job',
        ...owned.jobs,
        '--cascade=background',
        '--ignore-not-found',
        '--wait=false',
      ]).catch(() => undefined);
    owned.jobs.clear();
    for (const d of owned.dirs) rmSync(d, { recursive: true, force: true });
    owned.dirs.clear();
  }
}

await main();
