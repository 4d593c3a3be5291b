/** Shared helpers for the tests: servers on ephemeral ports, HTTP calls, child processes. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  createModelServer,
  type ModelServer,
  type ServerConfig,
} from '../../src/app.ts';
import { parseExposition, type MetricFamily } from './exposition.ts';

export const SRC_DIR = fileURLToPath(new URL('../../src/', import.meta.url));

export interface RunningServer {
  readonly url: string;
  readonly server: ModelServer;
  close(): Promise<void>;
}

export async function startServer(
  overrides: Partial<ServerConfig> = {},
): Promise<RunningServer> {
  const server = createModelServer({
    host: '127.0.0.1',
    port: 0,
    ...overrides,
  });
  const url = await server.listen();
  return { url, server, close: () => server.close() };
}

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

export async function request(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string | Buffer } = {},
): Promise<JsonResponse> {
  const body =
    init.rawBody ??
    (init.body === undefined ? undefined : JSON.stringify(init.body));
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    ...(body === undefined
      ? {}
      : { body, headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function scrape(
  baseUrl: string,
): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`${baseUrl}/metrics`, {
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const contentType = res.headers.get('content-type') ?? '';
  if (!contentType.startsWith('text/plain; version=0.0.4'))
    throw new Error(`unexpected content type ${contentType}`);
  return parseExposition(await res.text());
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  throw new Error(
    `timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}

export interface Cli {
  readonly child: ChildProcessWithoutNullStreams;
  /** JSON lines printed on stdout so far. */
  readonly events: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Waits for a stdout JSON line with the given "event". */
  waitForEvent(
    event: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts one of the src/*.ts command-line tools with the current node binary. */
export function startCli(script: string, args: readonly string[]): Cli {
  const child = spawn(process.execPath, [`${SRC_DIR}${script}`, ...args], {
    stdio: 'pipe',
  });
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // ignore non-JSON output
      }
    }
  });
  child.stderr
    .setEncoding('utf8')
    .on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  return {
    child,
    events,
    stderr: () => stderr,
    waitForEvent: (event, timeoutMs = 15_000) =>
      waitFor(
        async () => {
          if (child.exitCode !== null)
            throw new Error(
              `${script} exited with ${child.exitCode}: ${stderr}`,
            );
          return events.find(e => e['event'] === event);
        },
        timeoutMs,
        `${script} event ${event}`,
      ),
    async stop() {
      if (child.exitCode === null && child.signalCode === null)
        child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs a src/*.ts tool to completion and returns its exit code and output. */
export async function runCli(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`${SRC_DIR}${script}`, ...args], {
    stdio: 'pipe',
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}
