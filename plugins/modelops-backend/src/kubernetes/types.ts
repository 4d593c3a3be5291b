/** A Kubernetes object as plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** One resource type as served by a cluster, from API discovery. */
export interface ResourceInfo {
  /** API group, `''` for the core group. */
  group: string;
  version: string;
  /** `group/version`, or just `version` for the core group. */
  apiVersion: string;
  kind: string;
  /** The resource name used in URLs, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
  verbs: string[];
  /** True when `version` is the group's preferred version. */
  preferred: boolean;
}

/** Options of `ClusterClient.apply` (server-side apply). */
export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  dryRun: boolean;
}
