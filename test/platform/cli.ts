/**
 * The local ModelOps platform on loopback: two real Kubernetes control planes
 * (dev, prod: etcd + kube-apiserver + kube-controller-manager + kube-scheduler),
 * each with a real node (containerd + kubelet) and a kwok node, a local image
 * registry, Prometheus, and the demo model servers as pods, with traffic.
 *
 *   node test/platform/cli.ts up            start everything (idempotent; builds binaries if needed)
 *   node test/platform/cli.ts down          stop exactly what `up` started (--purge: also wipe cluster + Prometheus data)
 *   node test/platform/cli.ts status [--json]
 *   node test/platform/cli.ts build         build (or check) the cached binaries only
 *
 * Run with Node 22 (it strips the types). Runtime state lives in
 * ${MODELOPS_PLATFORM_DIR:-<repo>/.platform}/ (gitignored); binaries in
 * ${MODELOPS_CACHE:-~/.cache/modelops}/bin/<component>-<version>/;
 * MODELOPS_PORT_OFFSET shifts every port (see ports.ts).
 *
 * commands/ holds one file per command, steps/ the stages of `up`, lib/ the
 * state, process supervision, locking and the YAML the platform writes.
 */

const USAGE =
  'usage: node test/platform/cli.ts up | down [--purge] | status [--json] | build\n';

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  // The ports come from the environment: refuse a bad MODELOPS_PORT_OFFSET before anything runs.
  try {
    await import('./ports.ts');
  } catch (e) {
    process.stderr.write(
      `[platform] ${e instanceof Error ? e.message : String(e)}\n`,
    );
    return 2;
  }
  const { withLock } = await import('./lib/lock.ts');
  switch (cmd) {
    case 'up': {
      const { up } = await import('./commands/up.ts');
      return withLock('up', up);
    }
    case 'down': {
      const { down } = await import('./commands/down.ts');
      return withLock('down', () => down(rest.includes('--purge')));
    }
    case 'status': {
      const { status } = await import('./commands/status.ts');
      return status(rest.includes('--json'));
    }
    case 'build': {
      const { build } = await import('./commands/build.ts');
      return withLock('build', build);
    }
    default:
      process.stderr.write(USAGE);
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
