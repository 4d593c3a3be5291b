import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import {
  ApiException,
  ApisApi,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObject,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  VersionApi,
  Watch,
  createConfiguration,
} from '@kubernetes/client-node';
import type { Agent } from 'node:http';
import {
  AGGREGATED_DISCOVERY_ACCEPT,
  isAggregated,
  resourcesFromAggregated,
} from './discovery';
import {
  ClusterUnreachableError,
  describeNetworkError,
  errorFromResponse,
} from './errors';
import { JsonObjectApi, parseJson } from './JsonObjectApi';
import { Reachability } from './Reachability';
import { ResourceIndex, splitApiVersion } from './ResourceIndex';
import { ApplyOptions, KubeObject, ResourceInfo } from './types';

export type { ApplyOptions } from './types';

/** How long one request may wait for an answer, and how long a cluster that did not answer is left alone. */
export interface ClusterClientOptions {
  /** Per-request timeout; 5000 ms by default. */
  requestTimeoutMs?: number;
  /** Fail-fast period after a cluster did not answer; 10000 ms by default. */
  unreachableCooldownMs?: number;
  /** How long discovery results are reused; 60000 ms by default. */
  discoveryTtlMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_UNREACHABLE_COOLDOWN_MS = 10_000;
const DEFAULT_DISCOVERY_TTL_MS = 60_000;
const DISCOVERY = 'list its API resources (discovery)';

/**
 * A client for one cluster, through @kubernetes/client-node with the
 * cluster's `KubeConfig`: objects through `KubernetesObjectApi` (read, list,
 * server-side apply, delete), discovery through the discovery endpoints
 * (aggregated when the server has it) and cached per cluster. Every request
 * has a timeout, and a cluster that did not answer fails fast for a
 * cool-down (see `Reachability`). Errors are `@backstage/errors` errors naming
 * the cluster; the token never appears in a message or log.
 */
export class ClusterClient {
  readonly name: string;
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly discoveryTtlMs: number;
  private readonly objects: JsonObjectApi;
  private readonly apis: ApisApi;
  private readonly core: CoreV1Api;
  private readonly customObjects: CustomObjectsApi;
  private readonly version: VersionApi;
  private readonly reachability: Reachability;
  private readonly kubeConfig: KubeConfig;
  private agent?: Agent;
  private discovery?: { index: ResourceIndex; expires: number };
  private discoveryInFlight?: Promise<ResourceIndex>;

  constructor(
    cluster: { name: string; url: string; kubeConfig: KubeConfig },
    options: ClusterClientOptions = {},
  ) {
    this.name = cluster.name;
    this.url = cluster.url;
    this.kubeConfig = cluster.kubeConfig;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.discoveryTtlMs = options.discoveryTtlMs ?? DEFAULT_DISCOVERY_TTL_MS;
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.url, {}),
      authMethods: { default: cluster.kubeConfig },
      promiseMiddleware: [
        {
          pre: async (context: RequestContext) => this.prepare(context),
          post: async (response: ResponseContext) => response,
        },
      ],
    });
    this.objects = new JsonObjectApi(configuration);
    this.apis = new ApisApi(configuration);
    this.core = new CoreV1Api(configuration);
    this.customObjects = new CustomObjectsApi(configuration);
    this.version = new VersionApi(configuration);
    this.reachability = new Reachability({
      cluster: this.name,
      url: this.url,
      cooldownMs:
        options.unreachableCooldownMs ?? DEFAULT_UNREACHABLE_COOLDOWN_MS,
      probe: () => this.probe(),
    });
  }

  /**
   * Every request: a timeout, and one keep-alive connection pool per cluster
   * (the `KubeConfig` makes a fresh agent, with the cluster's TLS settings,
   * per request; the first one's settings are kept for the pool).
   */
  private prepare(context: RequestContext): RequestContext {
    if (!this.agent) {
      const made = context.getAgent() as
        | (Agent & { options?: object })
        | undefined;
      if (made) {
        const AgentType = made.constructor as new (options: object) => Agent;
        this.agent = new AgentType({
          ...made.options,
          keepAlive: true,
          maxSockets: 16,
        });
      }
    }
    if (this.agent) context.setAgent(this.agent);
    context.setSignal(AbortSignal.timeout(this.timeoutMs));
    return context;
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  /** When the cluster last answered (ISO 8601), if it has since start. */
  get lastReachableAt(): string | undefined {
    return this.reachability.lastReachableAt;
  }

  /** The error for a failed request: answered (mapped status) or unreachable. */
  private failure(error: unknown, action: string): Error {
    if (error instanceof ClusterUnreachableError) return error;
    if (error instanceof ApiException) {
      this.reachability.answered();
      return errorFromResponse({
        cluster: this.name,
        action,
        httpStatus: error.code,
        body: parseJson(error.body),
      });
    }
    const e = (error ?? {}) as {
      name?: string;
      code?: string;
      message?: string;
    };
    if (e.name === 'AbortError') {
      return this.reachability.unreachable(
        `no answer within ${this.timeoutMs} ms`,
      );
    }
    if (e.name === 'FetchError') {
      return this.reachability.unreachable(describeNetworkError(e));
    }
    const message = String(e.message ?? error);
    const unrecognized = /Unrecognized API version and kind: (\S+) (\S+)/.exec(
      message,
    );
    if (unrecognized) {
      return this.notServed(unrecognized[1], unrecognized[2]);
    }
    return new ServiceUnavailableError(
      `Cluster ${this.name} at ${this.url}: could not ${action} (${message})`,
    );
  }

  /** One request, timed out and classified; no breaker check. */
  private async attempt<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.reachability.answered();
      return result;
    } catch (error) {
      throw this.failure(error, action);
    }
  }

  /** One request, unless the cluster is cooling down after no answer. */
  private async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    await this.reachability.admit();
    return this.attempt(action, run);
  }

  /** Asks the cluster for its version; any HTTP answer means it is back. */
  private async probe(): Promise<void> {
    try {
      await this.attempt('tell its version', () => this.version.getCode());
    } catch (error) {
      if (error instanceof ClusterUnreachableError) throw error;
    }
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
          this.objects.useDiscovery(index);
          this.discovery = {
            index,
            expires: Date.now() + this.discoveryTtlMs,
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
    const [core, groups] = await Promise.all(
      ['/api', '/apis'].map(path =>
        this.call(DISCOVERY, () =>
          this.objects.discoveryDocument(path, AGGREGATED_DISCOVERY_ACCEPT),
        ),
      ),
    );
    if (isAggregated(core) && isAggregated(groups)) {
      return new ResourceIndex([
        ...resourcesFromAggregated(core.items ?? []),
        ...resourcesFromAggregated(groups.items ?? []),
      ]);
    }
    return this.legacyDiscovery();
  }

  /** Discovery for API servers without the aggregated endpoint (< 1.26). */
  private async legacyDiscovery(): Promise<ResourceIndex> {
    const groups = await this.call(DISCOVERY, () => this.apis.getAPIVersions());
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
        let list;
        try {
          list = await this.call(DISCOVERY, () =>
            t.group
              ? this.customObjects.getAPIResources({
                  group: t.group,
                  version: t.version,
                })
              : this.core.getAPIResources(),
          );
        } catch (error) {
          // An unavailable aggregated API (e.g. metrics) must not hide the rest.
          if (error instanceof ClusterUnreachableError) throw error;
          return [];
        }
        return (list.resources ?? [])
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

  /** Resolves a kind or throws a NotFoundError naming the cluster. */
  async requireResource(
    apiVersion: string,
    kind: string,
  ): Promise<ResourceInfo> {
    const found = await this.resolve(apiVersion, kind);
    if (found) return found;
    throw this.notServed(apiVersion, kind);
  }

  private notServed(apiVersion: string, kind: string): NotFoundError {
    const { group } = splitApiVersion(apiVersion);
    return new NotFoundError(
      `Cluster ${this.name} does not serve ${kind} in ${
        group ? `API group ${group}` : 'the core API group'
      } (${apiVersion})`,
    );
  }

  /** One object, or undefined when it does not exist. */
  async get(
    resource: ResourceInfo,
    namespace: string,
    name: string,
  ): Promise<KubeObject | undefined> {
    try {
      return (await this.call(
        `read ${resource.kind} ${namespace}/${name}`,
        () =>
          this.objects.read<KubernetesObject>({
            apiVersion: resource.apiVersion,
            kind: resource.kind,
            metadata: { name, namespace },
          }),
      )) as KubeObject;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * The objects of one resource type in a namespace (every namespace when
   * `namespace` is undefined), with apiVersion/kind set.
   */
  async list(
    resource: ResourceInfo,
    namespace: string | undefined,
    options: { labelSelector?: string } = {},
  ): Promise<KubeObject[]> {
    return (await this.listWithVersion(resource, namespace, options)).items;
  }

  /** `list`, with the list's resourceVersion to watch from. */
  async listWithVersion(
    resource: ResourceInfo,
    namespace: string | undefined,
    options: { labelSelector?: string } = {},
  ): Promise<{ items: KubeObject[]; resourceVersion?: string }> {
    const list = await this.call(
      namespace === undefined
        ? `list ${resource.plural} in every namespace`
        : `list ${resource.plural} in namespace ${namespace}`,
      () =>
        this.objects.list(
          resource.apiVersion,
          resource.kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          options.labelSelector,
        ),
    );
    return {
      items: ((list.items ?? []) as unknown as KubeObject[]).map(item => ({
        ...item,
        apiVersion: resource.apiVersion,
        kind: resource.kind,
      })),
      resourceVersion: list.metadata?.resourceVersion,
    };
  }

  /**
   * Watches one resource's objects (in `namespace`, or every namespace)
   * from `resourceVersion`: `onEvent` gets each event as the server sends
   * it (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR), `onDone` the end of the
   * watch, with the error that ended it (`statusCode` set when the server
   * refused it) or null when the server closed it. Answers a controller
   * that stops it.
   */
  async watch(
    resource: ResourceInfo,
    namespace: string | undefined,
    options: {
      labelSelector?: string;
      resourceVersion?: string;
      timeoutSeconds?: number;
    },
    onEvent: (type: string, object: KubeObject) => void,
    onDone: (error: (Error & { statusCode?: number }) | null) => void,
  ): Promise<AbortController> {
    const { group, version } = splitApiVersion(resource.apiVersion);
    const path = `${group ? `/apis/${group}/${version}` : `/api/${version}`}${
      namespace === undefined
        ? ''
        : `/namespaces/${encodeURIComponent(namespace)}`
    }/${resource.plural}`;
    return new Watch(this.kubeConfig).watch(
      path,
      {
        labelSelector: options.labelSelector,
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: options.timeoutSeconds,
      },
      (type, object) => onEvent(type, object as KubeObject),
      onDone,
    );
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
    return this.call(
      `${options.dryRun ? 'dry-run apply' : 'apply'} ${
        resource.kind
      } ${namespace}/${object.metadata.name}`,
      () => this.objects.serverSideApply(object, options),
    );
  }

  /**
   * A pod's log (one container's), with each line's RFC 3339 timestamp in
   * front when `timestamps`; undefined when the pod does not exist.
   */
  async podLog(
    namespace: string,
    name: string,
    options: { container?: string; timestamps?: boolean; limitBytes?: number },
  ): Promise<string | undefined> {
    try {
      return await this.call(`read the log of pod ${namespace}/${name}`, () =>
        this.core.readNamespacedPodLog({
          namespace,
          name,
          container: options.container,
          timestamps: options.timestamps,
          limitBytes: options.limitBytes,
        }),
      );
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
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
    try {
      await this.call(`delete ${resource.kind} ${namespace}/${name}`, () =>
        this.objects.delete(
          {
            apiVersion: resource.apiVersion,
            kind: resource.kind,
            metadata: { name, namespace },
          },
          undefined,
          undefined,
          undefined,
          undefined,
          options.propagationPolicy ?? 'Background',
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }
}
