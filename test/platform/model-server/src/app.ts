/**
 * The model server: configuration, the model and its monitors, listening and
 * graceful shutdown. The routes are in `routes.ts`, the inference pipeline in
 * `inference.ts`; `src/server.ts` is the command-line entry point.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DriftMonitor } from './drift.ts';
import { FaultInjector } from './faults.ts';
import type { LogFn } from './inference.ts';
import { ConcurrencyLimiter } from './limiter.ts';
import { trainModel, type TrainedModel } from './model.ts';
import { createRng } from './rng.ts';
import { createRouter } from './routes.ts';
import {
  createServingMetrics,
  type Runtime,
  type ServingMetrics,
} from './runtime-metrics.ts';

export type { LogFn } from './inference.ts';

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
    featureReference: model.featureReference,
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

  const ctx = {
    config,
    model,
    drift,
    faults,
    limiter,
    metrics,
    log,
    ready: (): boolean => !shuttingDown,
  };
  const handle = createRouter(ctx);

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

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
