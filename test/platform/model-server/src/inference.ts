/**
 * One inference request through parse → queue → predict → respond, with the
 * injected faults, the drift window and the serving metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DriftMonitor } from './drift.ts';
import type { FaultInjector } from './faults.ts';
import {
  HttpError,
  readJson,
  sendError,
  sendJson,
  sleep,
} from './http-util.ts';
import { QueueFullError, type ConcurrencyLimiter } from './limiter.ts';
import { predictRow, type Prediction, type TrainedModel } from './model.ts';
import type { FailureKind, ServingMetrics } from './runtime-metrics.ts';

export type LogFn = (event: string, fields?: Record<string, unknown>) => void;

/** What a request handler works with: the model and everything around it. */
export interface ServingContext {
  readonly model: TrainedModel;
  readonly drift: DriftMonitor;
  readonly faults: FaultInjector;
  readonly limiter: ConcurrencyLimiter;
  readonly metrics: ServingMetrics;
  readonly log: LogFn;
}

/** The failure an injected error rate produces (HTTP 500). */
class InjectedFault extends Error {
  constructor() {
    super('Injected fault: the model failed to produce a prediction');
    this.name = 'InjectedFault';
  }
}

/** Runs one inference request through parse → queue → predict → respond, recording metrics. */
export async function infer<P extends { rows: number[][] }>(
  ctx: ServingContext,
  req: IncomingMessage,
  res: ServerResponse,
  parse: (body: unknown) => P,
  respond: (parsed: P, predictions: Prediction[]) => unknown,
): Promise<void> {
  const { model, drift, faults, limiter, metrics, log } = ctx;
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
    for (const row of parsed.rows) {
      drift.recordInput(row);
      metrics.observeInputs(row);
    }
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
