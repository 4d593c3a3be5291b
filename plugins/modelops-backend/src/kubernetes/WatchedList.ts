import { LoggerService } from '@backstage/backend-plugin-api';
import { ServiceUnavailableError } from '@backstage/errors';
import { ClusterClient } from './ClusterClient';
import { KubeObject, ResourceInfo } from './types';

/** How long answers may come from a watch that cannot reconnect before they are refused. */
const DEFAULT_STALE_AFTER_MS = 30_000;
/** Wait before reconnecting a watch that failed (doubling up to 30 s). */
const RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
/** Asks the server to end each watch after this long: the watch then resumes from its last version. */
const WATCH_SECONDS = 300;

const keyOf = (o: KubeObject) =>
  (o.metadata.uid as string | undefined) ??
  `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * The objects of one resource type that match a label selector, in one
 * namespace or every one, kept current by a Kubernetes watch (an informer):
 * listed once, then each change applied as the server reports it, so
 * reading them costs the cluster nothing. The watch resumes from its last
 * version when the server ends it, lists again when that version has
 * expired (410 Gone), and reconnects with a growing delay when the cluster
 * does not answer; while it cannot, answers come from what it last saw for
 * `staleAfterMs`, then the error is thrown. Objects are kept as `slim`
 * makes them (e.g. without managed fields).
 */
export class WatchedList {
  private items = new Map<string, KubeObject>();
  private resourceVersion?: string;
  private ready?: Promise<void>;
  private controller?: AbortController;
  private timer?: NodeJS.Timeout;
  /** Increments per watch started, so a replaced watch's callbacks are ignored. */
  private generation = 0;
  private expired = false;
  private stopped = false;
  private brokenSince?: number;
  private lastError?: Error;
  private retryMs = RETRY_MS;
  /** Lists made (the first one, and after an expired version): for tests and logs. */
  lists = 0;

  constructor(
    private readonly options: {
      client: ClusterClient;
      resource: ResourceInfo;
      namespace?: string;
      labelSelector: string;
      slim?: (o: KubeObject) => KubeObject;
      logger: LoggerService;
      staleAfterMs?: number;
      /** How long the server keeps each watch open (300 s by default). */
      watchSeconds?: number;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private get what(): string {
    const { resource, namespace, client } = this.options;
    return `${resource.plural} ${
      namespace === undefined ? 'in every namespace' : `in ${namespace}`
    } on cluster ${client.name}`;
  }

  /**
   * The objects as of the last event. The first call lists them (and
   * throws what the list throws, e.g. a NotAllowedError where listing is
   * not granted); later calls read memory.
   */
  async objects(): Promise<KubeObject[]> {
    if (this.stopped) throw new Error(`the watch of ${this.what} was stopped`);
    if (!this.ready) {
      this.ready = this.relist().catch(error => {
        this.ready = undefined;
        throw error;
      });
    }
    await this.ready;
    const staleAfter = this.options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    if (
      this.brokenSince !== undefined &&
      this.now() - this.brokenSince > staleAfter
    ) {
      throw new ServiceUnavailableError(
        `The watch of ${this.what} has been down since ${new Date(
          this.brokenSince,
        ).toISOString()}: ${this.lastError?.message ?? 'no answer'}`,
      );
    }
    return [...this.items.values()];
  }

  /** Stops the watch for good. */
  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  private async relist(): Promise<void> {
    const { client, resource, namespace, labelSelector } = this.options;
    this.lists++;
    const { items, resourceVersion } = await client.listWithVersion(
      resource,
      namespace,
      { labelSelector },
    );
    const slim = this.options.slim ?? (o => o);
    this.items = new Map(items.map(o => [keyOf(o), slim(o)]));
    this.resourceVersion = resourceVersion;
    this.expired = false;
    this.brokenSince = undefined;
    this.retryMs = RETRY_MS;
    this.startWatch();
  }

  private startWatch(): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    const { client, resource, namespace, labelSelector } = this.options;
    const slim = this.options.slim ?? (o => o);
    let ended = false;
    client
      .watch(
        resource,
        namespace,
        {
          labelSelector,
          resourceVersion: this.resourceVersion,
          timeoutSeconds: this.options.watchSeconds ?? WATCH_SECONDS,
        },
        (type, object) => {
          if (generation !== this.generation) return;
          const version = object?.metadata?.resourceVersion as
            | string
            | undefined;
          switch (type) {
            case 'ADDED':
            case 'MODIFIED':
              this.items.set(keyOf(object), slim(object));
              break;
            case 'DELETED':
              this.items.delete(keyOf(object));
              break;
            case 'BOOKMARK':
              break;
            case 'ERROR': {
              const status = object as unknown as {
                code?: number;
                message?: string;
              };
              if (status.code === 410) this.expired = true;
              else
                this.lastError = new Error(
                  status.message ?? 'the watch reported an error',
                );
              return;
            }
            default:
              return;
          }
          if (version) this.resourceVersion = version;
          this.brokenSince = undefined;
          this.retryMs = RETRY_MS;
        },
        error => {
          ended = true;
          if (generation === this.generation) this.onEnded(error);
        },
      )
      .then(
        controller => {
          if (generation !== this.generation || this.stopped)
            controller.abort();
          else {
            this.controller = controller;
            if (!ended) this.brokenSince = undefined;
          }
        },
        error => {
          if (generation === this.generation) this.onEnded(error);
        },
      );
  }

  /** A watch ended: resume, list again, or retry later, as the way it ended says. */
  private onEnded(error: (Error & { statusCode?: number }) | null): void {
    if (this.stopped) return;
    if (error?.statusCode === 410) this.expired = true;
    // The server ended it (its timeout): resume at once, but never spin.
    let delay = 100;
    if (error && error.name !== 'AbortError') {
      this.brokenSince ??= this.now();
      this.lastError = error;
      delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      this.options.logger.warn(
        `The watch of ${this.what} ended: ${error.message}; reconnecting in ${delay} ms`,
      );
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.expired) {
        this.startWatch();
        return;
      }
      this.relist().catch(e => this.onEnded(e as Error));
    }, delay);
    this.timer.unref?.();
  }
}
