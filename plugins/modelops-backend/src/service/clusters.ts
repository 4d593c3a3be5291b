import { Config } from '@backstage/config';

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
 * Reads cluster names from `kubernetes.clusterLocatorMethods`, the same
 * configuration the official Kubernetes plugin uses.
 */
export function readKnownClusters(config: Config): KnownClusters {
  const names = new Set<string>();
  let complete = true;
  const methods =
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
  for (const method of methods) {
    if (method.getString('type') !== 'config') {
      complete = false;
      continue;
    }
    for (const cluster of method.getOptionalConfigArray('clusters') ?? []) {
      names.add(cluster.getString('name'));
    }
  }
  return { names, complete };
}
