/** Small helpers for JSON over node:http. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Once a body is known to be too large, at most this much more is drained before the socket is dropped. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

/** An error that maps to an HTTP status code and a JSON `{"error": message}` body. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    message: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

/**
 * Reads a request body of at most `limit` bytes. An oversized body is drained
 * (so the client can read the response) and rejected with 413.
 */
export function readBody(
  req: IncomingMessage,
  limit = MAX_BODY_BYTES,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = false;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) tooLarge = true;

    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (received > limit + MAX_DRAIN_BYTES) {
          req.destroy();
          reject(new HttpError(413, `Request body exceeds ${limit} bytes`));
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge)
        reject(new HttpError(413, `Request body exceeds ${limit} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', err =>
      reject(new HttpError(400, `Could not read request body: ${err.message}`)),
    );
    // A client that disconnects mid-body emits neither 'end' nor always 'error'.
    req.on('close', () => {
      if (!req.complete)
        reject(
          new HttpError(
            400,
            'Client closed the connection before sending the whole body',
          ),
        );
    });
  });
}

export async function readJson(
  req: IncomingMessage,
  limit = MAX_BODY_BYTES,
): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0)
    throw new HttpError(400, 'Request body is empty; expected JSON');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(400, `Malformed JSON: ${(err as Error).message}`);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, err: unknown): number {
  const status = err instanceof HttpError ? err.status : 500;
  const message =
    err instanceof HttpError ? err.message : 'Internal server error';
  sendJson(
    res,
    status,
    { error: message },
    err instanceof HttpError ? err.headers : {},
  );
  return status;
}

export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
