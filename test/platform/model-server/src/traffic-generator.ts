/**
 * Generates inference traffic against one model server at a steady rate,
 * sampling inputs from the training distribution (optionally shifted to
 * provoke drift). A small control HTTP server changes the shift at run time.
 *
 * Safety bounds: the target must be a loopback http URL, requests in flight
 * are capped, every request has a timeout, and runs can be limited by
 * duration and request count.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { FEATURES, marginalStats, sampleClass, sampleRow } from './dataset.ts';
import {
  HttpError,
  isPlainObject,
  readJson,
  sendError,
  sendJson,
} from './http-util.ts';
import { createRng, type Rng } from './rng.ts';
import type { Runtime } from './runtime-metrics.ts';

export const MAX_RPS = 500;
export const MAX_SHIFT = 10;

export interface TrafficOptions {
  /** Base URL of the model server, e.g. http://127.0.0.1:8080 (loopback only). */
  readonly target: string;
  readonly modelName: string;
  /** kserve and generic use the v1 protocol, triton uses v2. */
  readonly runtime: Runtime;
  readonly rps: number;
  /** Instances per request. */
  readonly batchSize: number;
  readonly seed: number;
  /** Stop after this many seconds; 0 runs until stop() is called. */
  readonly durationSeconds: number;
  /** Stop after this many requests; 0 means no limit. */
  readonly maxRequests: number;
  readonly maxInFlight: number;
  readonly requestTimeoutMs: number;
  readonly controlHost: string;
  /** Port of the control server; 0 picks a free one. */
  readonly controlPort: number;
  /**
   * When set, each request goes to the `ip:port` this returns (a Service's
   * ready endpoints, see endpoints.ts) instead of `target`; undefined means
   * no endpoint is ready and the tick is counted as dropped.
   */
  readonly nextEndpoint?: () => string | undefined;
}

export const DEFAULT_TRAFFIC: Omit<TrafficOptions, 'target' | 'controlPort'> = {
  modelName: 'churn-classifier',
  runtime: 'kserve',
  rps: 5,
  batchSize: 1,
  seed: 7,
  durationSeconds: 0,
  maxRequests: 0,
  maxInFlight: 32,
  requestTimeoutMs: 10_000,
  controlHost: '127.0.0.1',
};

export interface TrafficState {
  readonly target: string;
  readonly model: string;
  readonly runtime: Runtime;
  readonly protocol: 'v1' | 'v2';
  readonly rps: number;
  readonly batchSize: number;
  readonly running: boolean;
  /** Shift of every feature's mean, in units of that feature's standard deviation. */
  readonly shift: { readonly magnitude: number };
  readonly sent: number;
  readonly succeeded: number;
  /** Requests answered with a non-2xx status. */
  readonly failed: number;
  /** Requests that got no HTTP answer (connection error or timeout). */
  readonly errors: number;
  /** Ticks skipped because maxInFlight requests were already pending. */
  readonly dropped: number;
  readonly inFlight: number;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly lastError: string | null;
}

export interface TrafficGenerator {
  /** Starts the control server and the request loop; resolves with the control URL. */
  start(): Promise<string>;
  /** Stops sending, waits for requests in flight and closes the control server. */
  stop(): Promise<void>;
  /** Resolves once the generator has stopped (by duration, request count or stop()). */
  readonly finished: Promise<void>;
  setShift(magnitude: number): void;
  state(): TrafficState;
}

/** Accepts only http URLs on the loopback interface, without path, query or credentials. */
export function parseLoopbackTarget(target: string): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new Error(`target is not a valid URL: ${target}`);
  }
  const loopback =
    url.hostname === 'localhost' ||
    url.hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);
  if (url.protocol !== 'http:' || !loopback)
    throw new Error(
      `target must be an http URL on the loopback interface, got ${target}`,
    );
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw new Error(
      `target must be a bare base URL like http://127.0.0.1:8080, got ${target}`,
    );
  }
  return url;
}

export function createTrafficGenerator(
  options: Partial<TrafficOptions> & Pick<TrafficOptions, 'target'>,
): TrafficGenerator {
  const config: TrafficOptions = {
    ...DEFAULT_TRAFFIC,
    controlPort: 0,
    ...options,
  };
  const base = config.nextEndpoint
    ? new URL('http://endpointslices.invalid')
    : parseLoopbackTarget(config.target);
  if (!(config.rps > 0 && config.rps <= MAX_RPS))
    throw new Error(`rps must be in (0, ${MAX_RPS}]`);
  if (
    !Number.isInteger(config.batchSize) ||
    config.batchSize < 1 ||
    config.batchSize > 1000
  ) {
    throw new Error('batchSize must be an integer between 1 and 1000');
  }
  const protocol = config.runtime === 'triton' ? 'v2' : 'v1';
  const model = encodeURIComponent(config.modelName);
  const endpoint = new URL(
    protocol === 'v2'
      ? `/v2/models/${model}/infer`
      : `/v1/models/${model}:predict`,
    base,
  );
  const rng: Rng = createRng(config.seed);
  const stds = marginalStats().map(m => m.std);

  let magnitude = 0;
  let running = false;
  let sent = 0;
  let succeeded = 0;
  let failed = 0;
  let errors = 0;
  let dropped = 0;
  let lastError: string | null = null;
  const statusCounts: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  let ticker: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>(resolve => (resolveFinished = resolve));

  const sampleBatch = (): number[][] =>
    Array.from({ length: config.batchSize }, () =>
      sampleRow(rng, sampleClass(rng)).map(
        (v, f) => v + magnitude * (stds[f] ?? 0),
      ),
    );

  const requestBody = (rows: number[][]): unknown =>
    protocol === 'v2'
      ? {
          inputs: [
            {
              name: 'input-0',
              shape: [rows.length, FEATURES.length],
              datatype: 'FP32',
              data: rows.flat(),
            },
          ],
        }
      : { instances: rows };

  async function send(to: URL): Promise<void> {
    sent += 1;
    try {
      const res = await fetch(to, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(requestBody(sampleBatch())),
        signal: AbortSignal.timeout(config.requestTimeoutMs),
      });
      await res.arrayBuffer();
      statusCounts[res.status] = (statusCounts[res.status] ?? 0) + 1;
      if (res.ok) succeeded += 1;
      else failed += 1;
    } catch (err) {
      errors += 1;
      lastError = err instanceof Error ? err.message : String(err);
    }
  }

  const tick = (): void => {
    if (!running) return;
    if (config.maxRequests > 0 && sent >= config.maxRequests) {
      void stop();
      return;
    }
    if (pending.size >= config.maxInFlight) {
      dropped += 1;
      return;
    }
    let to = endpoint;
    if (config.nextEndpoint) {
      const ep = config.nextEndpoint();
      if (ep === undefined) {
        dropped += 1;
        return;
      }
      to = new URL(endpoint.pathname, `http://${ep}`);
    }
    const request = send(to).finally(() => pending.delete(request));
    pending.add(request);
  };

  // ----------------------------------------------------------- control API

  const control: Server = createServer((req, res) => {
    void handleControl(req, res);
  });

  async function handleControl(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    try {
      const path = (req.url ?? '/').split('?', 1)[0];
      const route = `${req.method ?? ''} ${path ?? ''}`;
      if (route === 'GET /state' || route === 'GET /healthz') {
        sendJson(res, 200, state());
      } else if (route === 'POST /shift') {
        const body = await readJson(req, 64 * 1024);
        const value = isPlainObject(body) ? body['magnitude'] : undefined;
        if (
          typeof value !== 'number' ||
          !Number.isFinite(value) ||
          Math.abs(value) > MAX_SHIFT
        ) {
          throw new HttpError(
            400,
            `Expected {"magnitude": n} with -${MAX_SHIFT} <= n <= ${MAX_SHIFT}`,
          );
        }
        setShift(value);
        sendJson(res, 200, state());
      } else if (route === 'POST /clear') {
        req.resume();
        setShift(0);
        sendJson(res, 200, state());
      } else {
        req.resume();
        throw new HttpError(
          404,
          `No route for ${route}; use GET /state, POST /shift or POST /clear`,
        );
      }
    } catch (err) {
      if (!res.headersSent) sendError(res, err);
    }
  }

  function setShift(value: number): void {
    if (!Number.isFinite(value) || Math.abs(value) > MAX_SHIFT)
      throw new Error(`shift magnitude must be within ±${MAX_SHIFT}`);
    magnitude = value;
  }

  function state(): TrafficState {
    return {
      target: config.nextEndpoint ? config.target : base.origin,
      model: config.modelName,
      runtime: config.runtime,
      protocol,
      rps: config.rps,
      batchSize: config.batchSize,
      running,
      shift: { magnitude },
      sent,
      succeeded,
      failed,
      errors,
      dropped,
      inFlight: pending.size,
      statusCounts: { ...statusCounts },
      lastError,
    };
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      running = false;
      clearInterval(ticker);
      clearTimeout(deadline);
      await Promise.allSettled([...pending]);
      if (control.listening)
        await new Promise<void>(resolve => control.close(() => resolve()));
      resolveFinished();
    })();
    return stopping;
  }

  return {
    finished,
    setShift,
    state,
    stop,
    async start() {
      if (running || stopping)
        throw new Error('traffic generator can only be started once');
      await new Promise<void>((resolve, reject) => {
        control.once('error', reject);
        control.listen(config.controlPort, config.controlHost, () => {
          control.off('error', reject);
          resolve();
        });
      });
      running = true;
      ticker = setInterval(tick, 1000 / config.rps);
      if (config.durationSeconds > 0)
        deadline = setTimeout(() => void stop(), config.durationSeconds * 1000);
      const { port } = control.address() as AddressInfo;
      const host = config.controlHost.includes(':')
        ? `[${config.controlHost}]`
        : config.controlHost;
      return `http://${host}:${port}`;
    },
  };
}
