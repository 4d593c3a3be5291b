/*
 * Helpers for integration tests against the local platform
 * (`node test/platform/cli.ts up`). Test-only code.
 */
import { ConfigReader } from '@backstage/config';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ClusterClients } from '../../kubernetes/ClusterClients';

/** The repository root: the nearest folder up from the working directory with yarn.lock. */
function findRepoRoot(): string {
  if (process.env.MODELOPS_REPO_ROOT) return process.env.MODELOPS_REPO_ROOT;
  let dir = process.cwd();
  while (!fs.existsSync(path.join(dir, 'yarn.lock'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
export const PLATFORM_CONFIG = path.join(
  REPO_ROOT,
  '.platform',
  'app-config.platform.yaml',
);

/**
 * True when the local platform has written its Backstage config. With
 * MODELOPS_REQUIRE_PLATFORM=1 (set by scripts/test) a missing platform is an
 * error, so integration tests can never be skipped silently there.
 */
export function platformAvailable(): boolean {
  const available = fs.existsSync(PLATFORM_CONFIG);
  if (!available && process.env.MODELOPS_REQUIRE_PLATFORM === '1') {
    throw new Error(
      `MODELOPS_REQUIRE_PLATFORM=1 but ${PLATFORM_CONFIG} is absent: the local platform is not up`,
    );
  }
  return available;
}

/** Why integration tests are skipped, printed once. */
export function explainSkip(suite: string): void {
  // eslint-disable-next-line no-console
  console.warn(
    `${suite}: SKIPPED — ${PLATFORM_CONFIG} is absent. Start the local platform with \`node test/platform/cli.ts up\` to run these integration tests.`,
  );
}

/** The parsed platform config (as Backstage would load it). */
export function platformConfig(): ConfigReader {
  return new ConfigReader(parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8')));
}

/** ClusterClients built from the platform config, like the backend does. */
export function platformClusters(): ClusterClients {
  return ClusterClients.fromConfig(platformConfig());
}

/** The admin kubeconfig of one cluster (the platform's own view). */
export function adminKubeconfig(cluster: string): string {
  return path.join(REPO_ROOT, '.platform', cluster, 'admin.kubeconfig');
}

/**
 * A pinned binary from the platform's build cache
 * (`<cache>/bin/<name>-<version>/<name>`), the newest version there, or
 * undefined when it has not been built.
 */
export function cachedBinary(name: string): string | undefined {
  const cache =
    process.env.MODELOPS_CACHE ?? path.join(os.homedir(), '.cache', 'modelops');
  const bin = path.join(cache, 'bin');
  const dirs = fs.existsSync(bin)
    ? fs.readdirSync(bin).filter(d => d.startsWith(`${name}-v`))
    : [];
  for (const dir of dirs.sort().reverse()) {
    const candidate = path.join(bin, dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The pinned kubectl from the platform's binary cache. */
export function kubectlPath(): string {
  const found = cachedBinary('kubectl');
  if (found) return found;
  throw new Error(
    'kubectl is not in the platform build cache; run `node test/platform/cli.ts build`',
  );
}

/** Runs kubectl with the admin kubeconfig; resolves with stdout, exit code and stderr. */
export function kubectl(
  cluster: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    const child = execFile(
      kubectlPath(),
      ['--kubeconfig', adminKubeconfig(cluster), ...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        let code = 0;
        if (error) code = typeof error.code === 'number' ? error.code : 1;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `kubectl get -o json`, or undefined when the object does not exist. */
export async function kubectlGet(
  cluster: string,
  namespace: string,
  resource: string,
  name: string,
): Promise<any | undefined> {
  const res = await kubectl(cluster, [
    'get',
    '-n',
    namespace,
    resource,
    name,
    '-o',
    'json',
    '--show-managed-fields',
    '--ignore-not-found',
  ]);
  if (res.code !== 0) {
    throw new Error(`kubectl get ${resource} ${name} failed: ${res.stderr}`);
  }
  return res.stdout.trim() ? JSON.parse(res.stdout) : undefined;
}

/** A short random suffix so parallel runs never share objects. */
export function uniqueId(prefix = 'it'): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Calls `fn` until it returns something other than undefined, then returns
 * that; throws naming `what` once `timeoutMs` has passed.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, options.intervalMs ?? 500));
  }
}
