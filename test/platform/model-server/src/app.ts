/**
 * The model server: routes, inference pipeline, metrics and graceful shutdown.
 * `src/server.ts` is the command-line entry point around `createModelServer`.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { DriftMonitor } from './drift.ts';
import { FaultInjector, parseFaultPatch } from './faults.ts';
import {
  HttpError,
  readJson,
  sendError,
  sendJson,
  sleep,
} from './http-util.ts';
import { ConcurrencyLimiter, QueueFullError } from './limiter.ts';
import {
  predictRow,
  trainModel,
  type Prediction,
  type TrainedModel,
} from './model.ts';
import { CONTENT_TYPE } from './prometheus.ts';
import {
  buildV1Response,
  buildV2Response,
  parseV1Request,
  parseV2Request,
  V2_INPUT_NAME,
  V2_OUTPUTS,
} from './protocol.ts';
import { createRng } from './rng.ts';
import {
  createServingMetrics,
  type FailureKind,
  type Runtime,
  type ServingMetrics,
} from './runtime-metrics.ts';

export interface ServerConfig {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly runtime: Runtime;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Seed for training data, weights and fault draws. */
  readonly seed: number;
  /** Number of recent inputs compared with the training distribution. */
  readonly driftWindow: number;
  /** Model executions that may run at the same time. */
  readonly maxConcurrency: number;
  /** Requests that may wait for an execution slot before new ones get 503. */
  readonly maxQueue: number;
  /** How long shutdown waits for in-flight requests before closing connections. */
  readonly shutdownTimeoutMs: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  modelName: 'churn-classifier',
  modelVersion: '1',
  runtime: 'kserve',
  host: '127.0.0.1',
  port: 8080,
  seed: 42,
  driftWindow: 500,
  maxConcurrency: 4,
  maxQueue: 256,
  shutdownTimeoutMs: 10_000,
};

export type LogFn = (event: string, fields?: Record<string, unknown>) => void;

export interface ModelServer {
  readonly config: ServerConfig;
  readonly model: TrainedModel;
  readonly faults: FaultInjector;
  readonly drift: DriftMonitor;
  readonly metrics: ServingMetrics;
  /** Starts listening; resolves with the base URL, e.g. http://127.0.0.1:8080. */
  listen(): Promise<string>;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
) => Promise<void> | void;

interface Route {
  readonly pattern: RegExp;
  readonly methods: Partial<Record<string, Handler>>;
}

export function createModelServer(
  overrides: Partial<ServerConfig> = {},
  log: LogFn = () => {},
): ModelServer {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...overrides };
  const model = trainModel({ seed: config.seed });
  const drift = new DriftMonitor(
    model.featureReference,
    model.predictionReference,
    config.driftWindow,
  );
  const faults = new FaultInjector(createRng(config.seed ^ 0x5eed));
  const limiter = new ConcurrencyLimiter(
    config.maxConcurrency,
    config.maxQueue,
  );
  const metrics = createServingMetrics({
    runtime: config.runtime,
    modelName: config.modelName,
    modelVersion: config.modelVersion,
    classNames: model.classNames,
    featureNames: model.featureNames,
    drift,
    holdoutAccuracy: model.holdoutAccuracy,
  });
  let shuttingDown = false;

  log('model_trained', {
    model: config.modelName,
    seed: model.seed,
    trainAccuracy: round(model.trainAccuracy),
    holdoutAccuracy: round(model.holdoutAccuracy),
  });

  // ------------------------------------------------------------- inference

  /** Runs one inference request through parse → queue → predict → respond, recording metrics. */
  async function infer<P extends { rows: number[][] }>(
    req: IncomingMessage,
    res: ServerResponse,
    parse: (body: unknown) => P,
    respond: (parsed: P, predictions: Prediction[]) => unknown,
  ): Promise<void> {
    const start = performance.now();
    const elapsed = (from: number): number => (performance.now() - from) / 1000;
    let batchSize = 0;
    let preprocessSeconds: number | undefined;
    let queueSeconds: number | undefined;
    let predictSeconds: number | undefined;
    let postprocessSeconds: number | undefined;
    let statusCode = 200;
    let failure: FailureKind | undefined;
    try {
      const parsed = parse(await readJson(req));
      batchSize = parsed.rows.length;
      for (const row of parsed.rows) drift.recordInput(row);
      preprocessSeconds = elapsed(start);

      let predictStart = 0;
      const run = await limiter.run(async () => {
        predictStart = performance.now();
        try {
          const { latencyMs } = faults.config;
          if (latencyMs > 0) await sleep(latencyMs);
          if (faults.shouldFail()) throw new InjectedFault();
          return parsed.rows.map(row => predictRow(model, row));
        } finally {
          predictSeconds = elapsed(predictStart);
        }
      });
      queueSeconds = run.queueSeconds;

      const postStart = performance.now();
      for (const p of run.value) drift.recordPrediction(p.classIndex);
      metrics.countPredictions(run.value.map(p => p.classIndex));
      const body = respond(parsed, run.value);
      postprocessSeconds = elapsed(postStart);
      sendJson(res, 200, body);
    } catch (err) {
      if (err instanceof InjectedFault) {
        failure = 'injected_fault';
        statusCode = sendError(res, new HttpError(500, err.message));
      } else if (err instanceof QueueFullError) {
        failure = 'rejected';
        statusCode = sendError(
          res,
          new HttpError(503, err.message, { 'retry-after': '1' }),
        );
      } else {
        failure =
          err instanceof HttpError && err.status < 500
            ? 'invalid_request'
            : 'internal';
        if (!(err instanceof HttpError))
          log('inference_error', { error: String(err) });
        statusCode = sendError(res, err);
      }
    }
    metrics.observeInference({
      method: req.method ?? 'POST',
      statusCode,
      batchSize,
      ...(preprocessSeconds === undefined ? {} : { preprocessSeconds }),
      ...(queueSeconds === undefined ? {} : { queueSeconds }),
      ...(predictSeconds === undefined ? {} : { predictSeconds }),
      ...(postprocessSeconds === undefined ? {} : { postprocessSeconds }),
      totalSeconds: elapsed(start),
      ...(failure === undefined ? {} : { failure }),
    });
  }

  // ---------------------------------------------------------------- routes

  const ready = (): boolean => !shuttingDown;

  /** Resolves the model named in the URL, or fails with 404 like KServe/Triton. */
  const checkModel = (params: Record<string, string>): void => {
    if (params['name'] !== config.modelName) {
      throw new HttpError(
        404,
        `Model with name ${params['name'] ?? ''} does not exist.`,
      );
    }
    if (
      params['version'] !== undefined &&
      params['version'] !== config.modelVersion
    ) {
      throw new HttpError(
        404,
        `Model ${config.modelName} has no version ${params['version']}.`,
      );
    }
  };

  const v2Metadata = () => ({
    name: config.modelName,
    versions: [config.modelVersion],
    platform: `modelops-${config.runtime}`,
    inputs: [
      {
        name: V2_INPUT_NAME,
        datatype: 'FP32',
        shape: [-1, model.featureNames.length],
      },
    ],
    outputs: [
      { name: V2_OUTPUTS[0], datatype: 'INT64', shape: [-1] },
      {
        name: V2_OUTPUTS[1],
        datatype: 'FP32',
        shape: [-1, model.classNames.length],
      },
    ],
    parameters: {
      feature_names: model.featureNames.join(','),
      class_names: model.classNames.join(','),
    },
  });

  const v2Infer: Handler = async (req, res, params) => {
    checkModel(params);
    await infer(
      req,
      res,
      body => parseV2Request(body, model.featureNames.length),
      (parsed, predictions) =>
        buildV2Response(
          parsed,
          predictions,
          config.modelName,
          config.modelVersion,
          model.classNames.length,
        ),
    );
  };
  const v2ModelReady: Handler = (_req, res, params) => {
    checkModel(params);
    sendJson(res, ready() ? 200 : 503, {
      name: config.modelName,
      ready: ready(),
    });
  };
  const v2ModelMetadata: Handler = (_req, res, params) => {
    checkModel(params);
    sendJson(res, 200, v2Metadata());
  };

  const routes: Route[] = [
    {
      pattern: /^\/healthz$/,
      methods: {
        GET: (_req, res) =>
          sendJson(res, ready() ? 200 : 503, {
            status: ready() ? 'ok' : 'shutting_down',
            model: config.modelName,
            version: config.modelVersion,
            runtime: config.runtime,
          }),
      },
    },
    {
      pattern: /^\/metrics$/,
      methods: {
        GET: (_req, res) => {
          const text = metrics.registry.render();
          res.writeHead(200, {
            'content-type': CONTENT_TYPE,
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        },
      },
    },
    // KServe v1 protocol
    {
      pattern: /^\/v1\/models$/,
      methods: {
        GET: (_req, res) => sendJson(res, 200, { models: [config.modelName] }),
      },
    },
    {
      pattern: /^\/v1\/models\/(?<name>[^/:]+)$/,
      methods: {
        GET: (_req, res, params) => {
          checkModel(params);
          sendJson(res, 200, { name: config.modelName, ready: ready() });
        },
      },
    },
    {
      pattern: /^\/v1\/models\/(?<name>[^/:]+):predict$/,
      methods: {
        POST: async (req, res, params) => {
          checkModel(params);
          await infer(
            req,
            res,
            body => ({ rows: parseV1Request(body, model.featureNames) }),
            (_parsed, predictions) =>
              buildV1Response(predictions, model.classNames),
          );
        },
      },
    },
    // Open Inference Protocol v2
    {
      pattern: /^\/v2$/,
      methods: {
        GET: (_req, res) =>
          sendJson(res, 200, {
            name: 'modelops-model-server',
            version: '1.0.0',
            extensions: [],
          }),
      },
    },
    {
      pattern: /^\/v2\/health\/live$/,
      methods: { GET: (_req, res) => sendJson(res, 200, { live: true }) },
    },
    {
      pattern: /^\/v2\/health\/ready$/,
      methods: {
        GET: (_req, res) =>
          sendJson(res, ready() ? 200 : 503, { ready: ready() }),
      },
    },
    {
      pattern:
        /^\/v2\/models\/(?<name>[^/]+)(?:\/versions\/(?<version>[^/]+))?$/,
      methods: { GET: v2ModelMetadata },
    },
    {
      pattern:
        /^\/v2\/models\/(?<name>[^/]+)(?:\/versions\/(?<version>[^/]+))?\/ready$/,
      methods: { GET: v2ModelReady },
    },
    {
      pattern:
        /^\/v2\/models\/(?<name>[^/]+)(?:\/versions\/(?<version>[^/]+))?\/infer$/,
      methods: { POST: v2Infer },
    },
    // Administration: fault injection and drift window
    {
      pattern: /^\/admin\/faults$/,
      methods: {
        GET: (_req, res) => sendJson(res, 200, faults.config),
        POST: async (req, res) => {
          const updated = faults.update(parseFaultPatch(await readJson(req)));
          log('faults_updated', { ...updated });
          sendJson(res, 200, updated);
        },
        DELETE: (_req, res) => {
          const cleared = faults.clear();
          log('faults_cleared');
          sendJson(res, 200, cleared);
        },
      },
    },
    {
      pattern: /^\/admin\/drift$/,
      methods: {
        GET: (_req, res) => sendJson(res, 200, driftReport()),
        DELETE: (_req, res) => {
          drift.reset();
          sendJson(res, 200, driftReport());
        },
      },
    },
  ];

  const driftReport = () => {
    const snapshot = drift.snapshot();
    const featurePsi = snapshot.featurePsi;
    return {
      windowSize: snapshot.windowSize,
      windowCapacity: drift.capacity,
      minSamples: drift.minSamples,
      featurePsi: featurePsi
        ? Object.fromEntries(
            model.featureNames.map((f, i) => [f, featurePsi[i]]),
          )
        : null,
      predictionPsi: snapshot.predictionPsi ?? null,
    };
  };

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (shuttingDown) res.setHeader('connection', 'close');
    try {
      const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
      for (const route of routes) {
        const match = route.pattern.exec(path);
        if (!match) continue;
        const handler = route.methods[req.method ?? 'GET'];
        if (!handler) {
          req.resume();
          throw new HttpError(405, `Method ${req.method ?? ''} not allowed`, {
            allow: Object.keys(route.methods).join(', '),
          });
        }
        await handler(req, res, decodeParams(match.groups));
        return;
      }
      req.resume();
      throw new HttpError(404, `No route for ${req.method ?? ''} ${path}`);
    } catch (err) {
      if (!(err instanceof HttpError))
        log('request_error', { error: String(err) });
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    }
  }

  // ------------------------------------------------------------- lifecycle

  const server: Server = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000 },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  let closing: Promise<void> | undefined;

  return {
    config,
    model,
    faults,
    drift,
    metrics,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':')
            ? `[${config.host}]`
            : config.host;
          const url = `http://${host}:${port}`;
          log('listening', {
            url,
            model: config.modelName,
            runtime: config.runtime,
          });
          resolve(url);
        });
      });
    },
    close() {
      closing ??= new Promise<void>(resolve => {
        shuttingDown = true;
        if (!server.listening) {
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          log('shutdown_timeout', { timeoutMs: config.shutdownTimeoutMs });
          server.closeAllConnections();
        }, config.shutdownTimeoutMs);
        server.close(() => {
          clearTimeout(timer);
          log('stopped');
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

class InjectedFault extends Error {
  constructor() {
    super('Injected fault: the model failed to produce a prediction');
    this.name = 'InjectedFault';
  }
}

function decodeParams(
  groups: Record<string, string | undefined> | undefined,
): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(groups ?? {})) {
    if (value === undefined) continue;
    try {
      params[key] = decodeURIComponent(value);
    } catch {
      throw new HttpError(400, 'Malformed percent-encoding in URL');
    }
  }
  return params;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
