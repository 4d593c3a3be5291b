import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ResponseError,
  ServiceUnavailableError,
  isError,
} from '@backstage/errors';
import type { TemplateActionOptions } from '@backstage/plugin-scaffolder-node';
import { JsonValue } from '@backstage/types';
import { ModelOpsService } from '@modelops/plugin-modelops-node';

/**
 * The zod instance Backstage hands to schema factories, for scaffolder
 * actions and the actions registry alike.
 */
export type Zod = Parameters<
  NonNullable<NonNullable<TemplateActionOptions['schema']>['input']>[string]
>[0];

/** Default time between two reads of a build or rollout status. */
export const DEFAULT_POLL_INTERVAL_MS = 5000;

/**
 * What the ModelOps actions call: the ModelOps service, and how often they
 * read a build's or a rollout's status while they wait for it.
 * @public
 */
export interface ModelOpsActionsOptions {
  /** ModelOps, called with the credentials of whoever runs the action. */
  modelOps: ModelOpsService;
  /** Time between two status reads while waiting, in milliseconds; default 5000. */
  pollIntervalMs?: number;
  /**
   * How long a build trigger waits for an entity the catalog does not have
   * yet (registered by an earlier step), in milliseconds; default 120000.
   */
  entityWaitMs?: number;
}

/**
 * One run of an operation: whose credentials it calls ModelOps with, where it
 * logs, and (from the scaffolder) how it remembers what it already did in
 * this task and when the task was cancelled.
 */
export interface OperationContext {
  credentials: BackstageCredentials;
  logger: LoggerService;
  /**
   * Runs `fn` once per task step: a retried step gets the value the first
   * run stored. Absent outside the scaffolder, where `fn` simply runs.
   */
  checkpoint?: <T extends JsonValue>(
    key: string,
    fn: () => Promise<T>,
  ) => Promise<T>;
  signal?: AbortSignal;
}

export function once<T extends JsonValue>(
  context: OperationContext,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  return context.checkpoint ? context.checkpoint(key, fn) : fn();
}

function backendMessage(error: ResponseError): string {
  const body = error.body as { error?: { message?: unknown } } | undefined;
  if (typeof body?.error?.message === 'string' && body.error.message) {
    return body.error.message;
  }
  if (error.cause?.message) return error.cause.message;
  return error.message;
}

/**
 * Calls ModelOps; an error answer becomes an error whose message says what
 * was attempted and carries the backend's own message (for a 403, which
 * permission is missing on which entity), typed by its status so that the
 * actions registry answers with the same status.
 */
export async function callModelOps<T>(
  attempt: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    // By name: a ResponseError of any copy of @backstage/errors.
    if (isError(error) && error.name === 'ResponseError') {
      throw toTypedError(attempt, error as unknown as ResponseError);
    }
    throw error;
  }
}

function toTypedError(attempt: string, error: ResponseError): Error {
  const status = error.statusCode;
  const message = `${attempt} failed with ${status}: ${backendMessage(error)}`;
  switch (status) {
    case 400:
      return new InputError(message);
    case 403:
      return new NotAllowedError(message);
    case 404:
      return new NotFoundError(message);
    case 409:
      return new ConflictError(message);
    case 503:
      return new ServiceUnavailableError(message);
    default:
      return new Error(message);
  }
}

/** Waits `ms`, or rejects as soon as the task is cancelled. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('Cancelled while waiting'));
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('Cancelled while waiting'));
    };
    timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `read` until `done` says the result is final, or the time is up,
 * starting from `initial` when the caller already has a fresh value. `done`
 * may throw to end the wait with an error; `onTimeout` gives the error for a
 * wait that ran out, from the last value read.
 */
export async function pollUntil<T>(options: {
  initial?: T;
  read: () => Promise<T>;
  done: (value: T) => boolean;
  timeoutMinutes: number;
  pollIntervalMs: number;
  signal?: AbortSignal;
  onTimeout: (last: T) => Error;
}): Promise<T> {
  const deadline = Date.now() + options.timeoutMinutes * 60_000;
  let value = options.initial ?? (await options.read());
  for (;;) {
    if (options.done(value)) return value;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw options.onTimeout(value);
    await sleep(Math.min(options.pollIntervalMs, remaining), options.signal);
    value = await options.read();
  }
}
