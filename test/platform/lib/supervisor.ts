/**
 * Process supervision: starting detached processes with a log each and
 * recording them in the state, waiting until they are ready, and stopping
 * exactly the processes that were recorded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import {
  LOG_DIR,
  READY_TIMEOUT_MS,
  STATE_DIR,
  type ClusterName,
} from './layout.ts';
import { PlatformError } from './output.ts';
import { saveState, type ProcRecord, type State } from './state.ts';
import { sleep } from './wait.ts';

/** The state letter of /proc/<pid>/stat (R, S, Z, ...); throws when there is no such process. */
export function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** True if `pid` is alive (not a zombie) and still runs the program we started. */
export function isRunning(p: Pick<ProcRecord, 'pid' | 'exe'>): boolean {
  try {
    const st = processState(p.pid);
    if (st === 'Z' || st === 'X') return false;
    const exe = readlinkSync(`/proc/${p.pid}/exe`);
    return exe === p.exe || exe === `${p.exe} (deleted)`;
  } catch {
    return false;
  }
}

export interface Started {
  rec: ProcRecord;
  child: ChildProcess;
  exit?: { code: number | null; signal: string | null };
}

export interface StartOptions {
  name: string;
  component: string;
  exe: string;
  args: string[];
  cluster?: ClusterName;
  service?: string;
  url?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts the processes of one `up`, recording each in the state as it starts. */
export class Launcher {
  readonly started: Started[] = [];
  readonly state: State;
  constructor(state: State) {
    this.state = state;
  }

  /** Set when `up` starts tearing down: nothing may be started after that. */
  closed = false;

  start(opts: StartOptions): Started {
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
export async function stopProcesses(
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
