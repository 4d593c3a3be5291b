/** Running other programs to completion: synchronously, or kubectl without blocking. */
import { spawn, spawnSync } from 'node:child_process';

export interface ExecResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `cmd` and waits; throws with its stderr unless it exits 0 or `allowFail`. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; allowFail?: boolean } = {},
): ExecResult {
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

/** The path of `cmd` on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** kubectl with a kubeconfig, without blocking the event loop (both clusters are set up at once). */
export function kubectl(
  kubectlBin: string,
  kubeconfig: string,
  args: string[],
  input?: string,
): Promise<ExecResult> {
  return new Promise(resolve => {
    const child = spawn(kubectlBin, ['--kubeconfig', kubeconfig, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', e => resolve({ code: 127, out, err: err + String(e) }));
    child.on('close', code => resolve({ code: code ?? 1, out, err }));
    // kubectl may exit before it reads its input (e.g. on a refused request):
    // the write then fails with EPIPE, and its exit code and stderr say why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}
