/**
 * The local ModelOps platform on loopback: two real Kubernetes control planes
 * (dev, prod: etcd + kube-apiserver + kube-controller-manager + kube-scheduler,
 * kwok as the kubelet), Prometheus, and the demo model servers with traffic.
 *
 *   node test/platform/cli.ts up            start everything (idempotent; builds binaries if needed)
 *   node test/platform/cli.ts down          stop exactly what `up` started (--purge: also wipe cluster + Prometheus data)
 *   node test/platform/cli.ts status [--json]
 *
 * Run with Node 22 (it strips the types). Node built-ins only.
 * Runtime state lives in <repo>/.platform/ (gitignored); binaries in
 * ${MODELOPS_CACHE:-~/.cache/modelops}/bin/<component>-<version>/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  CLUSTER_PORTS,
  HOST,
  PROMETHEUS_PORT,
  type ClusterPorts,
} from './ports.ts';

// ---------------------------------------------------------------------------
// paths and constants

const PLATFORM_DIR = import.meta.dirname;
const REPO_ROOT = path.resolve(PLATFORM_DIR, '..', '..');
const STATE_DIR =
  process.env.MODELOPS_PLATFORM_DIR ?? path.join(REPO_ROOT, '.platform');
const STATE_FILE = path.join(STATE_DIR, 'state.json');
const LOG_DIR = path.join(STATE_DIR, 'logs');
const APP_CONFIG = path.join(STATE_DIR, 'app-config.platform.yaml');
const CACHE_DIR =
  process.env.MODELOPS_CACHE ?? path.join(os.homedir(), '.cache', 'modelops');
const BUILD_SCRIPT = path.join(PLATFORM_DIR, 'build', 'build.sh');
const MODEL_SERVER = path.join(
  PLATFORM_DIR,
  'model-server',
  'src',
  'server.ts',
);
const TRAFFIC = path.join(PLATFORM_DIR, 'model-server', 'src', 'traffic.ts');
const DEMO_SERVICES_FILE = path.join(PLATFORM_DIR, 'demo-services.json');
const CLUSTERS = ['dev', 'prod'] as const;
type ClusterName = (typeof CLUSTERS)[number];
const NAMESPACE = 'models';
const BUILDS_NAMESPACE = 'modelops-builds';
const READY_TIMEOUT_MS = Number(
  process.env.MODELOPS_READY_TIMEOUT_MS ?? 90_000,
);
const BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
] as const;
type Binary = (typeof BINARIES)[number];
const STAGE_FILES = [
  'node-initialize',
  'node-heartbeat',
  'pod-ready',
  'pod-complete',
  'pod-delete',
  'chaos',
];

interface DemoService {
  readonly id: string;
  readonly runtime: 'kserve' | 'triton' | 'generic';
  /** The image the demo workload runs, in the entity's modelops/image repository. */
  readonly image: string;
}

interface ProcRecord {
  name: string;
  component: string;
  pid: number;
  exe: string;
  args: string[];
  log: string;
  cluster?: ClusterName;
  service?: string;
  url?: string;
}

interface ClusterRecord {
  name: ClusterName;
  server: string;
  kubeconfig: string;
  modelopsKubeconfig: string;
}

interface State {
  version: 1;
  phase: 'starting' | 'up';
  startedAt: string;
  upSeconds?: number;
  processes: ProcRecord[];
  clusters: ClusterRecord[];
  prometheus?: { url: string };
  modelServers: {
    service: string;
    environment: ClusterName;
    url: string;
    pid: number;
    trafficPid: number;
    trafficControlUrl: string;
  }[];
}

/** A failure `up` reports: which component, where its log is, what to try. */
class PlatformError extends Error {
  readonly component: string;
  readonly logFile?: string;
  readonly hint?: string;
  constructor(
    component: string,
    message: string,
    logFile?: string,
    hint?: string,
  ) {
    super(message);
    this.component = component;
    this.logFile = logFile;
    this.hint = hint;
  }
}

// ---------------------------------------------------------------------------
// small helpers

const T0 = Date.now();
const say = (msg: string): void => {
  process.stdout.write(
    `[platform +${((Date.now() - T0) / 1000).toFixed(1)}s] ${msg}\n`,
  );
};

const sleep = (ms: number): Promise<void> =>
  new Promise(r => setTimeout(r, ms));

function loadDemoServices(): DemoService[] {
  return JSON.parse(readFileSync(DEMO_SERVICES_FILE, 'utf8')) as DemoService[];
}

function loadState(): State | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State;
}

function saveState(state: State): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(`${STATE_FILE}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  // rename is atomic: a reader never sees half a file
  spawnSync('mv', ['-f', `${STATE_FILE}.tmp`, STATE_FILE]);
}

/** True if `pid` is alive (not a zombie) and still runs the program we started. */
function isRunning(p: Pick<ProcRecord, 'pid' | 'exe'>): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const st = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (st === 'Z' || st === 'X') return false;
    const exe = readlinkSync(`/proc/${p.pid}/exe`);
    return exe === p.exe || exe === `${p.exe} (deleted)`;
  } catch {
    return false;
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; allowFail?: boolean } = {},
): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, {
    input: opts.input,
    cwd: opts.cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const res = {
    code: r.status ?? 1,
    out: r.stdout ?? '',
    err: (r.stderr ?? '') + (r.error ? String(r.error) : ''),
  };
  if (res.code !== 0 && !opts.allowFail) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${res.code}): ${
        res.err.trim() || res.out.trim()
      }`,
    );
  }
  return res;
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

interface Probe {
  status: number;
  body: string;
}

/** GET over http(s) with an optional CA and bearer token; rejects on network errors. */
function probe(
  url: string,
  opts: {
    ca?: string;
    token?: string;
    insecure?: boolean;
    timeoutMs?: number;
  } = {},
): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      {
        method: 'GET',
        ca: opts.ca,
        rejectUnauthorized: !opts.insecure,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        timeout: opts.timeoutMs ?? 3000,
        agent: false,
      },
      res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Like probe(), but true only for HTTP 200; any other answer throws so waitReady can report it. */
async function httpOk(
  url: string,
  opts: {
    ca?: string;
    token?: string;
    insecure?: boolean;
    bodyIncludes?: string;
  } = {},
): Promise<boolean> {
  const r = await probe(url, opts);
  if (
    r.status !== 200 ||
    (opts.bodyIncludes && !r.body.includes(opts.bodyIncludes))
  ) {
    throw new Error(
      `GET ${url} answered HTTP ${r.status}: ${r.body.trim().slice(0, 120)}`,
    );
  }
  return true;
}

/** Resolves to a description of who holds the port, or undefined when it is free. */
function portTaken(port: number): Promise<string | undefined> {
  return new Promise(resolve => {
    const srv = net.createServer();
    srv.once('error', () => {
      const ss = spawnSync('ss', ['-Hltnp', `sport = :${port}`], {
        encoding: 'utf8',
      });
      resolve((ss.stdout ?? '').trim() || 'in use');
    });
    srv.listen({ port, host: HOST, exclusive: true }, () =>
      srv.close(() => resolve(undefined)),
    );
  });
}

function b64(s: string | Buffer): string {
  return Buffer.from(s).toString('base64');
}

function yamlStr(s: string): string {
  return JSON.stringify(s);
}

// ---------------------------------------------------------------------------
// binaries

function binVersions(): Record<Binary, string> {
  const r = run('bash', [BUILD_SCRIPT, '--print-versions']);
  const out = {} as Record<Binary, string>;
  for (const line of r.out.trim().split('\n')) {
    const [name, ver] = line.split(' ');
    out[name as Binary] = ver!;
  }
  return out;
}

function binPath(name: Binary, versions: Record<Binary, string>): string {
  return path.join(CACHE_DIR, 'bin', `${name}-${versions[name]}`, name);
}

/** Builds missing binaries, streaming build.sh's progress. */
async function ensureBinaries(versions: Record<Binary, string>): Promise<void> {
  const missing = BINARIES.filter(b => !existsSync(binPath(b, versions)));
  if (missing.length === 0) {
    say(`binaries cached in ${path.join(CACHE_DIR, 'bin')}`);
    return;
  }
  if (!which('go')) {
    throw new PlatformError(
      'build',
      `Go is needed to build ${missing.join(', ')} but 'go' is not on PATH`,
      undefined,
      'install Go 1.26 (the machine image ships it in /usr/local/go/bin) and re-run up',
    );
  }
  say(
    `building ${missing.join(
      ', ',
    )} from the Go module proxy (first time only; about 10-15 min on 2 cores, 2.5 GiB peak) ...`,
  );
  const order: Binary[] = [
    'etcd',
    'kwok',
    'kubectl',
    'kube-scheduler',
    'kube-controller-manager',
    'kube-apiserver',
  ];
  for (const b of order.filter(x => missing.includes(x))) {
    const started = Date.now();
    const ticker = setInterval(
      () =>
        say(
          `  ... still building ${b} (${Math.round(
            (Date.now() - started) / 1000,
          )}s)`,
        ),
      60_000,
    );
    const code = await new Promise<number>(resolve => {
      const child = spawn('bash', [BUILD_SCRIPT, b], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: process.env,
      });
      child.on('exit', c => resolve(c ?? 1));
    });
    clearInterval(ticker);
    if (code !== 0) {
      throw new PlatformError(
        `build of ${b}`,
        `go build of ${b} ${versions[b]} failed`,
        path.join(CACHE_DIR, 'build-logs', `${b}-${versions[b]}.log`),
        'read the first error in the log; usually no access to the Go module proxy, a full disk, or a Go older than the go.mod asks; retry with `bash test/platform/build/build.sh ' +
          b +
          '`',
      );
    }
  }
}

/** Prometheus from Debian. Installs it when missing (root), never uses the package's own service. */
function ensurePrometheus(): string {
  // MODELOPS_PROMETHEUS_BIN overrides the lookup (the fault tests point it at a missing file).
  const override = process.env.MODELOPS_PROMETHEUS_BIN;
  let bin =
    override !== undefined
      ? existsSync(override)
        ? override
        : undefined
      : which('prometheus');
  if (
    !bin &&
    override === undefined &&
    process.env.MODELOPS_NO_APT !== '1' &&
    process.getuid?.() === 0
  ) {
    say(
      "Debian package 'prometheus' missing: apt-get install -y prometheus ...",
    );
    const log = path.join(LOG_DIR, 'apt-prometheus.log');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-q', 'prometheus'], {
      encoding: 'utf8',
      env,
    });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { encoding: 'utf8', env });
      r = spawnSync('apt-get', ['install', '-y', '-q', 'prometheus'], {
        encoding: 'utf8',
        env,
      });
    }
    writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
    // The package registers a service on :9090; we run our own process instead.
    spawnSync('sh', [
      '-c',
      'systemctl disable --now prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true',
    ]);
    bin = which('prometheus');
  }
  if (!bin) {
    throw new PlatformError(
      'prometheus',
      "the Debian package 'prometheus' is not installed",
      undefined,
      'run `apt-get update && apt-get install -y prometheus` as root (then `systemctl disable --now prometheus` if systemd runs it), and re-run up',
    );
  }
  return bin;
}

// ---------------------------------------------------------------------------
// process management

interface Started {
  rec: ProcRecord;
  child: ChildProcess;
  exit?: { code: number | null; signal: string | null };
}

class Launcher {
  readonly started: Started[] = [];
  readonly state: State;
  constructor(state: State) {
    this.state = state;
  }

  /** Set when `up` starts tearing down: nothing may be started after that. */
  closed = false;

  start(opts: {
    name: string;
    component: string;
    exe: string;
    args: string[];
    cluster?: ClusterName;
    service?: string;
    url?: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
  }): Started {
    if (this.closed)
      throw new PlatformError(
        opts.component,
        'not started: up is tearing down',
      );
    const log = path.join(LOG_DIR, `${opts.name}.log`);
    // Fault-injection hook for the tests: MODELOPS_EXTRA_ARGS_KUBE_APISERVER="--etcd-servers=..." etc.
    const extra =
      process.env[
        `MODELOPS_EXTRA_ARGS_${opts.component.toUpperCase().replace(/-/g, '_')}`
      ];
    if (extra)
      opts = {
        ...opts,
        args: [...opts.args, ...extra.split(/\s+/).filter(Boolean)],
      };
    const fd = openSync(log, 'w');
    const child = spawn(opts.exe, opts.args, {
      cwd: opts.cwd ?? STATE_DIR,
      detached: true, // own process group: a ^C on `up` does not hit it, `down` stops it by pid
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
    });
    closeSync(fd);
    if (child.pid === undefined) {
      throw new PlatformError(
        opts.component,
        `could not start ${opts.exe}`,
        log,
        'check that the binary exists and is executable',
      );
    }
    child.unref();
    const rec: ProcRecord = {
      name: opts.name,
      component: opts.component,
      pid: child.pid,
      exe: opts.exe,
      args: opts.args,
      log,
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
      ...(opts.service ? { service: opts.service } : {}),
      ...(opts.url ? { url: opts.url } : {}),
    };
    const s: Started = { rec, child };
    child.on('exit', (code, signal) => (s.exit = { code, signal }));
    this.started.push(s);
    this.state.processes.push(rec);
    saveState(this.state);
    return s;
  }

  /** Polls `check` until it returns true; fails early when the process exits. */
  async waitReady(
    s: Started,
    what: string,
    check: () => Promise<boolean>,
    hint: string,
    timeoutMs = READY_TIMEOUT_MS,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastErr = '';
    while (Date.now() < deadline) {
      if (s.exit) {
        throw new PlatformError(
          s.rec.name,
          `${what} exited (code ${s.exit.code ?? 'none'}, signal ${
            s.exit.signal ?? 'none'
          }) before it became ready`,
          s.rec.log,
          hint,
        );
      }
      try {
        if (await check()) return;
      } catch (e) {
        lastErr = e instanceof Error ? e.message : String(e);
      }
      await sleep(250);
    }
    throw new PlatformError(
      s.rec.name,
      `${what} did not become ready within ${Math.round(timeoutMs / 1000)}s${
        lastErr ? ` (last error: ${lastErr})` : ''
      }`,
      s.rec.log,
      hint,
    );
  }
}

/** Shutdown order: clients first, then the API servers, then etcd (an API server whose etcd is gone hangs on exit). */
const STOP_TIER: Record<string, number> = { 'kube-apiserver': 1, etcd: 2 };

/**
 * Stops processes by pid, tier by tier (SIGTERM, then SIGKILL after a grace
 * period). Only pids that still run the executable we started are signalled.
 */
async function stopProcesses(
  procs: ProcRecord[],
  graceMs = 10_000,
): Promise<string[]> {
  const stopped: string[] = [];
  for (const tier of [0, 1, 2]) {
    const alive = [...procs]
      .reverse()
      .filter(p => (STOP_TIER[p.component] ?? 0) === tier && isRunning(p));
    for (const p of alive) {
      try {
        process.kill(p.pid, 'SIGTERM');
        stopped.push(p.name);
      } catch {
        /* already gone */
      }
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && alive.some(p => isRunning(p)))
      await sleep(50);
    for (const p of alive.filter(x => isRunning(x))) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const killDeadline = Date.now() + 5000;
    while (Date.now() < killDeadline && alive.some(p => isRunning(p)))
      await sleep(50);
  }
  return stopped;
}

// ---------------------------------------------------------------------------
// cluster pieces

interface ClusterCtx {
  name: ClusterName;
  ports: ClusterPorts;
  dir: string;
  pki: string;
  server: string;
  ca: string;
  tokens: Record<'admin' | 'controllerManager' | 'scheduler' | 'kwok', string>;
  adminKubeconfig: string;
  modelopsKubeconfig: string;
  saToken?: string;
}

function kubeconfig(
  cluster: string,
  server: string,
  caPem: string,
  user: string,
  token: string,
): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${cluster}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${cluster}`,
    '  context:',
    `    cluster: ${cluster}`,
    `    user: ${user}`,
    `current-context: ${cluster}`,
    '',
  ].join('\n');
}

function makePki(c: ClusterCtx): void {
  mkdirSync(c.pki, { recursive: true });
  const o = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: c.pki, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new PlatformError(
        `pki (${c.name})`,
        `openssl ${args[0]} failed: ${(r.stderr || String(r.error)).trim()}`,
        undefined,
        "install Debian's 'openssl' package",
      );
    }
  };
  const ec = [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
  ];
  o(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '3650',
    '-subj',
    `/CN=modelops-${c.name}-ca`,
  );
  o(
    'req',
    ...ec,
    '-keyout',
    'apiserver.key',
    '-out',
    'apiserver.csr',
    '-subj',
    '/CN=kube-apiserver',
  );
  writeFileSync(
    path.join(c.pki, 'apiserver.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
      '',
    ].join('\n'),
  );
  o(
    'x509',
    '-req',
    '-in',
    'apiserver.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '3650',
    '-out',
    'apiserver.crt',
    '-extfile',
    'apiserver.ext',
  );
  o(
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    'sa.key',
  );
  o('pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
  c.ca = readFileSync(path.join(c.pki, 'ca.crt'), 'utf8');
}

interface KubectlResult {
  code: number;
  out: string;
  err: string;
}

/** kubectl with the cluster's admin kubeconfig, without blocking the event loop (both clusters are set up at once). */
const PKI_FILES = [
  'ca.crt',
  'ca.key',
  'apiserver.crt',
  'apiserver.key',
  'sa.key',
  'sa.pub',
  'tokens.csv',
];

/** Keeps an earlier run's PKI and tokens when all of it is there; false means start the cluster afresh. */
function reusePki(c: ClusterCtx): boolean {
  if (!PKI_FILES.every(f => existsSync(path.join(c.pki, f)))) return false;
  const byUser = new Map<string, string>();
  for (const line of readFileSync(path.join(c.pki, 'tokens.csv'), 'utf8').split(
    '\n',
  )) {
    const [token, user] = line.split(',');
    if (token && user) byUser.set(user, token);
  }
  const admin = byUser.get('modelops-platform-admin');
  const kcm = byUser.get('system:kube-controller-manager');
  const sched = byUser.get('system:kube-scheduler');
  const kwok = byUser.get('kwok');
  if (!admin || !kcm || !sched || !kwok) return false;
  c.tokens = { admin, controllerManager: kcm, scheduler: sched, kwok };
  c.ca = readFileSync(path.join(c.pki, 'ca.crt'), 'utf8');
  return true;
}

function kubectlAsync(
  kubectlBin: string,
  c: ClusterCtx,
  args: string[],
  input?: string,
): Promise<KubectlResult> {
  return new Promise(resolve => {
    const child = spawn(
      kubectlBin,
      ['--kubeconfig', c.adminKubeconfig, ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', e => resolve({ code: 127, out, err: err + String(e) }));
    child.on('close', code => resolve({ code: code ?? 1, out, err }));
    child.stdin.end(input ?? '');
  });
}

async function waitFor(
  component: string,
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  log?: string,
  hint?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      /* retry */
    }
    await sleep(300);
  }
  throw new PlatformError(
    component,
    `${what} did not happen within ${Math.round(timeoutMs / 1000)}s`,
    log,
    hint,
  );
}

/**
 * The demo workload of a service, shaped like ModelOps's built-in deployment
 * template (same selector, container name and field manager), as if ModelOps
 * had deployed it: the first deploy from the portal then updates it in place
 * instead of conflicting with another field manager.
 */
function demoManifest(svc: DemoService): string {
  const labels = [
    `    backstage.io/kubernetes-id: ${svc.id}`,
    '    app.kubernetes.io/managed-by: backstage-modelops',
  ];
  // The same metadata on both objects: ModelOps refuses objects owned by
  // another entity, so they carry their entity's ref.
  const metadata = [
    'metadata:',
    `  name: ${svc.id}`,
    `  namespace: ${NAMESPACE}`,
    '  labels:',
    ...labels,
    '  annotations:',
    `    modelops/entity-ref: component:default/${svc.id}`,
  ];
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    ...metadata,
    'spec:',
    '  replicas: 2',
    '  selector:',
    '    matchLabels:',
    `      backstage.io/kubernetes-id: ${svc.id}`,
    '  template:',
    '    metadata:',
    '      labels:',
    ...labels.map(l => `    ${l}`),
    '    spec:',
    '      containers:',
    '      - name: model-server',
    `        image: ${svc.image}`,
    '        ports:',
    '        - { name: http, containerPort: 8080 }',
    '        readinessProbe:',
    '          httpGet: { path: /v2/health/ready, port: http }',
    '        resources:',
    '          requests: { cpu: 100m, memory: 128Mi }',
    '---',
    'apiVersion: v1',
    'kind: Service',
    ...metadata,
    'spec:',
    '  selector:',
    `    backstage.io/kubernetes-id: ${svc.id}`,
    '  ports:',
    '  - { name: http, port: 80, targetPort: http }',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// one `up`/`down` at a time (several terminals and test runs may share a tree)

const LOCK_FILE = path.join(STATE_DIR, 'lock');

function lockHolder(): number | undefined {
  try {
    const pid = Number(readFileSync(LOCK_FILE, 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const st = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return st === 'Z' ? undefined : pid;
  } catch {
    return undefined;
  }
}

/** Runs fn holding .platform/lock; waits (up to MODELOPS_LOCK_WAIT_MS, default 10 min) for another up/down. */
async function withLock(
  what: string,
  fn: () => Promise<number>,
): Promise<number> {
  mkdirSync(STATE_DIR, { recursive: true });
  const deadline =
    Date.now() + Number(process.env.MODELOPS_LOCK_WAIT_MS ?? 600_000);
  let told = false;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeFileSync(
        fd,
        `${process.pid}\n${what}\n${new Date().toISOString()}\n`,
      );
      closeSync(fd);
      break;
    } catch {
      const holder = lockHolder();
      if (holder === undefined) {
        rmSync(LOCK_FILE, { force: true }); // stale: its process is gone
        continue;
      }
      if (Date.now() > deadline) {
        process.stderr.write(
          `[platform] another up/down (pid ${holder}) still holds ${LOCK_FILE}; giving up\n`,
        );
        return 1;
      }
      if (!told) {
        say(`waiting for another up/down (pid ${holder}) to finish ...`);
        told = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}

// ---------------------------------------------------------------------------
// up

async function up(): Promise<number> {
  const t0 = Date.now();
  const existing = loadState();
  if (existing) {
    const down = existing.processes.filter(p => !isRunning(p));
    if (existing.phase === 'up' && down.length === 0) {
      say(
        `already up (started ${existing.startedAt}); nothing to do. \`status\` shows it, \`down\` stops it.`,
      );
      return 0;
    }
    say(
      `a previous platform is half-running (${down.length} of ${existing.processes.length} processes down, phase ${existing.phase}): stopping it first`,
    );
    await stopProcesses(existing.processes);
    rmSync(STATE_FILE, { force: true });
  }

  const services = loadDemoServices();
  const state: State = {
    version: 1,
    phase: 'starting',
    startedAt: new Date().toISOString(),
    processes: [],
    clusters: [],
    modelServers: [],
  };
  const launcher = new Launcher(state);

  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const checkInterrupted = (): void => {
    if (interrupted) throw new PlatformError('up', 'interrupted');
  };

  try {
    // Cluster data (PKI, tokens, etcd) and Prometheus data persist across down/up, so a
    // Backstage backend started with the generated config keeps working after a restart.
    // `down --purge` wipes them. Logs are overwritten per process.
    rmSync(APP_CONFIG, { force: true });
    mkdirSync(LOG_DIR, { recursive: true });

    // 1. preflight: ports, packages, model server sources
    say('checking ports ...');
    const wanted: [number, string][] = [[PROMETHEUS_PORT, 'prometheus']];
    for (const c of CLUSTERS) {
      const p = CLUSTER_PORTS[c];
      wanted.push(
        [p.etcdClient, `${c} etcd (client)`],
        [p.etcdPeer, `${c} etcd (peer)`],
        [p.apiserver, `${c} kube-apiserver`],
        [p.controllerManager, `${c} kube-controller-manager`],
        [p.scheduler, `${c} kube-scheduler`],
        [p.kwok, `${c} kwok`],
      );
      services.forEach((s, i) =>
        wanted.push(
          [p.modelServerBase + i, `${c} model server ${s.id}`],
          [p.trafficControlBase + i, `${c} traffic generator ${s.id}`],
        ),
      );
    }
    for (const [port, who] of wanted) {
      const holder = await portTaken(port);
      if (holder) {
        throw new PlatformError(
          who,
          `port ${HOST}:${port} is already taken (${holder})`,
          undefined,
          `stop whatever listens on ${port} (see \`ss -ltnp 'sport = :${port}'\`), or change the port in test/platform/ports.ts`,
        );
      }
    }
    if (!which('openssl'))
      throw new PlatformError(
        'pki',
        "'openssl' is not installed",
        undefined,
        'apt-get install -y openssl',
      );
    for (const f of [MODEL_SERVER, TRAFFIC]) {
      if (!existsSync(f))
        throw new PlatformError(
          'model servers',
          `${path.relative(REPO_ROOT, f)} is missing`,
          undefined,
          'the demo model server lives in test/platform/model-server/; check out a tree that has it',
        );
    }
    const prometheusBin = ensurePrometheus();
    checkInterrupted();

    // 2. binaries
    const versions = binVersions();
    await ensureBinaries(versions);
    const bin = (b: Binary): string => binPath(b, versions);
    checkInterrupted();

    // 3. per-cluster PKI, tokens, kubeconfigs, stage files
    const stageArgs = STAGE_FILES.map(
      s => `--config=${path.join(PLATFORM_DIR, 'stages', `${s}.yaml`)}`,
    );
    const ctxs: ClusterCtx[] = CLUSTERS.map(name => {
      const dir = path.join(STATE_DIR, name);
      const tok = (): string => randomBytes(24).toString('hex');
      return {
        name,
        ports: CLUSTER_PORTS[name],
        dir,
        pki: path.join(dir, 'pki'),
        server: `https://${HOST}:${CLUSTER_PORTS[name].apiserver}`,
        ca: '',
        tokens: {
          admin: tok(),
          controllerManager: tok(),
          scheduler: tok(),
          kwok: tok(),
        },
        adminKubeconfig: path.join(dir, 'admin.kubeconfig'),
        modelopsKubeconfig: path.join(dir, 'modelops.kubeconfig'),
      };
    });
    for (const c of ctxs) {
      if (reusePki(c)) {
        say(
          `${
            c.name
          }: reusing the cluster's data, CA and tokens from ${path.relative(
            REPO_ROOT,
            c.dir,
          )}/`,
        );
      } else {
        rmSync(c.dir, { recursive: true, force: true }); // new keys invalidate any old etcd data
        makePki(c);
      }
      writeFileSync(
        path.join(c.pki, 'tokens.csv'),
        [
          `${c.tokens.admin},modelops-platform-admin,uid-platform-admin,"system:masters"`,
          `${c.tokens.controllerManager},system:kube-controller-manager,uid-kcm`,
          `${c.tokens.scheduler},system:kube-scheduler,uid-scheduler`,
          `${c.tokens.kwok},kwok,uid-kwok,"system:masters"`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      writeFileSync(
        c.adminKubeconfig,
        kubeconfig(c.name, c.server, c.ca, 'platform-admin', c.tokens.admin),
        { mode: 0o600 },
      );
      writeFileSync(
        path.join(c.dir, 'controller-manager.kubeconfig'),
        kubeconfig(
          c.name,
          c.server,
          c.ca,
          'kube-controller-manager',
          c.tokens.controllerManager,
        ),
        { mode: 0o600 },
      );
      writeFileSync(
        path.join(c.dir, 'scheduler.kubeconfig'),
        kubeconfig(
          c.name,
          c.server,
          c.ca,
          'kube-scheduler',
          c.tokens.scheduler,
        ),
        { mode: 0o600 },
      );
      writeFileSync(
        path.join(c.dir, 'kwok.kubeconfig'),
        kubeconfig(c.name, c.server, c.ca, 'kwok', c.tokens.kwok),
        { mode: 0o600 },
      );
    }

    // 4. etcd
    const etcds = ctxs.map(c => {
      const p = c.ports;
      return launcher.start({
        name: `${c.name}-etcd`,
        component: 'etcd',
        cluster: c.name,
        exe: bin('etcd'),
        url: `http://${HOST}:${p.etcdClient}`,
        args: [
          `--name=${c.name}`,
          `--data-dir=${path.join(c.dir, 'etcd')}`,
          `--listen-client-urls=http://${HOST}:${p.etcdClient}`,
          `--advertise-client-urls=http://${HOST}:${p.etcdClient}`,
          `--listen-peer-urls=http://${HOST}:${p.etcdPeer}`,
          `--initial-advertise-peer-urls=http://${HOST}:${p.etcdPeer}`,
          `--initial-cluster=${c.name}=http://${HOST}:${p.etcdPeer}`,
          '--unsafe-no-fsync=true',
          '--log-level=warn',
          '--quota-backend-bytes=2147483648',
        ],
      });
    });
    say('starting etcd (dev, prod) ...');
    await Promise.all(
      etcds.map((s, i) =>
        launcher.waitReady(
          s,
          `etcd (${ctxs[i]!.name})`,
          () =>
            httpOk(`http://${HOST}:${ctxs[i]!.ports.etcdClient}/health`, {
              bodyIncludes: '"health":"true"',
            }),
          'a stale etcd data dir or port clash; `down` and `up` again',
        ),
      ),
    );
    checkInterrupted();

    // 5. kube-apiserver
    say('starting kube-apiserver (dev, prod) ...');
    const apis = ctxs.map(c =>
      launcher.start({
        name: `${c.name}-kube-apiserver`,
        component: 'kube-apiserver',
        cluster: c.name,
        exe: bin('kube-apiserver'),
        url: c.server,
        args: [
          `--etcd-servers=http://${HOST}:${c.ports.etcdClient}`,
          `--bind-address=${HOST}`,
          `--advertise-address=${HOST}`,
          `--secure-port=${c.ports.apiserver}`,
          '--endpoint-reconciler-type=none',
          `--cert-dir=${c.pki}`,
          `--tls-cert-file=${path.join(c.pki, 'apiserver.crt')}`,
          `--tls-private-key-file=${path.join(c.pki, 'apiserver.key')}`,
          `--client-ca-file=${path.join(c.pki, 'ca.crt')}`,
          `--token-auth-file=${path.join(c.pki, 'tokens.csv')}`,
          '--authorization-mode=RBAC',
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          `--service-account-key-file=${path.join(c.pki, 'sa.pub')}`,
          `--service-account-signing-key-file=${path.join(c.pki, 'sa.key')}`,
          '--service-cluster-ip-range=10.0.0.0/24',
          '--allow-privileged=true',
          '--profiling=false',
          '--v=0',
        ],
      }),
    );
    await Promise.all(
      apis.map((s, i) => {
        const c = ctxs[i]!;
        return launcher.waitReady(
          s,
          `kube-apiserver (${c.name})`,
          () =>
            httpOk(`${c.server}/readyz`, { ca: c.ca, token: c.tokens.admin }),
          'read the first E-line of the log: etcd not reachable, a certificate/flag problem, or (HTTP 401) a token file that does not match .platform/<cluster>/pki/tokens.csv',
        );
      }),
    );
    checkInterrupted();

    // A cluster kept from an earlier run still has kwok's node Lease, held by the old kwok
    // process: a new kwok would wait for it to expire (40 s) before it manages the node.
    await Promise.all(
      ctxs.map(async c => {
        const r = await kubectlAsync(bin('kubectl'), c, [
          '-n',
          'kube-node-lease',
          'delete',
          'lease',
          'kwok-node-0',
          '--ignore-not-found',
        ]);
        if (r.code !== 0)
          throw new PlatformError(
            `kubectl (${c.name})`,
            `could not clear kwok's old node lease: ${r.err.trim()}`,
            path.join(LOG_DIR, `${c.name}-kube-apiserver.log`),
            '`down --purge` and `up` start the cluster from scratch',
          );
      }),
    );

    // 6a. the model servers and traffic generators need no cluster: boot them while the controllers start
    const startModelServers = async (): Promise<void> => {
      say(
        `starting ${services.length * 2} model servers and ${
          services.length * 2
        } traffic generators (in the background) ...`,
      );
      const servers: [Started, ClusterName, DemoService, number][] = [];
      for (const c of ctxs) {
        services.forEach((s, i) => {
          const port = c.ports.modelServerBase + i;
          servers.push([
            launcher.start({
              name: `${c.name}-model-server-${s.id}`,
              component: 'model-server',
              cluster: c.name,
              service: s.id,
              exe: process.execPath,
              url: `http://${HOST}:${port}`,
              cwd: path.join(PLATFORM_DIR, 'model-server'),
              args: [
                MODEL_SERVER,
                '--port',
                String(port),
                '--host',
                HOST,
                '--model',
                s.id,
                '--runtime',
                s.runtime,
              ],
            }),
            c.name,
            s,
            port,
          ]);
        });
      }
      await Promise.all(
        servers.map(([st, env, s, port]) =>
          launcher.waitReady(
            st,
            `model server ${s.id} (${env})`,
            () => httpOk(`http://${HOST}:${port}/healthz`),
            'run the model server by hand to see the error',
          ),
        ),
      );
      const traffic: [Started, string, number][] = [];
      for (const c of ctxs) {
        services.forEach((s, i) => {
          const port = c.ports.modelServerBase + i;
          const control = c.ports.trafficControlBase + i;
          const st = launcher.start({
            name: `${c.name}-traffic-${s.id}`,
            component: 'traffic-generator',
            cluster: c.name,
            service: s.id,
            exe: process.execPath,
            url: `http://${HOST}:${control}`,
            cwd: path.join(PLATFORM_DIR, 'model-server'),
            args: [
              TRAFFIC,
              '--target',
              `http://${HOST}:${port}`,
              '--model',
              s.id,
              '--runtime',
              s.runtime,
              '--rps',
              '5',
              '--control-port',
              String(control),
            ],
          });
          traffic.push([st, `traffic generator ${s.id} (${c.name})`, control]);
          state.modelServers.push({
            service: s.id,
            environment: c.name,
            url: `http://${HOST}:${port}`,
            pid: servers.find(([, e, sv]) => e === c.name && sv.id === s.id)![0]
              .rec.pid,
            trafficPid: st.rec.pid,
            trafficControlUrl: `http://${HOST}:${control}`,
          });
        });
      }
      await Promise.all(
        traffic.map(([st, what, control]) =>
          launcher.waitReady(
            st,
            what,
            () => httpOk(`http://${HOST}:${control}/healthz`),
            'run the traffic generator by hand to see the error',
          ),
        ),
      );
    };
    const modelServersReady: Promise<unknown> = startModelServers().then(
      () => undefined,
      (e: unknown) => e,
    );

    // 6. controller-manager, scheduler, kwok
    say(
      'starting kube-controller-manager, kube-scheduler, kwok (dev, prod) ...',
    );
    const rest: [Started, string, () => Promise<boolean>, string][] = [];
    for (const c of ctxs) {
      const delegated = (kc: string): string[] => [
        `--kubeconfig=${kc}`,
        `--authentication-kubeconfig=${kc}`,
        `--authorization-kubeconfig=${kc}`,
        '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
        `--bind-address=${HOST}`,
        '--leader-elect=false',
        // no front-proxy here: don't look up requestheader CAs (avoids a log line every few seconds)
        '--authentication-skip-lookup=true',
      ];
      const kcm = launcher.start({
        name: `${c.name}-kube-controller-manager`,
        component: 'kube-controller-manager',
        cluster: c.name,
        exe: bin('kube-controller-manager'),
        url: `https://${HOST}:${c.ports.controllerManager}`,
        args: [
          ...delegated(path.join(c.dir, 'controller-manager.kubeconfig')),
          `--secure-port=${c.ports.controllerManager}`,
          `--root-ca-file=${path.join(c.pki, 'ca.crt')}`,
          `--service-account-private-key-file=${path.join(c.pki, 'sa.key')}`,
          '--use-service-account-credentials=true',
          `--cluster-signing-cert-file=${path.join(c.pki, 'ca.crt')}`,
          `--cluster-signing-key-file=${path.join(c.pki, 'ca.key')}`,
          `--cert-dir=${path.join(c.dir, 'kcm-certs')}`,
          '--profiling=false',
        ],
      });
      rest.push([
        kcm,
        `kube-controller-manager (${c.name})`,
        () =>
          httpOk(`https://${HOST}:${c.ports.controllerManager}/healthz`, {
            insecure: true,
          }),
        'look at the log for RBAC or kubeconfig errors',
      ]);
      const sched = launcher.start({
        name: `${c.name}-kube-scheduler`,
        component: 'kube-scheduler',
        cluster: c.name,
        exe: bin('kube-scheduler'),
        url: `https://${HOST}:${c.ports.scheduler}`,
        args: [
          ...delegated(path.join(c.dir, 'scheduler.kubeconfig')),
          `--secure-port=${c.ports.scheduler}`,
          `--cert-dir=${path.join(c.dir, 'scheduler-certs')}`,
        ],
      });
      rest.push([
        sched,
        `kube-scheduler (${c.name})`,
        () =>
          httpOk(`https://${HOST}:${c.ports.scheduler}/healthz`, {
            insecure: true,
          }),
        'look at the log for RBAC or kubeconfig errors',
      ]);
      const kwok = launcher.start({
        name: `${c.name}-kwok`,
        component: 'kwok',
        cluster: c.name,
        exe: bin('kwok'),
        url: `http://${HOST}:${c.ports.kwok}`,
        args: [
          `--kubeconfig=${path.join(c.dir, 'kwok.kubeconfig')}`,
          '--manage-all-nodes=false',
          '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
          '--cidr=10.244.0.1/16',
          '--node-ip=10.244.0.1',
          '--node-lease-duration-seconds=40',
          `--server-address=${HOST}:${c.ports.kwok}`,
          ...stageArgs,
        ],
      });
      rest.push([
        kwok,
        `kwok (${c.name})`,
        () => httpOk(`http://${HOST}:${c.ports.kwok}/healthz`),
        'look at the log for stage-file or kubeconfig errors',
      ]);
    }
    await Promise.all(
      rest.map(([s, what, check, hint]) =>
        launcher.waitReady(s, what, check, hint),
      ),
    );
    checkInterrupted();

    // 7. cluster objects: namespaces, fake node, CRD, RBAC, the modelops identity, demo workloads (both clusters at once)
    say(
      'applying namespaces, node, InferenceService CRD, RBAC and demo Deployments ...',
    );
    const kctl = bin('kubectl');
    const podNames: Record<string, string> = {};
    await Promise.all(
      ctxs.map(async c => {
        const k = (args: string[], input?: string): Promise<KubectlResult> =>
          kubectlAsync(kctl, c, args, input);
        const must = async (
          args: string[],
          input?: string,
        ): Promise<string> => {
          const r = await k(args, input);
          if (r.code !== 0) {
            throw new PlatformError(
              `kubectl (${c.name})`,
              `kubectl ${args.join(' ')} failed: ${r.err.trim()}`,
              path.join(LOG_DIR, `${c.name}-kube-apiserver.log`),
              'look at the apiserver log; `down` then `up` starts from clean data',
            );
          }
          return r.out;
        };
        const kcmLog = path.join(
          LOG_DIR,
          `${c.name}-kube-controller-manager.log`,
        );
        await must([
          'apply',
          '-f',
          path.join(PLATFORM_DIR, 'manifests', '00-base.yaml'),
          '-f',
          path.join(PLATFORM_DIR, 'manifests', '10-inferenceservice-crd.yaml'),
        ]);
        await waitFor(
          `kube-controller-manager (${c.name})`,
          'serviceaccount/default in the product namespaces',
          async () => {
            const r = await k([
              'get',
              'serviceaccounts',
              '-A',
              '--field-selector=metadata.name=default',
              '-o',
              'jsonpath={.items[*].metadata.namespace}',
            ]);
            const have = new Set(r.out.split(/\s+/));
            return [NAMESPACE, BUILDS_NAMESPACE, 'modelops-system'].every(n =>
              have.has(n),
            );
          },
          30_000,
          kcmLog,
          'the serviceaccount controller is not running; check the controller-manager log',
        );
        await must([
          'wait',
          '--for=condition=Established',
          '--timeout=30s',
          'crd/inferenceservices.serving.kserve.io',
        ]);
        await must([
          'apply',
          '-f',
          path.join(PLATFORM_DIR, 'manifests', '20-modelops-rbac.yaml'),
        ]);
        // Demo workloads are created once; after that they belong to whoever
        // deploys them (ModelOps), so a later `up` never resets a deploy.
        const existing = new Set(
          (
            await must([
              '-n',
              NAMESPACE,
              'get',
              'deployments',
              '-o',
              'jsonpath={.items[*].metadata.name}',
            ])
          ).split(/\s+/),
        );
        const missing = services.filter(svc => !existing.has(svc.id));
        if (missing.length > 0) {
          await must(
            [
              'apply',
              '--server-side',
              '--field-manager=backstage-modelops',
              '-f',
              '-',
            ],
            missing.map(demoManifest).join('---\n'),
          );
        }
        await waitFor(
          `kube-controller-manager (${c.name})`,
          'the modelops token Secret being filled in',
          async () => {
            const r = await k([
              '-n',
              'modelops-system',
              'get',
              'secret',
              'modelops-token',
              '-o',
              'jsonpath={.data.token}',
            ]);
            if (r.code === 0 && r.out.trim())
              c.saToken = Buffer.from(r.out.trim(), 'base64').toString('utf8');
            return !!c.saToken;
          },
          30_000,
          kcmLog,
          'the service-account token controller needs --service-account-private-key-file',
        );
        writeFileSync(
          c.modelopsKubeconfig,
          kubeconfig(c.name, c.server, c.ca, 'modelops', c.saToken!),
          { mode: 0o600 },
        );
        await waitFor(
          `kwok (${c.name})`,
          'node kwok-node-0 Ready',
          async () =>
            (
              await k([
                'get',
                'node',
                'kwok-node-0',
                '-o',
                'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
              ])
            ).out === 'True',
          30_000,
          path.join(LOG_DIR, `${c.name}-kwok.log`),
          'kwok did not initialise the fake node; check its stage files',
        );
        await waitFor(
          `demo workloads (${c.name})`,
          'the demo Deployments reaching 2 Ready replicas',
          async () => {
            const r = await k([
              '-n',
              NAMESPACE,
              'get',
              'deployments',
              '-l',
              'app.kubernetes.io/managed-by=backstage-modelops',
              '-o',
              'json',
            ]);
            const items = (
              JSON.parse(r.out) as {
                items: { status?: { readyReplicas?: number } }[];
              }
            ).items;
            return (
              items.length === services.length &&
              items.every(d => d.status?.readyReplicas === 2)
            );
          },
          60_000,
          path.join(LOG_DIR, `${c.name}-kwok.log`),
          'check the scheduler and kwok logs',
        );
        // the first pod of each demo Deployment names the model server in Prometheus' labels
        const pods = JSON.parse(
          await must([
            '-n',
            NAMESPACE,
            'get',
            'pods',
            '-l',
            'backstage.io/kubernetes-id',
            '-o',
            'json',
          ]),
        ) as {
          items: {
            metadata: { name: string; labels: Record<string, string> };
          }[];
        };
        for (const s of services) {
          const names = pods.items
            .filter(
              p => p.metadata.labels['backstage.io/kubernetes-id'] === s.id,
            )
            .map(p => p.metadata.name)
            .sort();
          podNames[`${c.name}/${s.id}`] = names[0] ?? `${s.id}-0`;
        }
      }),
    );
    state.clusters = ctxs.map(c => ({
      name: c.name,
      server: c.server,
      kubeconfig: c.adminKubeconfig,
      modelopsKubeconfig: c.modelopsKubeconfig,
    }));
    writeFileSync(path.join(STATE_DIR, 'kubeconfig'), mergedKubeconfig(ctxs), {
      mode: 0o600,
    });
    saveState(state);
    checkInterrupted();

    // 8. model servers and traffic generators (started earlier, in the background)
    const msErr = await modelServersReady;
    if (msErr) throw msErr;
    saveState(state);
    checkInterrupted();

    // 9. Prometheus
    say(`starting Prometheus on ${HOST}:${PROMETHEUS_PORT} ...`);
    const promDir = path.join(STATE_DIR, 'prometheus');
    mkdirSync(path.join(promDir, 'data'), { recursive: true });
    const promConfig = path.join(promDir, 'prometheus.yml');
    writeFileSync(promConfig, prometheusConfig(services, podNames));
    const promtool = which('promtool');
    if (promtool) {
      const r = spawnSync(promtool, ['check', 'config', promConfig], {
        encoding: 'utf8',
      });
      if (r.status !== 0)
        throw new PlatformError(
          'prometheus',
          `generated config is invalid: ${r.stderr || r.stdout}`,
          promConfig,
          'a bug in cli.ts prometheusConfig()',
        );
    }
    const prom = launcher.start({
      name: 'prometheus',
      component: 'prometheus',
      exe: prometheusBin,
      url: `http://${HOST}:${PROMETHEUS_PORT}`,
      args: [
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${path.join(promDir, 'data')}`,
        `--web.listen-address=${HOST}:${PROMETHEUS_PORT}`,
        '--storage.tsdb.retention.time=2d',
        '--log.level=warn',
      ],
    });
    await launcher.waitReady(
      prom,
      'prometheus',
      () => httpOk(`http://${HOST}:${PROMETHEUS_PORT}/-/ready`),
      'look at the log; the config is at .platform/prometheus/prometheus.yml',
    );
    state.prometheus = { url: `http://${HOST}:${PROMETHEUS_PORT}` };

    // 10. the Backstage config
    writeFileSync(APP_CONFIG, appConfig(ctxs), { mode: 0o600 });
    state.phase = 'up';
    state.upSeconds = Math.round((Date.now() - t0) / 100) / 10;
    saveState(state);
    say(
      `up in ${state.upSeconds}s. Backstage config: ${path.relative(
        REPO_ROOT,
        APP_CONFIG,
      )}; kubeconfig (admin, both contexts): ${path.relative(
        REPO_ROOT,
        path.join(STATE_DIR, 'kubeconfig'),
      )}`,
    );
    return 0;
  } catch (e) {
    const err =
      e instanceof PlatformError
        ? e
        : new PlatformError(
            'up',
            e instanceof Error ? e.stack ?? e.message : String(e),
          );
    process.stderr.write(
      `\n[platform] up FAILED at component: ${err.component}\n  ${err.message}\n`,
    );
    if (err.logFile) process.stderr.write(`  log: ${err.logFile}\n`);
    if (err.hint) process.stderr.write(`  likely fix: ${err.hint}\n`);
    if (
      err.logFile &&
      existsSync(err.logFile) &&
      !err.logFile.endsWith('.yml')
    ) {
      const tail = readFileSync(err.logFile, 'utf8')
        .trim()
        .split('\n')
        .slice(-8)
        .join('\n    ');
      if (tail) process.stderr.write(`  last log lines:\n    ${tail}\n`);
    }
    launcher.closed = true;
    if (launcher.started.length > 0) {
      process.stderr.write(
        `[platform] tearing down the ${launcher.started.length} processes this run started ...\n`,
      );
      await stopProcesses(launcher.started.map(s => s.rec));
    }
    rmSync(STATE_FILE, { force: true });
    rmSync(APP_CONFIG, { force: true });
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function mergedKubeconfig(ctxs: ClusterCtx[]): string {
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:'];
  for (const c of ctxs)
    lines.push(
      `- name: ${c.name}`,
      '  cluster:',
      `    server: ${c.server}`,
      `    certificate-authority-data: ${b64(c.ca)}`,
    );
  lines.push('users:');
  for (const c of ctxs)
    lines.push(
      `- name: ${c.name}-admin`,
      '  user:',
      `    token: ${c.tokens.admin}`,
    );
  lines.push('contexts:');
  for (const c of ctxs)
    lines.push(
      `- name: ${c.name}`,
      '  context:',
      `    cluster: ${c.name}`,
      `    user: ${c.name}-admin`,
    );
  lines.push('current-context: dev', '');
  return lines.join('\n');
}

function prometheusConfig(
  services: DemoService[],
  podNames: Record<string, string>,
): string {
  const lines = [
    '# Generated by test/platform/cli.ts up. Static targets carry the labels a',
    '# PodMonitor in each cluster would give the demo model servers.',
    'global:',
    '  scrape_interval: 5s',
    '  scrape_timeout: 4s',
    '  evaluation_interval: 5s',
    'scrape_configs:',
  ];
  for (const s of services) {
    lines.push(
      `- job_name: ${yamlStr(`${NAMESPACE}/${s.id}`)}`,
      '  metrics_path: /metrics',
      '  static_configs:',
    );
    for (const c of CLUSTERS) {
      const i = services.indexOf(s);
      lines.push(
        `  - targets: [${yamlStr(
          `${HOST}:${CLUSTER_PORTS[c].modelServerBase + i}`,
        )}]`,
        '    labels:',
        `      cluster: ${c}`,
        `      namespace: ${NAMESPACE}`,
        `      pod: ${yamlStr(podNames[`${c}/${s.id}`] ?? `${s.id}-0`)}`,
        '      container: model-server',
        `      backstage_io_kubernetes_id: ${yamlStr(s.id)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function appConfig(ctxs: ClusterCtx[]): string {
  const lines = [
    '# Generated by `node test/platform/cli.ts up`; removed by `down`. Load it with',
    '#   --config app-config.yaml --config .platform/app-config.platform.yaml',
    'kubernetes:',
    '  serviceLocatorMethod: { type: multiTenant }',
    '  clusterLocatorMethods:',
    '    - type: config',
    '      clusters:',
  ];
  for (const c of ctxs) {
    lines.push(
      `        - name: ${c.name}`,
      `          url: ${c.server}`,
      '          authProvider: serviceAccount',
      `          serviceAccountToken: ${c.saToken}`,
      `          caData: ${b64(c.ca)}`,
      '          # no metrics-server runs here: the Kubernetes plugin skips pod metrics',
      '          skipMetricsLookup: true',
    );
  }
  lines.push(
    'modelops:',
    '  environments:',
    `    dev: { cluster: dev, namespace: ${NAMESPACE} }`,
    `    prod: { cluster: prod, namespace: ${NAMESPACE} }`,
    '  builds:',
    `    namespace: ${BUILDS_NAMESPACE}`,
    '  metrics:',
    '    prometheus:',
    `      url: http://${HOST}:${PROMETHEUS_PORT}`,
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// down, status

function purge(): void {
  for (const c of CLUSTERS)
    rmSync(path.join(STATE_DIR, c), { recursive: true, force: true });
  rmSync(path.join(STATE_DIR, 'prometheus'), { recursive: true, force: true });
  rmSync(path.join(STATE_DIR, 'kubeconfig'), { force: true });
  say(
    'purged cluster data (etcd, PKI, tokens) and Prometheus data: the next up starts from scratch.',
  );
}

async function down(purgeData: boolean): Promise<number> {
  const state = loadState();
  if (!state) {
    say('not up (no state file); nothing to stop.');
    rmSync(APP_CONFIG, { force: true });
    if (purgeData) purge();
    return 0;
  }
  say(`stopping ${state.processes.length} processes started by up ...`);
  await stopProcesses(state.processes);
  const left = state.processes.filter(p => isRunning(p));
  if (left.length > 0) {
    process.stderr.write(
      `[platform] still running: ${left
        .map(p => `${p.name} (pid ${p.pid})`)
        .join(', ')}\n`,
    );
    return 1;
  }
  rmSync(STATE_FILE, { force: true });
  rmSync(APP_CONFIG, { force: true });
  say('down: nothing left running. Logs kept in .platform/logs/.');
  if (purgeData) purge();
  return 0;
}

function status(json: boolean): number {
  const state = loadState();
  if (!state) {
    if (json)
      process.stdout.write(
        `${JSON.stringify(
          {
            up: false,
            clusters: [],
            prometheus: null,
            modelServers: [],
            components: [],
          },
          null,
          2,
        )}\n`,
      );
    else
      say(
        'down (no state file). Start it with `node test/platform/cli.ts up`.',
      );
    return 3;
  }
  const byPid = new Map(state.processes.map(p => [p.pid, p]));
  const running = (pid: number): boolean => {
    const p = byPid.get(pid);
    return !!p && isRunning(p);
  };
  const components = state.processes.map(p => ({
    name: p.name,
    component: p.component,
    cluster: p.cluster ?? null,
    pid: p.pid,
    url: p.url ?? null,
    log: p.log,
    running: isRunning(p),
  }));
  const allRunning = components.every(c => c.running) && state.phase === 'up';
  const out = {
    up: allRunning,
    phase: state.phase,
    startedAt: state.startedAt,
    clusters: state.clusters.map(c => ({
      name: c.name,
      server: c.server,
      kubeconfig: c.kubeconfig,
      modelopsKubeconfig: c.modelopsKubeconfig,
    })),
    prometheus: state.prometheus
      ? {
          url: state.prometheus.url,
          running: components.some(
            c => c.component === 'prometheus' && c.running,
          ),
        }
      : null,
    modelServers: state.modelServers.map(m => ({
      service: m.service,
      environment: m.environment,
      url: m.url,
      pid: m.pid,
      running: running(m.pid),
      traffic: {
        pid: m.trafficPid,
        controlUrl: m.trafficControlUrl,
        running: running(m.trafficPid),
      },
    })),
    appConfig: existsSync(APP_CONFIG) ? APP_CONFIG : null,
    components,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    say(
      `${
        allRunning ? 'UP' : state.phase === 'starting' ? 'STARTING' : 'DEGRADED'
      } (started ${state.startedAt}${
        state.upSeconds ? `, up took ${state.upSeconds}s` : ''
      })`,
    );
    for (const c of out.clusters)
      process.stdout.write(
        `  cluster ${c.name.padEnd(5)} ${c.server}   kubeconfig ${path.relative(
          REPO_ROOT,
          c.kubeconfig,
        )}\n`,
      );
    if (out.prometheus)
      process.stdout.write(`  prometheus    ${out.prometheus.url}\n`);
    if (out.appConfig)
      process.stdout.write(
        `  backstage     ${path.relative(REPO_ROOT, out.appConfig)}\n`,
      );
    process.stdout.write('  processes:\n');
    for (const c of components) {
      process.stdout.write(
        `    ${c.running ? 'running' : 'DOWN   '}  ${c.name.padEnd(
          40,
        )} pid ${String(c.pid).padEnd(8)} ${c.url ?? ''}${
          c.running ? '' : `   log: ${path.relative(REPO_ROOT, c.log)}`
        }\n`,
      );
    }
  }
  return allRunning ? 0 : 1;
}

// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'up':
      return withLock('up', up);
    case 'down':
      return withLock('down', () => down(rest.includes('--purge')));
    case 'status':
      return status(rest.includes('--json'));
    case 'build':
      return withLock('build', async () => {
        try {
          await ensureBinaries(binVersions());
          return 0;
        } catch (e) {
          const err = e as PlatformError;
          process.stderr.write(
            `[platform] build FAILED at ${err.component ?? 'build'}: ${
              err.message
            }${err.logFile ? `\n  log: ${err.logFile}` : ''}${
              err.hint ? `\n  likely fix: ${err.hint}` : ''
            }\n`,
          );
          return 1;
        }
      });
    default:
      process.stderr.write(
        'usage: node test/platform/cli.ts up | down [--purge] | status [--json] | build\n',
      );
      return 2;
  }
}

main().then(
  code => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${err instanceof Error ? err.stack ?? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
