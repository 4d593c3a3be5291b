import { Config } from '@backstage/config';
import { ServiceUnavailableError } from '@backstage/errors';
import { ClusterClient, ClusterClientOptions } from './ClusterClient';
import { ClusterKubeConfig, clusterKubeConfig } from './kubeConfig';

export { ClusterClient } from './ClusterClient';

/** What the Kubernetes plugin's configuration says about clusters. */
export interface KnownClusters {
  /** Names of clusters listed under `type: config` locators. */
  names: ReadonlySet<string>;
  /**
   * False when some locator (catalog, gke, ...) finds clusters at run time,
   * so a name missing from `names` may still exist.
   */
  complete: boolean;
}

/** Reads `modelops.kubernetes`: request timeout and unreachable cool-down. */
export function readClusterClientOptions(config: Config): ClusterClientOptions {
  const positive = (key: string): number | undefined => {
    const value = config.getOptionalNumber(`modelops.kubernetes.${key}`);
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new Error(
        `Invalid modelops configuration: modelops.kubernetes.${key}: must be a positive number of milliseconds`,
      );
    }
    return value;
  };
  return {
    requestTimeoutMs: positive('requestTimeoutMs'),
    unreachableCooldownMs: positive('unreachableCooldownMs'),
  };
}

/**
 * The clusters of `kubernetes.clusterLocatorMethods` (the Kubernetes plugin's
 * configuration), one client per cluster. Only `type: config` locators with
 * `authProvider: serviceAccount` can be used for deploys; other clusters fail
 * with a clear error when they are used. Request timeout and cool-down come
 * from `modelops.kubernetes`.
 */
export class ClusterClients {
  private readonly clients = new Map<string, ClusterClient>();

  private constructor(
    private readonly entries: Map<string, ClusterKubeConfig>,
    private readonly otherLocators: string[],
    private readonly options: ClusterClientOptions,
  ) {}

  static fromConfig(
    config: Config,
    options: ClusterClientOptions = {},
  ): ClusterClients {
    const entries = new Map<string, ClusterKubeConfig>();
    const otherLocators: string[] = [];
    const methods =
      config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
    for (const method of methods) {
      const type = method.getString('type');
      if (type !== 'config') {
        otherLocators.push(type);
        continue;
      }
      for (const cluster of method.getOptionalConfigArray('clusters') ?? []) {
        const entry = clusterKubeConfig(cluster);
        entries.set(entry.name, entry);
      }
    }
    return new ClusterClients(entries, otherLocators, {
      ...readClusterClientOptions(config),
      ...definedOnly(options),
    });
  }

  /** Names of the clusters configured with `type: config`. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The configured cluster names, and whether other locators may add more. */
  known(): KnownClusters {
    return {
      names: new Set(this.entries.keys()),
      complete: this.otherLocators.length === 0,
    };
  }

  /**
   * The client for one cluster. An unknown name (the message names the
   * configured ones) and a cluster whose configuration ModelOps cannot use
   * are platform misconfiguration: ServiceUnavailableError (503), not the
   * user's request being wrong.
   */
  get(name: string): ClusterClient {
    const existing = this.clients.get(name);
    if (existing) return existing;
    const entry = this.entries.get(name);
    if (!entry) {
      const configured = this.names();
      throw new ServiceUnavailableError(
        `Cluster "${name}" is not configured in kubernetes.clusterLocatorMethods (configured: ${
          configured.length ? configured.join(', ') : 'none'
        })${
          this.otherLocators.length
            ? `; clusters found by locator types ${this.otherLocators.join(
                ', ',
              )} cannot be used for ModelOps deployments, only type: config`
            : ''
        }`,
      );
    }
    if (entry.kind === 'unsupported') {
      throw new ServiceUnavailableError(entry.message);
    }
    const client = new ClusterClient(entry, this.options);
    this.clients.set(name, client);
    return client;
  }

  /** Closes the idle connections of every client made so far. */
  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
