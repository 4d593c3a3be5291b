/**
 * Command-line control for a running model server and traffic generator.
 *
 *   node src/control.ts --server http://127.0.0.1:8080 --traffic http://127.0.0.1:8090 <command>
 *
 * Commands:
 *   latency <ms>      add <ms> of latency to every inference (server)
 *   errors <rate>     fail a share 0..1 of inferences with HTTP 500 (server)
 *   shift <m>         shift the traffic's inputs by m standard deviations (traffic)
 *   clear             remove faults (server) and the shift (traffic)
 *   status            show faults, drift and traffic state
 *
 * --server / --traffic default to MODELOPS_SERVER_URL / MODELOPS_TRAFFIC_URL.
 * Prints the JSON answers; exits 1 if a call fails, 2 on usage errors.
 */
import { option, parseCommandLine, UsageError } from './cli-args.ts';

const USAGE = `Usage: node src/control.ts [--server <url>] [--traffic <url>] <command> [value]
  latency <ms> | errors <rate> | shift <magnitude> | clear | status
  --server   model server base URL      (MODELOPS_SERVER_URL)
  --traffic  traffic control base URL   (MODELOPS_TRAFFIC_URL)
`;

interface Call {
  readonly label: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly body?: unknown;
}

function numberArg(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number {
  const n = Number(value);
  if (
    value === undefined ||
    value.trim() === '' ||
    !Number.isFinite(n) ||
    n < min ||
    n > max
  ) {
    throw new UsageError(`${name} needs a number between ${min} and ${max}`);
  }
  return n;
}

function baseUrl(raw: string, flag: string): string {
  if (raw === '') throw new UsageError(`this command needs --${flag}`);
  try {
    return new URL(raw).origin;
  } catch {
    throw new UsageError(`--${flag} is not a valid URL: ${raw}`);
  }
}

function plan(
  command: string | undefined,
  value: string | undefined,
  server: string,
  traffic: string,
): Call[] {
  switch (command) {
    case 'latency':
      return [
        {
          label: 'server',
          method: 'POST',
          url: `${baseUrl(server, 'server')}/admin/faults`,
          body: { latencyMs: numberArg(value, 'latency', 0, 60_000) },
        },
      ];
    case 'errors':
      return [
        {
          label: 'server',
          method: 'POST',
          url: `${baseUrl(server, 'server')}/admin/faults`,
          body: { errorRate: numberArg(value, 'errors', 0, 1) },
        },
      ];
    case 'shift':
      return [
        {
          label: 'traffic',
          method: 'POST',
          url: `${baseUrl(traffic, 'traffic')}/shift`,
          body: { magnitude: numberArg(value, 'shift', -10, 10) },
        },
      ];
    case 'clear': {
      if (server === '' && traffic === '')
        throw new UsageError('clear needs --server and/or --traffic');
      const calls: Call[] = [];
      if (server !== '')
        calls.push({
          label: 'server',
          method: 'DELETE',
          url: `${baseUrl(server, 'server')}/admin/faults`,
        });
      if (traffic !== '')
        calls.push({
          label: 'traffic',
          method: 'POST',
          url: `${baseUrl(traffic, 'traffic')}/clear`,
        });
      return calls;
    }
    case 'status': {
      if (server === '' && traffic === '')
        throw new UsageError('status needs --server and/or --traffic');
      const calls: Call[] = [];
      if (server !== '') {
        calls.push({
          label: 'faults',
          method: 'GET',
          url: `${baseUrl(server, 'server')}/admin/faults`,
        });
        calls.push({
          label: 'drift',
          method: 'GET',
          url: `${baseUrl(server, 'server')}/admin/drift`,
        });
      }
      if (traffic !== '')
        calls.push({
          label: 'traffic',
          method: 'GET',
          url: `${baseUrl(traffic, 'traffic')}/state`,
        });
      return calls;
    }
    default:
      throw new UsageError(
        command === undefined
          ? 'Missing command'
          : `Unknown command: ${command}`,
      );
  }
}

async function execute(call: Call): Promise<unknown> {
  const res = await fetch(call.url, {
    method: call.method,
    ...(call.body === undefined
      ? {}
      : {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(call.body),
        }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    // keep the raw text
  }
  if (!res.ok)
    throw new Error(
      `${call.method} ${call.url} -> HTTP ${res.status}: ${text}`,
    );
  return parsed;
}

async function main(): Promise<number> {
  const args = parseCommandLine(process.argv.slice(2), {
    values: ['server', 'traffic'],
    switches: ['help'],
  });
  if (args.flags.has('help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [command, value, ...rest] = args.positionals;
  if (rest.length > 0) throw new UsageError(`Unexpected argument: ${rest[0]}`);
  const calls = plan(
    command,
    value,
    option(args, 'server', 'MODELOPS_SERVER_URL', ''),
    option(args, 'traffic', 'MODELOPS_TRAFFIC_URL', ''),
  );
  const results: Record<string, unknown> = {};
  let failed = false;
  for (const call of calls) {
    try {
      results[call.label] = await execute(call);
    } catch (err) {
      failed = true;
      results[call.label] = {
        error: err instanceof Error ? err.message : String(err),
      };
    }
  }
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return failed ? 1 : 0;
}

main().then(
  code => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
