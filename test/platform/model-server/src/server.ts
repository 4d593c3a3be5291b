/**
 * Model server entry point.
 *
 *   node src/server.ts --port 8080 --host 127.0.0.1 --model churn-classifier --runtime kserve
 *
 * Prints one JSON line {"event":"listening","url":...} on stdout once ready;
 * logs go to stderr. Stops gracefully on SIGTERM/SIGINT.
 */
import { createModelServer, DEFAULT_CONFIG } from './app.ts';
import {
  integerOption,
  logLine,
  numberOption,
  option,
  parseCommandLine,
  UsageError,
} from './cli-args.ts';
import { MAX_INJECTED_LATENCY_MS } from './faults.ts';
import { isRuntime, RUNTIMES } from './runtime-metrics.ts';

const USAGE = `Usage: node src/server.ts [options]
  --port <n>             port to listen on, 0 = any free port   (MODEL_SERVER_PORT, default ${
    DEFAULT_CONFIG.port
  })
  --host <addr>          address to bind                         (MODEL_SERVER_HOST, default ${
    DEFAULT_CONFIG.host
  })
  --model <name>         model name used in routes and metrics   (MODEL_NAME, default ${
    DEFAULT_CONFIG.modelName
  })
  --model-version <v>    model version                           (MODEL_VERSION, default ${
    DEFAULT_CONFIG.modelVersion
  })
  --runtime <r>          metrics flavour: ${RUNTIMES.join(
    '|',
  )}   (MODEL_RUNTIME, default ${DEFAULT_CONFIG.runtime})
  --seed <n>             training / fault seed                   (MODEL_SEED, default ${
    DEFAULT_CONFIG.seed
  })
  --drift-window <n>     inputs kept for PSI                     (MODEL_DRIFT_WINDOW, default ${
    DEFAULT_CONFIG.driftWindow
  })
  --max-concurrency <n>  parallel model executions               (MODEL_MAX_CONCURRENCY, default ${
    DEFAULT_CONFIG.maxConcurrency
  })
  --max-queue <n>        queued requests before 503              (MODEL_MAX_QUEUE, default ${
    DEFAULT_CONFIG.maxQueue
  })
  --latency-ms <n>       fault from the start: ms added per inference (MODEL_FAULT_LATENCY_MS, default 0)
  --error-rate <p>       fault from the start: share of inferences failing 0..1 (MODEL_FAULT_ERROR_RATE, default 0)
  MODEL_START_FAILURE    when set, exit with this message at start (an image built to crash)
`;

async function main(): Promise<void> {
  // A release built to fail (the demo's CrashLoopBackOff image): exits before
  // it serves, whatever else its environment says.
  const startFailure = process.env.MODEL_START_FAILURE;
  if (startFailure) {
    throw new Error(`this release does not start: ${startFailure}`);
  }
  const args = parseCommandLine(process.argv.slice(2), {
    values: [
      'port',
      'host',
      'model',
      'model-version',
      'runtime',
      'seed',
      'drift-window',
      'max-concurrency',
      'max-queue',
      'latency-ms',
      'error-rate',
    ],
    switches: ['help'],
  });
  if (args.flags.has('help')) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.positionals.length > 0)
    throw new UsageError(`Unexpected argument: ${args.positionals[0]}`);
  const runtime = option(
    args,
    'runtime',
    'MODEL_RUNTIME',
    DEFAULT_CONFIG.runtime,
  );
  if (!isRuntime(runtime))
    throw new UsageError(
      `--runtime must be one of ${RUNTIMES.join(', ')}, got "${runtime}"`,
    );
  const modelName = option(
    args,
    'model',
    'MODEL_NAME',
    DEFAULT_CONFIG.modelName,
  );
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(modelName)) {
    throw new UsageError(
      '--model must be 1-128 characters of letters, digits, ".", "_" or "-"',
    );
  }

  const server = createModelServer(
    {
      runtime,
      modelName,
      modelVersion: option(
        args,
        'model-version',
        'MODEL_VERSION',
        DEFAULT_CONFIG.modelVersion,
      ),
      host: option(args, 'host', 'MODEL_SERVER_HOST', DEFAULT_CONFIG.host),
      port: integerOption(
        args,
        'port',
        'MODEL_SERVER_PORT',
        DEFAULT_CONFIG.port,
        0,
        65535,
      ),
      seed: integerOption(
        args,
        'seed',
        'MODEL_SEED',
        DEFAULT_CONFIG.seed,
        0,
        2 ** 32 - 1,
      ),
      driftWindow: integerOption(
        args,
        'drift-window',
        'MODEL_DRIFT_WINDOW',
        DEFAULT_CONFIG.driftWindow,
        10,
        100_000,
      ),
      maxConcurrency: integerOption(
        args,
        'max-concurrency',
        'MODEL_MAX_CONCURRENCY',
        DEFAULT_CONFIG.maxConcurrency,
        1,
        1024,
      ),
      maxQueue: integerOption(
        args,
        'max-queue',
        'MODEL_MAX_QUEUE',
        DEFAULT_CONFIG.maxQueue,
        0,
        100_000,
      ),
    },
    (event, fields) => logLine('model-server', event, fields),
  );

  // A release can be built to misbehave from its first request (the slow or
  // failing demo versions); the control API can still change it later.
  server.faults.update({
    latencyMs: numberOption(
      args,
      'latency-ms',
      'MODEL_FAULT_LATENCY_MS',
      0,
      0,
      MAX_INJECTED_LATENCY_MS,
    ),
    errorRate: numberOption(
      args,
      'error-rate',
      'MODEL_FAULT_ERROR_RATE',
      0,
      0,
      1,
    ),
  });

  const url = await server.listen();
  process.stdout.write(
    `${JSON.stringify({
      event: 'listening',
      url,
      model: modelName,
      runtime,
    })}\n`,
  );

  const stop = (signal: string): void => {
    logLine('model-server', 'shutdown', { signal });
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  logLine('model-server', 'fatal', { error: String(err) });
  process.exit(1);
});
