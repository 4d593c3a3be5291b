/**
 * Shared helpers for the platform tests. They read the running platform from
 * `cli.ts status --json` and talk to it with kubectl (the pinned build in the
 * cache) and plain HTTP.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

/** The state directory and ports of the platform under test: the ones cli.ts uses (MODELOPS_PLATFORM_DIR, MODELOPS_PORT_OFFSET). */
export { STATE_DIR } from '../lib/layout.ts';
export { CLUSTER_PORTS, HOST, PROMETHEUS_PORT } from '../ports.ts';

export const PLATFORM_DIR = path.resolve(import.meta.dirname, '..');
export const REPO_ROOT = path.resolve(PLATFORM_DIR, '..', '..');
export const CLI = path.join(PLATFORM_DIR, 'cli.ts');
export const CACHE_DIR =
  process.env.MODELOPS_CACHE ?? path.join(os.homedir(), '.cache', 'modelops');

export interface Status {
  up: boolean;
  clusters: {
    name: string;
    server: string;
    kubeconfig: string;
    modelopsKubeconfig: string;
  }[];
  prometheus: { url: string; running: boolean } | null;
  modelServers: {
    service: string;
    environment: string;
    url: string;
    pid: number;
    running: boolean;
    traffic: { pid: number; running: boolean };
  }[];
  components: {
    name: string;
    component: string;
    pid: number;
    running: boolean;
    log: string;
  }[];
}

export function cli(args: string[]): {
  code: number;
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    maxBuffer: 32 << 20,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export function status(): Status {
  const r = cli(['status', '--json']);
  return JSON.parse(r.stdout) as Status;
}

/** Fails the test with a clear message when the platform is not up. */
export function requireUp(): Status {
  const s = status();
  if (!s.up) {
    throw new Error(
      `the local platform is not up (or degraded); run \`node test/platform/cli.ts up\` first.\n${
        cli(['status']).stdout
      }`,
    );
  }
  return s;
}

export function demoServices(): { id: string; runtime: string }[] {
  return JSON.parse(
    readFileSync(path.join(PLATFORM_DIR, 'demo-services.json'), 'utf8'),
  ) as { id: string; runtime: string }[];
}

let kubectlPath: string | undefined;
export function kubectlBin(): string {
  if (!kubectlPath) {
    const r = spawnSync(
      'bash',
      [path.join(PLATFORM_DIR, 'build', 'build.sh'), '--print-versions'],
      { encoding: 'utf8' },
    );
    const ver = r.stdout
      .split('\n')
      .find(l => l.startsWith('kubectl '))!
      .split(' ')[1]!;
    kubectlPath = path.join(CACHE_DIR, 'bin', `kubectl-${ver}`, 'kubectl');
  }
  return kubectlPath;
}

export function kubectl(
  kubeconfig: string,
  args: string[],
  input?: string,
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(kubectlBin(), ['--kubeconfig', kubeconfig, ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 32 << 20,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export function kubectlOk(
  kubeconfig: string,
  args: string[],
  input?: string,
): string {
  const r = kubectl(kubeconfig, args, input);
  if (r.code !== 0)
    throw new Error(
      `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`,
    );
  return r.stdout;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise(r => setTimeout(r, ms));

export async function waitUntil<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${
      last ? `: ${String(last)}` : ''
    }`,
  );
}

/** Reads server URL, CA and token out of one of the platform's kubeconfigs. */
export function kubeconfigCreds(kubeconfig: string): {
  server: string;
  ca: string;
  token: string;
} {
  const doc = parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters?: {
      cluster?: { server?: string; 'certificate-authority-data'?: string };
    }[];
    users?: { user?: { token?: string } }[];
  };
  const cluster = doc.clusters?.[0]?.cluster;
  const token = doc.users?.[0]?.user?.token;
  const ca = cluster?.['certificate-authority-data'];
  if (!cluster?.server || !ca || !token)
    throw new Error(`server, CA or token missing in ${kubeconfig}`);
  return {
    server: cluster.server,
    ca: Buffer.from(ca, 'base64').toString('utf8'),
    token,
  };
}

/** A raw API request, so tests can assert exact HTTP status codes (403 and friends). */
export function apiRequest(
  kubeconfig: string,
  method: string,
  urlPath: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const { server, ca, token } = kubeconfigCreds(kubeconfig);
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      new URL(urlPath, server),
      {
        method,
        ca,
        agent: false,
        timeout: 10_000,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      res => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: data }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A fresh namespace for one test file, in the given cluster, ready for pods. */
export async function testNamespace(
  kubeconfig: string,
  prefix: string,
): Promise<string> {
  const ns = `${prefix}-${Date.now().toString(36)}-${Math.floor(
    Math.random() * 1e4,
  )}`;
  kubectlOk(kubeconfig, ['create', 'namespace', ns]);
  await waitUntil(
    `serviceaccount/default in ${ns}`,
    () =>
      kubectl(kubeconfig, ['-n', ns, 'get', 'serviceaccount', 'default'])
        .code === 0,
    30_000,
  );
  return ns;
}

/** True when the platform under test runs a real node (containerd + kubelet) per cluster. */
export function hasRealNodes(s: Status): boolean {
  return s.components.some(c => c.component === 'kubelet');
}

/**
 * Pod spec fields that put a test pod on kwok's node: the tests of kwok's
 * stages (Ready, Job completion, chaos) use images that exist nowhere, which
 * only kwok runs. With real nodes kwok's node is tainted; these tolerate it.
 */
export const ON_KWOK = {
  nodeSelector: { type: 'kwok' },
  tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists' }],
} as const;

/** What the platform tests read of a pod. */
export interface PodView {
  metadata: { name: string; labels: Record<string, string> };
  spec: { nodeName?: string };
  status: {
    podIP?: string;
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      ready: boolean;
      state: { waiting?: { reason?: string } };
    }[];
  };
}

/** The pods in `models` matching a label selector. */
export function podsIn(kubeconfig: string, selector: string): PodView[] {
  return (
    JSON.parse(
      kubectlOk(kubeconfig, [
        '-n',
        'models',
        'get',
        'pods',
        '-l',
        selector,
        '-o',
        'json',
      ]),
    ) as { items: PodView[] }
  ).items;
}
