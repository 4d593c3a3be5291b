/** The programs the platform runs: the pinned Go builds in the cache, and Debian's Prometheus. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, which } from '../lib/exec.ts';
import { BUILD_SCRIPT, CACHE_DIR, LOG_DIR, REAL_NODES } from '../lib/layout.ts';
import { PlatformError, say } from '../lib/output.ts';

export const BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
  'kubelet',
  'prometheus',
  // Not run by the platform: the known-answer tests backfill blocks and test
  // the health expressions with the promtool of the same Prometheus.
  'promtool',
  // The image of build Jobs (real nodes only): BuildKit's daemon and client.
  'buildkitd',
  'buildctl',
  // The git server.
  'gitea',
] as const;
export type Binary = (typeof BINARIES)[number];
/** Needed only with real nodes (left out with MODELOPS_REAL_NODES=0). */
const REAL_NODES_ONLY: readonly string[] = [
  'kubelet',
  'prometheus',
  'promtool',
  'buildkitd',
  'buildctl',
];
export type Versions = Record<Binary, string>;

/** The pinned version of each binary, from build.sh. */
export function binVersions(): Versions {
  const r = run('bash', [BUILD_SCRIPT, '--print-versions']);
  const out = {} as Versions;
  for (const line of r.out.trim().split('\n')) {
    const [name, ver] = line.split(' ');
    out[name as Binary] = ver!;
  }
  return out;
}

export function binPath(name: Binary, versions: Versions): string {
  return path.join(CACHE_DIR, 'bin', `${name}-${versions[name]}`, name);
}

/** Builds missing binaries, streaming build.sh's progress. */
export async function ensureBinaries(versions: Versions): Promise<void> {
  // The kubelet, a Prometheus with Kubernetes discovery and BuildKit are only needed for real nodes.
  const missing = BINARIES.filter(
    b =>
      (!REAL_NODES_ONLY.includes(b) || REAL_NODES) &&
      !existsSync(binPath(b, versions)),
  );
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
    )} from the Go module proxy (first time only; about 25-30 min on 2 cores, 2.5 GiB peak) ...`,
  );
  const order: Binary[] = [
    'etcd',
    'kwok',
    'kubectl',
    'kube-scheduler',
    'kube-controller-manager',
    'kube-apiserver',
    'kubelet',
    'prometheus',
    'promtool',
    'buildkitd',
    'buildctl',
    'gitea',
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
export function ensurePrometheus(): string {
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
