import { Config } from '@backstage/config';
import { ServiceUnavailableError } from '@backstage/errors';
import fs from 'node:fs';
import { ClusterClient, ClusterConnection } from './ClusterClient';

export { ClusterClient } from './ClusterClient';

/** Where the in-cluster service-account token lives when none is configured. */
const IN_CLUSTER_TOKEN_PATH =
  '/var/run/secrets/kubernetes.io/serviceaccount/token';
const IN_CLUSTER_CA_PATH =
  '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

type Entry =
  | { kind: 'ok'; connection: ClusterConnection }
  | { kind: 'unsupported'; message: string };

function fileTokenReader(path: string): () => string | undefined {
  let cached: { value: string; readAt: number } | undefined;
  return () => {
    // Projected tokens rotate; re-read at most once a minute.
    if (!cached || Date.now() - cached.readAt > 60_000) {
      try {
        cached = {
          value: fs.readFileSync(path, 'utf8').trim(),
          readAt: Date.now(),
        };
      } catch {
        return undefined;
      }
    }
    return cached.value;
  };
}

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

/**
 * The clusters of `kubernetes.clusterLocatorMethods` (the Kubernetes plugin's
 * configuration), one keep-alive client per cluster. Only `type: config`
 * locators with `authProvider: serviceAccount` can be used for deploys;
 * other clusters fail with a clear error when they are used.
 */
export class ClusterClients {
  private readonly clients = new Map<string, ClusterClient>();

  private constructor(
    private readonly entries: Map<string, Entry>,
    private readonly otherLocators: string[],
    private readonly options: { discoveryTtlMs?: number },
  ) {}

  static fromConfig(
    config: Config,
    options: { discoveryTtlMs?: number } = {},
  ): ClusterClients {
    const entries = new Map<string, Entry>();
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
        const name = cluster.getString('name');
        const url = cluster.getString('url');
        const authProvider = cluster.getOptionalString('authProvider');
        if (authProvider !== 'serviceAccount') {
          entries.set(name, {
            kind: 'unsupported',
            message: `Cluster ${name} uses authProvider "${
              authProvider ?? '(none)'
            }", which ModelOps deployments do not support; configure it with authProvider: serviceAccount and a serviceAccountToken in kubernetes.clusterLocatorMethods`,
          });
          continue;
        }
        const configuredToken = cluster.getOptionalString(
          'serviceAccountToken',
        );
        const token = configuredToken
          ? () => configuredToken
          : fileTokenReader(IN_CLUSTER_TOKEN_PATH);
        let ca: Buffer | undefined;
        const caData = cluster.getOptionalString('caData');
        const caFile = cluster.getOptionalString('caFile');
        if (caData) {
          ca = Buffer.from(caData, 'base64');
        } else if (caFile) {
          try {
            ca = fs.readFileSync(caFile);
          } catch (e) {
            entries.set(name, {
              kind: 'unsupported',
              message: `Cluster ${name}: cannot read caFile ${caFile} (${
                (e as Error).message
              })`,
            });
            continue;
          }
        } else if (!configuredToken && fs.existsSync(IN_CLUSTER_CA_PATH)) {
          ca = fs.readFileSync(IN_CLUSTER_CA_PATH);
        }
        entries.set(name, {
          kind: 'ok',
          connection: {
            name,
            url,
            token,
            ca,
            skipTLSVerify: cluster.getOptionalBoolean('skipTLSVerify') ?? false,
          },
        });
      }
    }
    return new ClusterClients(entries, otherLocators, options);
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
    const client = new ClusterClient(entry.connection, this.options);
    this.clients.set(name, client);
    return client;
  }

  /** Closes the idle connections of every client made so far. */
  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}
