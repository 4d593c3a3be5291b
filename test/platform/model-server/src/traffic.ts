/**
 * Traffic generator entry point.
 *
 *   node src/traffic.ts --target http://127.0.0.1:8080 --model churn-classifier \
 *     --runtime kserve --rps 5 --control-port 8090
 *
 * Prints {"event":"traffic_started","control":...} on stdout once running and
 * a final {"event":"traffic_stopped",...} summary. Control routes:
 * GET /state, POST /shift {"magnitude": 1.5}, POST /clear.
 */
import {
  integerOption,
  logLine,
  numberOption,
  option,
  parseCommandLine,
  UsageError,
} from './cli-args.ts';
import { isRuntime, RUNTIMES } from './runtime-metrics.ts';
import { EndpointSource } from './endpoints.ts';
import {
  createTrafficGenerator,
  DEFAULT_TRAFFIC,
  MAX_RPS,
  type TrafficGenerator,
} from './traffic-generator.ts';

const USAGE = `Usage: node src/traffic.ts --target <url> [options]
  --target <url>         model server base URL, loopback only   (TRAFFIC_TARGET)
  --model <name>         model name                              (MODEL_NAME, default ${
    DEFAULT_TRAFFIC.modelName
  })
  --runtime <r>          ${RUNTIMES.join(
    '|',
  )}; triton sends v2 requests, others v1   (MODEL_RUNTIME, default ${
  DEFAULT_TRAFFIC.runtime
})
  --rps <n>              requests per second                     (TRAFFIC_RPS, default ${
    DEFAULT_TRAFFIC.rps
  })
  --batch <n>            instances per request                   (TRAFFIC_BATCH, default ${
    DEFAULT_TRAFFIC.batchSize
  })
  --control-port <n>     control server port, 0 = any free port  (TRAFFIC_CONTROL_PORT, default 8090)
  --duration <s>         stop after s seconds, 0 = until SIGTERM (TRAFFIC_DURATION, default 0)
  --max-requests <n>     stop after n requests, 0 = no limit     (TRAFFIC_MAX_REQUESTS, default 0)
  --seed <n>             sampling seed                           (TRAFFIC_SEED, default ${
    DEFAULT_TRAFFIC.seed
  })
Instead of --target, follow a Kubernetes Service's ready endpoints (EndpointSlices):
  --service <ns/name>    the Service                             (TRAFFIC_SERVICE)
  --api-server <url>     its cluster's API server, https on 127.0.0.0/8 (TRAFFIC_API_SERVER)
  --ca-file <path>       the cluster CA                          (TRAFFIC_CA_FILE)
  --token-file <path>    a bearer token that may list endpointslices (TRAFFIC_TOKEN_FILE)
  --pod-cidr <cidr>      only endpoints inside it are used       (TRAFFIC_POD_CIDR)
  --port-name <name>     the Service port                        (TRAFFIC_PORT_NAME, default http)
`;

async function main(): Promise<void> {
  const args = parseCommandLine(process.argv.slice(2), {
    values: [
      'target',
      'model',
      'runtime',
      'rps',
      'batch',
      'control-port',
      'duration',
      'max-requests',
      'seed',
      'service',
      'api-server',
      'ca-file',
      'token-file',
      'pod-cidr',
      'port-name',
    ],
    switches: ['help'],
  });
  if (args.flags.has('help')) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.positionals.length > 0)
    throw new UsageError(`Unexpected argument: ${args.positionals[0]}`);
  const service = option(args, 'service', 'TRAFFIC_SERVICE', '');
  let source: EndpointSource | undefined;
  if (service !== '') {
    const [namespace, name] = service.split('/');
    if (!namespace || !name)
      throw new UsageError(
        `--service must be <namespace>/<name>, got "${service}"`,
      );
    const need = (flag: string, env: string): string => {
      const v = option(args, flag, env, '');
      if (v === '')
        throw new UsageError(`--${flag} is required with --service`);
      return v;
    };
    try {
      source = new EndpointSource({
        apiServer: need('api-server', 'TRAFFIC_API_SERVER'),
        caFile: need('ca-file', 'TRAFFIC_CA_FILE'),
        tokenFile: need('token-file', 'TRAFFIC_TOKEN_FILE'),
        podCidr: need('pod-cidr', 'TRAFFIC_POD_CIDR'),
        portName: option(args, 'port-name', 'TRAFFIC_PORT_NAME', 'http'),
        namespace,
        service: name,
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    await source.start();
  }
  const target = source
    ? `endpointslices:${service}`
    : option(args, 'target', 'TRAFFIC_TARGET', '');
  if (target === '')
    throw new UsageError('--target (or --service) is required');
  const runtime = option(
    args,
    'runtime',
    'MODEL_RUNTIME',
    DEFAULT_TRAFFIC.runtime,
  );
  if (!isRuntime(runtime))
    throw new UsageError(
      `--runtime must be one of ${RUNTIMES.join(', ')}, got "${runtime}"`,
    );

  let generator: TrafficGenerator;
  try {
    generator = createTrafficGenerator({
      target,
      ...(source ? { nextEndpoint: () => source.next() } : {}),
      runtime,
      modelName: option(args, 'model', 'MODEL_NAME', DEFAULT_TRAFFIC.modelName),
      rps: numberOption(
        args,
        'rps',
        'TRAFFIC_RPS',
        DEFAULT_TRAFFIC.rps,
        0.01,
        MAX_RPS,
      ),
      batchSize: integerOption(
        args,
        'batch',
        'TRAFFIC_BATCH',
        DEFAULT_TRAFFIC.batchSize,
        1,
        1000,
      ),
      controlPort: integerOption(
        args,
        'control-port',
        'TRAFFIC_CONTROL_PORT',
        8090,
        0,
        65535,
      ),
      durationSeconds: numberOption(
        args,
        'duration',
        'TRAFFIC_DURATION',
        0,
        0,
        7 * 24 * 3600,
      ),
      maxRequests: integerOption(
        args,
        'max-requests',
        'TRAFFIC_MAX_REQUESTS',
        0,
        0,
        Number.MAX_SAFE_INTEGER,
      ),
      seed: integerOption(
        args,
        'seed',
        'TRAFFIC_SEED',
        DEFAULT_TRAFFIC.seed,
        0,
        2 ** 32 - 1,
      ),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const control = await generator.start();
  const initial = generator.state();
  process.stdout.write(
    `${JSON.stringify({
      event: 'traffic_started',
      control,
      target: initial.target,
      protocol: initial.protocol,
      rps: initial.rps,
    })}\n`,
  );

  const stop = (signal: string): void => {
    logLine('traffic', 'shutdown', { signal });
    source?.stop();
    void generator.stop();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  await generator.finished;
  const { sent, succeeded, failed, errors, dropped, statusCounts } =
    generator.state();
  process.stdout.write(
    `${JSON.stringify({
      event: 'traffic_stopped',
      sent,
      succeeded,
      failed,
      errors,
      dropped,
      statusCounts,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    logLine('traffic', 'fatal', { error: String(err) });
    process.exit(1);
  },
);
