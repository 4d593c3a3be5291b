/**
 * The model server's HTTP routes: health, metrics, KServe v1, Open Inference
 * Protocol v2 and the administration endpoints (faults, drift window).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseFaultPatch } from './faults.ts';
import { HttpError, readJson, sendError, sendJson } from './http-util.ts';
import { infer, type ServingContext } from './inference.ts';
import { CONTENT_TYPE } from './prometheus.ts';
import {
  buildV1Response,
  buildV2Response,
  parseV1Request,
  parseV2Request,
  V2_INPUT_NAME,
  V2_OUTPUTS,
} from './protocol.ts';
import type { Runtime } from './runtime-metrics.ts';

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
) => Promise<void> | void;

interface Route {
  readonly pattern: RegExp;
  readonly methods: Partial<Record<string, Handler>>;
}

export interface RouterContext extends ServingContext {
  readonly config: {
    readonly modelName: string;
    readonly modelVersion: string;
    readonly runtime: Runtime;
  };
  /** False once shutdown has begun: health and readiness answer 503. */
  readonly ready: () => boolean;
}

/** A request handler that dispatches to the routes; errors become JSON error answers. */
export function createRouter(
  ctx: RouterContext,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { config, model, drift, faults, metrics, log, ready } = ctx;
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
      ctx,
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
            ctx,
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

  return async function handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (!ready()) res.setHeader('connection', 'close');
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
  };
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
