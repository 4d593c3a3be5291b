import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import https from 'node:https';
import http from 'node:http';
import { errorFromResponse } from './errors';
import { ResourceIndex, splitApiVersion } from './ResourceIndex';
import { KubeObject, ResourceInfo } from './types';

/** How a cluster client reaches and authenticates to one API server. */
export interface ClusterConnection {
  name: string;
  url: string;
  /** Returns the bearer token; called per request so file tokens can rotate. */
  token: () => string | undefined;
  /** PEM CA bundle(s) to trust; the system roots when absent. */
  ca?: Buffer;
  skipTLSVerify?: boolean;
}

/** Options of one raw API request. */
export interface KubeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
}

/** A raw API answer. */
export interface KubeResponse {
  status: number;
  contentType: string;
  body: unknown;
}

/** Options of `ClusterClient.apply`. */
export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  dryRun: boolean;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DISCOVERY_TTL_MS = 60_000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const AGGREGATED_DISCOVERY_ACCEPT = [
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  'application/json',
].join(',');

function describeNetworkError(error: NodeJS.ErrnoException): string {
  const code = error.code ?? '';
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
  return code ? `${code}: ${error.message}` : error.message;
}

interface AggregatedResource {
  resource?: string;
  responseKind?: { group?: string; version?: string; kind?: string };
  scope?: string;
  verbs?: string[];
}

interface AggregatedGroup {
  metadata?: { name?: string };
  versions?: Array<{ version?: string; resources?: AggregatedResource[] }>;
}

/**
 * A client for one cluster: raw HTTPS with a keep-alive agent and the
 * cluster's CA, cached API discovery, and typed helpers for namespaced
 * objects. Errors are `@backstage/errors` errors naming the cluster; the
 * token never appears in a message or log.
 */
export class ClusterClient {
  readonly name: string;
  readonly url: string;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private discovery?: { index: ResourceIndex; expires: number };
  private discoveryInFlight?: Promise<ResourceIndex>;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly options: { discoveryTtlMs?: number } = {},
  ) {
    this.name = connection.name;
    this.url = connection.url;
    this.base = new URL(connection.url);
    this.agent =
      this.base.protocol === 'http:'
        ? new http.Agent({ keepAlive: true, maxSockets: 16 })
        : new https.Agent({
            keepAlive: true,
            maxSockets: 16,
            ca: connection.ca,
            rejectUnauthorized: !connection.skipTLSVerify,
          });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** One raw request. Resolves with any HTTP status; rejects only when unreachable. */
  request(req: KubeRequest): Promise<KubeResponse> {
    const url = new URL(this.base.href);
    url.pathname = `${this.base.pathname.replace(/\/+$/, '')}${req.path}`;
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const payload =
      req.body === undefined
        ? undefined
        : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = {
      Accept: req.accept ?? 'application/json',
      'User-Agent': 'backstage-modelops',
    };
    const token = this.connection.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (payload) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const transport = url.protocol === 'http:' ? http : https;

    return new Promise<KubeResponse>((resolve, reject) => {
      const unreachable = (reason: string) =>
        new ServiceUnavailableError(
          `Cluster ${this.name} at ${this.url} is unreachable: ${reason}`,
        );
      const request = transport.request(
        url,
        { method: req.method, headers, agent: this.agent },
        response => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              request.destroy(new Error('response too large'));
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', e => reject(unreachable(e.message)));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const contentType = String(response.headers['content-type'] ?? '');
            let body: unknown = text;
            if (contentType.includes('json') && text) {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            }
            resolve({ status: response.statusCode ?? 0, contentType, body });
          });
        },
      );
      request.setTimeout(timeoutMs, () => {
        request.destroy(
          Object.assign(new Error(`no answer within ${timeoutMs} ms`), {
            code: 'ETIMEDOUT',
          }),
        );
      });
      request.on('error', (e: NodeJS.ErrnoException) =>
        reject(unreachable(describeNetworkError(e))),
      );
      request.end(payload);
    });
  }

  /** A request that must succeed (2xx); otherwise a mapped error. */
  async requestOk(req: KubeRequest, action: string): Promise<unknown> {
    const res = await this.request(req);
    if (res.status >= 200 && res.status < 300) return res.body;
    throw errorFromResponse({
      cluster: this.name,
      action,
      httpStatus: res.status,
      body: res.body,
    });
  }

  /**
   * The resource types this cluster serves. Cached for the TTL (60 s by
   * default); `refresh` forces a new discovery, e.g. after a CRD appears.
   */
  async discover(options: { refresh?: boolean } = {}): Promise<ResourceIndex> {
    const cached = this.discovery;
    if (!options.refresh && cached && cached.expires > Date.now()) {
      return cached.index;
    }
    if (!this.discoveryInFlight) {
      this.discoveryInFlight = this.runDiscovery()
        .then(index => {
          this.discovery = {
            index,
            expires:
              Date.now() + (this.options.discoveryTtlMs ?? DISCOVERY_TTL_MS),
          };
          return index;
        })
        .finally(() => {
          this.discoveryInFlight = undefined;
        });
    }
    return this.discoveryInFlight;
  }

  private async runDiscovery(): Promise<ResourceIndex> {
    const [core, groups] = await Promise.all([
      this.request({
        method: 'GET',
        path: '/api',
        accept: AGGREGATED_DISCOVERY_ACCEPT,
      }),
      this.request({
        method: 'GET',
        path: '/apis',
        accept: AGGREGATED_DISCOVERY_ACCEPT,
      }),
    ]);
    for (const res of [core, groups]) {
      if (res.status !== 200) {
        throw errorFromResponse({
          cluster: this.name,
          action: 'list its API resources (discovery)',
          httpStatus: res.status,
          body: res.body,
        });
      }
    }
    const aggregated = (res: KubeResponse) =>
      res.contentType.includes('g=apidiscovery.k8s.io') &&
      (res.body as { kind?: string })?.kind === 'APIGroupDiscoveryList';
    if (aggregated(core) && aggregated(groups)) {
      return new ResourceIndex([
        ...this.fromAggregated(core.body as { items?: AggregatedGroup[] }),
        ...this.fromAggregated(groups.body as { items?: AggregatedGroup[] }),
      ]);
    }
    return this.legacyDiscovery();
  }

  private fromAggregated(list: { items?: AggregatedGroup[] }): ResourceInfo[] {
    const out: ResourceInfo[] = [];
    for (const group of list.items ?? []) {
      const groupName = group.metadata?.name ?? '';
      (group.versions ?? []).forEach((v, i) => {
        const version = v.version ?? '';
        for (const r of v.resources ?? []) {
          if (!r.resource || !r.responseKind?.kind) continue;
          out.push({
            group: groupName,
            version,
            apiVersion: groupName ? `${groupName}/${version}` : version,
            kind: r.responseKind.kind,
            plural: r.resource,
            namespaced: r.scope === 'Namespaced',
            verbs: r.verbs ?? [],
            preferred: i === 0,
          });
        }
      });
    }
    return out;
  }

  /** Discovery for API servers without the aggregated endpoint (< 1.26). */
  private async legacyDiscovery(): Promise<ResourceIndex> {
    const action = 'list its API resources (discovery)';
    const groups = (await this.requestOk(
      { method: 'GET', path: '/apis' },
      action,
    )) as {
      groups?: Array<{
        name: string;
        versions?: Array<{ groupVersion: string; version: string }>;
        preferredVersion?: { groupVersion: string };
      }>;
    };
    const targets: Array<{
      group: string;
      version: string;
      apiVersion: string;
      preferred: boolean;
    }> = [{ group: '', version: 'v1', apiVersion: 'v1', preferred: true }];
    for (const g of groups.groups ?? []) {
      for (const v of g.versions ?? []) {
        targets.push({
          group: g.name,
          version: v.version,
          apiVersion: v.groupVersion,
          preferred: g.preferredVersion?.groupVersion === v.groupVersion,
        });
      }
    }
    const lists = await Promise.all(
      targets.map(async t => {
        const res = await this.request({
          method: 'GET',
          path: t.group ? `/apis/${t.apiVersion}` : '/api/v1',
        });
        // An unavailable aggregated API (e.g. metrics) must not hide the rest.
        if (res.status !== 200) return [];
        const body = res.body as {
          resources?: Array<{
            name: string;
            kind: string;
            namespaced: boolean;
            verbs?: string[];
          }>;
        };
        return (body.resources ?? [])
          .filter(r => !r.name.includes('/'))
          .map(
            (r): ResourceInfo => ({
              group: t.group,
              version: t.version,
              apiVersion: t.apiVersion,
              kind: r.kind,
              plural: r.name,
              namespaced: r.namespaced,
              verbs: r.verbs ?? [],
              preferred: t.preferred,
            }),
          );
      }),
    );
    return new ResourceIndex(lists.flat());
  }

  /** Resolves apiVersion + kind through discovery, or undefined. */
  async resolve(
    apiVersion: string,
    kind: string,
  ): Promise<ResourceInfo | undefined> {
    return (await this.discover()).lookup(apiVersion, kind);
  }

  /** The URL path of a namespaced resource collection or object. */
  static resourcePath(
    resource: Pick<ResourceInfo, 'group' | 'version' | 'plural'>,
    namespace: string,
    name?: string,
  ): string {
    const prefix = resource.group
      ? `/apis/${resource.group}/${resource.version}`
      : `/api/${resource.version}`;
    const base = `${prefix}/namespaces/${encodeURIComponent(namespace)}/${
      resource.plural
    }`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  /** One object, or undefined when it does not exist. */
  async get(
    resource: ResourceInfo,
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined> {
    const res = await this.request({
      method: 'GET',
      path: ClusterClient.resourcePath(resource, namespace, name),
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) {
      throw errorFromResponse({
        cluster: this.name,
        action: `read ${resource.kind} ${namespace}/${name}`,
        httpStatus: res.status,
        body: res.body,
      });
    }
    return res.body as KubeObject;
  }

  /** The objects of one resource type in a namespace, with apiVersion/kind set. */
  async list(
    resource: ResourceInfo,
    namespace: string,
    options: { labelSelector?: string } = {},
  ): Promise<KubeObject[]> {
    const body = (await this.requestOk(
      {
        method: 'GET',
        path: ClusterClient.resourcePath(resource, namespace),
        query: { labelSelector: options.labelSelector },
      },
      `list ${resource.plural} in namespace ${namespace}`,
    )) as { items?: KubeObject[] };
    return (body.items ?? []).map(item => ({
      ...item,
      apiVersion: resource.apiVersion,
      kind: resource.kind,
    }));
  }

  /**
   * Server-side apply of one namespaced object. Returns the object as the
   * server stored it (or would store it, on a dry run).
   */
  async apply(
    resource: ResourceInfo,
    object: KubeObject,
    options: ApplyOptions,
  ): Promise<KubeObject> {
    const namespace = object.metadata.namespace;
    if (!namespace) {
      throw new Error(
        `apply of ${object.kind} ${object.metadata.name} has no namespace`,
      );
    }
    return (await this.requestOk(
      {
        method: 'PATCH',
        path: ClusterClient.resourcePath(
          resource,
          namespace,
          object.metadata.name,
        ),
        query: {
          fieldManager: options.fieldManager,
          force: String(options.force),
          dryRun: options.dryRun ? 'All' : undefined,
          fieldValidation: 'Strict',
        },
        // JSON is YAML, so the apply-patch content type takes it as is.
        contentType: 'application/apply-patch+yaml',
        body: object,
      },
      `${options.dryRun ? 'dry-run apply' : 'apply'} ${
        object.kind
      } ${namespace}/${object.metadata.name}`,
    )) as KubeObject;
  }

  /** Deletes one object; false when it did not exist. */
  async delete(
    resource: ResourceInfo,
    namespace: string,
    name: string,
    options: {
      propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
    } = {},
  ): Promise<boolean> {
    const res = await this.request({
      method: 'DELETE',
      path: ClusterClient.resourcePath(resource, namespace, name),
      body: {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        propagationPolicy: options.propagationPolicy ?? 'Background',
      },
    });
    if (res.status === 404) return false;
    if (res.status >= 200 && res.status < 300) return true;
    throw errorFromResponse({
      cluster: this.name,
      action: `delete ${resource.kind} ${namespace}/${name}`,
      httpStatus: res.status,
      body: res.body,
    });
  }

  /** Resolves a kind or throws a NotFoundError naming the cluster. */
  async requireResource(
    apiVersion: string,
    kind: string,
  ): Promise<ResourceInfo> {
    const found = await this.resolve(apiVersion, kind);
    if (found) return found;
    const { group } = splitApiVersion(apiVersion);
    throw new NotFoundError(
      `Cluster ${this.name} does not serve ${kind} in ${
        group ? `API group ${group}` : 'the core API group'
      } (${apiVersion})`,
    );
  }
}
