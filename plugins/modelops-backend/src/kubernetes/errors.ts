import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';

/** A Kubernetes `Status` object, as returned with API errors. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: Array<{ reason?: string; message?: string; field?: string }>;
  };
}

/** What the API server answered, attached to the errors built from it. */
export interface KubernetesApiFailure {
  httpStatus: number;
  status?: KubeStatus;
}

const FAILURE = Symbol.for('modelops.kubernetesApiFailure');

/**
 * The API server answer behind an error from `errorFromResponse` (e.g. the
 * field manager conflicts of a 409), if any. Kept off the message and off
 * `cause` so the user-facing message is not repeated.
 */
export function kubernetesFailureOf(
  error: unknown,
): KubernetesApiFailure | undefined {
  return error && typeof error === 'object'
    ? ((error as Record<symbol, unknown>)[FAILURE] as
        | KubernetesApiFailure
        | undefined)
    : undefined;
}

function attach<E extends Error>(error: E, failure: KubernetesApiFailure): E {
  Object.defineProperty(error, FAILURE, { value: failure, enumerable: false });
  return error;
}

// Server-side apply answers 500 for some invalid objects (unknown fields of
// built-in types); they are the user's to fix, not a server outage.
const INVALID_OBJECT_500 =
  /failed to create typed patch object|field not declared in schema|strict decoding error|unknown field/i;

function asStatus(body: unknown): KubeStatus | undefined {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as KubeStatus;
    if (b.kind === 'Status' || typeof b.message === 'string') return b;
  }
  return undefined;
}

/**
 * The namespace named by a 404 Status whose missing object is the namespace
 * itself (a write into a namespace that does not exist), or undefined.
 */
function namespaceNotFound(status: KubeStatus | undefined): string | undefined {
  if (!status || status.reason !== 'NotFound') return undefined;
  const kind = status.details?.kind;
  if (kind !== 'namespaces' && kind !== 'Namespace') return undefined;
  if (status.details?.group) return undefined;
  const name =
    status.details?.name ??
    /namespaces? "([^"]+)" not found/.exec(status.message ?? '')?.[1];
  return name || undefined;
}

/** Shortens a server message that may be very long (e.g. an HTML page). */
function clip(text: string, max = 1000): string {
  const t = text.trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * Maps an error answer of the API server to an `@backstage/errors` error
 * whose message names the cluster and what was attempted.
 */
export function errorFromResponse(options: {
  cluster: string;
  action: string;
  httpStatus: number;
  body: unknown;
}): Error {
  const status = asStatus(options.body);
  return attach(buildError(options, status), {
    httpStatus: options.httpStatus,
    status,
  });
}

function buildError(
  options: {
    cluster: string;
    action: string;
    httpStatus: number;
    body: unknown;
  },
  status: KubeStatus | undefined,
): Error {
  const { cluster, action, httpStatus, body } = options;
  const serverMessage = clip(
    status?.message ??
      (typeof body === 'string' && body ? body : `HTTP ${httpStatus}`),
  );
  const prefix = `Cluster ${cluster} refused to ${action}`;
  switch (httpStatus) {
    case 400:
    case 422:
      return new InputError(`${prefix}: ${serverMessage}`);
    case 401:
      return new ServiceUnavailableError(
        `Cluster ${cluster} did not accept ModelOps's credentials while trying to ${action} (HTTP 401); a platform engineer should check the service account token configured for cluster ${cluster} in kubernetes.clusterLocatorMethods`,
      );
    case 403:
      return new NotAllowedError(
        `${prefix}: the ModelOps service account is not allowed to do this (${serverMessage}); a platform engineer must grant it in the cluster's RBAC, or deploy to a namespace where it is granted`,
      );
    case 404: {
      const missingNamespace = namespaceNotFound(status);
      if (missingNamespace !== undefined) {
        return new InputError(
          `${prefix}: namespace "${missingNamespace}" does not exist on cluster ${cluster}; create it there first (a platform engineer can, with the ModelOps RBAC bound in it) or deploy to an environment whose namespace exists`,
        );
      }
      return new NotFoundError(`${prefix}: ${serverMessage}`);
    }
    case 409:
      return new ConflictError(`${prefix}: ${serverMessage}`);
    case 500:
      if (INVALID_OBJECT_500.test(serverMessage)) {
        return new InputError(`${prefix}: ${serverMessage}`);
      }
      return new ServiceUnavailableError(
        `Cluster ${cluster} could not ${action} right now (HTTP 500: ${serverMessage}); try again later`,
      );
    case 429:
    case 502:
    case 503:
    case 504:
      return new ServiceUnavailableError(
        `Cluster ${cluster} could not ${action} right now (HTTP ${httpStatus}: ${serverMessage}); try again later`,
      );
    default:
      return new ServiceUnavailableError(
        `Cluster ${cluster} answered HTTP ${httpStatus} when asked to ${action}, which ModelOps does not know how to handle (${serverMessage}); check that the cluster url in kubernetes.clusterLocatorMethods points at the Kubernetes API server (not a proxy or load balancer page), then try again`,
      );
  }
}

/**
 * A cluster that did not answer: refused or dropped the connection, failed
 * the TLS handshake, or sent nothing within the request timeout. A 503
 * (`name` stays `ServiceUnavailableError`, which callers report as the
 * reason) that says when the cluster last answered, if it has since the
 * backend started. The message names the cluster and its URL, never a token.
 */
export class ClusterUnreachableError extends ServiceUnavailableError {
  /** When the cluster last answered (ISO 8601); absent if never since start. */
  readonly lastReachableAt?: string;
  readonly cluster: string;

  constructor(options: {
    cluster: string;
    url: string;
    reason: string;
    lastReachableAt?: string;
  }) {
    super(
      `Cluster ${options.cluster} at ${options.url} is unreachable: ${
        options.reason
      }; ${
        options.lastReachableAt
          ? `it last answered at ${options.lastReachableAt}`
          : 'it has not answered since the backend started'
      }`,
    );
    this.cluster = options.cluster;
    if (options.lastReachableAt) this.lastReachableAt = options.lastReachableAt;
  }
}

/** Why a request got no answer, for a message an operator can act on. */
export function describeNetworkError(error: {
  code?: string;
  message?: string;
}): string {
  const code = error.code ?? '';
  // node-fetch says "request to <url> failed, reason: <why>".
  const message = String(error.message ?? '').replace(/^.*reason: /, '');
  if (
    code.startsWith('ERR_TLS') ||
    code.startsWith('UNABLE_TO_') ||
    code.includes('CERT')
  ) {
    return `its TLS certificate is not trusted (${code}); check caData/caFile of the cluster in kubernetes.clusterLocatorMethods`;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO') {
    return `the TLS handshake failed (${code}); check that the cluster url uses the right scheme and port`;
  }
  return code ? `${code}: ${message}` : message;
}
