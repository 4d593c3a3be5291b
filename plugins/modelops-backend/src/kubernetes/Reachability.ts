import { ClusterUnreachableError } from './errors';

/**
 * Whether one cluster answers, as a circuit breaker. After a request gets no
 * answer (timeout, refused connection, failed TLS handshake), requests fail
 * at once, without touching the network, for a cool-down; the first request
 * after it sends one probe that every concurrent request waits for, and the
 * cluster is used again only once the probe is answered. So a hung cluster
 * costs its callers one request timeout, then nothing until it is back.
 */
export class Reachability {
  private lastAnswer?: number;
  private failure?: { reason: string; at: number; retryAt: number };
  private probing?: Promise<void>;

  constructor(
    private readonly options: {
      cluster: string;
      url: string;
      cooldownMs: number;
      /** One request to the cluster; rejects with ClusterUnreachableError. */
      probe: () => Promise<void>;
    },
  ) {}

  /** When the cluster last answered (ISO 8601), if it has since start. */
  get lastReachableAt(): string | undefined {
    return this.lastAnswer === undefined
      ? undefined
      : new Date(this.lastAnswer).toISOString();
  }

  /** The cluster sent an HTTP answer (any status). */
  answered(): void {
    this.lastAnswer = Date.now();
    this.failure = undefined;
  }

  /** The cluster did not answer; returns the error to throw. */
  unreachable(reason: string): ClusterUnreachableError {
    const at = Date.now();
    this.failure = { reason, at, retryAt: at + this.options.cooldownMs };
    return this.error(reason);
  }

  /**
   * Resolves when a request may go to the cluster. Throws a
   * ClusterUnreachableError at once during the cool-down, and after it when
   * the probe is not answered either.
   */
  async admit(): Promise<void> {
    const failure = this.failure;
    if (!failure) return;
    if (Date.now() < failure.retryAt) {
      const ago = Math.max(0, Math.round((Date.now() - failure.at) / 1000));
      throw this.error(
        `${failure.reason} (${ago} s ago; ModelOps tries again after ${new Date(
          failure.retryAt,
        ).toISOString()})`,
      );
    }
    if (!this.probing) {
      this.probing = this.options.probe().finally(() => {
        this.probing = undefined;
      });
    }
    await this.probing;
  }

  private error(reason: string): ClusterUnreachableError {
    return new ClusterUnreachableError({
      cluster: this.options.cluster,
      url: this.options.url,
      reason,
      lastReachableAt: this.lastReachableAt,
    });
  }
}
