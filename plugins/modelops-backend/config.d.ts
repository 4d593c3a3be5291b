export interface Config {
  /**
   * ModelOps: build, deploy and monitor ML model services. Clusters are not
   * configured here: environments name clusters from the Kubernetes plugin's
   * `kubernetes.clusterLocatorMethods`, so a platform team configures them once.
   */
  modelops?: {
    /**
     * Deployment environments by name (e.g. dev, staging, prod). Names are
     * lowercase RFC 1123 labels.
     * @visibility backend
     */
    environments?: {
      [name: string]: {
        /**
         * Name of a cluster from `kubernetes.clusterLocatorMethods`.
         * @visibility backend
         */
        cluster: string;
        /**
         * Namespace model services run in, unless the entity sets
         * `backstage.io/kubernetes-namespace`.
         * @visibility backend
         */
        namespace: string;
        /**
         * Namespaces an entity may choose with backstage.io/kubernetes-namespace
         * in this environment. By default only `namespace` itself: an entity
         * cannot move its workloads elsewhere.
         * @visibility backend
         */
        allowedNamespaces?: string[];
        /**
         * Overrides `modelops.deployments.allowInlineManifests` in this
         * environment.
         * @visibility backend
         */
        allowInlineManifests?: boolean;
        /**
         * Overrides `modelops.deployments.allowedServiceTypes` in this
         * environment.
         * @visibility backend
         */
        allowedServiceTypes?: Array<
          'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'
        >;
        /**
         * Overrides `modelops.deployments.allowExternalIPs` in this environment.
         * @visibility backend
         */
        allowExternalIPs?: boolean;
        /**
         * The image builder of builds deployed to this environment.
         * @visibility backend
         */
        builder?: string;
        /**
         * SLO analysis of deploys to this environment: the new revision's
         * pods are judged against the service's SLOs every `interval` for
         * `duration`, and a breach rolls the deploy back.
         * @visibility backend
         */
        analysis?: {
          /**
           * Default length for deploys here (`10m`, `1h`); `0s`, the
           * default, watches only deploys that ask (`analysis.durationSeconds`).
           * @visibility backend
           */
          duration?: string;
          /**
           * Time between two evaluations; default `30s`.
           * @visibility backend
           */
          interval?: string;
          /**
           * Rate window of the signals during an analysis; default `1m`.
           * @visibility backend
           */
          window?: string;
          /**
           * Request rate of the new pods below which an evaluation is
           * inconclusive; default 0.1 requests per second.
           * @visibility backend
           */
          minRequestRate?: number;
          /**
           * What a window without one conclusive evaluation ends as: `pass`
           * (the default: the release stays) or `rollback`.
           * @visibility backend
           */
          onInconclusive?: 'pass' | 'rollback';
        };
      };
    };
    /** Image builds. */
    builds?: {
      /**
       * Image builder type; `buildkit` (a Kubernetes Job running BuildKit) is
       * the default and modules can add more. An environment's `builder`
       * overrides it for builds deployed there; an entity's `modelops/builder`
       * annotation overrides both.
       * @visibility backend
       */
      builder?: string;
      /**
       * Build argument names a trigger may set; others are refused.
       * @visibility backend
       */
      allowedBuildArgs?: string[];
      /**
       * A trigger whose inputs match a build that succeeded (the same
       * commit, context, Dockerfile, build args, builder and image
       * repository) gives that build back instead of building the same
       * image again, as BuildKit's own cache would; `rebuild: true` on the
       * trigger builds anyway. Default true; turn it off where the registry
       * deletes images that builds recorded.
       * @visibility backend
       */
      reuseSucceeded?: boolean;
      /** The default builder: a Kubernetes Job running BuildKit. */
      buildkit?: {
        /**
         * The BuildKit image the Job runs.
         * @visibility backend
         */
        image?: string;
        /**
         * `rootless` (default): BuildKit as an unprivileged user, seccomp and
         * AppArmor unconfined. `privileged`: as root in a privileged container,
         * for clusters that cannot run it rootless.
         * @visibility backend
         */
        mode?: 'rootless' | 'privileged';
        /**
         * ConfigMap in the build namespace holding `buildkitd.toml`.
         * @visibility backend
         */
        configMap?: string;
        /**
         * Secret (kubernetes.io/dockerconfigjson) with the registry credentials.
         * @visibility backend
         */
        registrySecret?: string;
        /**
         * Registry host -> the address a build pod pushes to.
         * @visibility backend
         */
        pushRegistries?: { [host: string]: string };
        /**
         * Git host -> the address a build pod clones from.
         * @visibility backend
         */
        gitHosts?: { [host: string]: string };
        /** @visibility backend */
        activeDeadlineSeconds?: number;
        /** @visibility backend */
        ttlSecondsAfterFinished?: number;
        /** @visibility backend */
        resources?: {
          requests?: { cpu?: string; memory?: string };
          limits?: { cpu?: string; memory?: string };
        };
      };
      /**
       * Environment whose cluster runs build Jobs. Defaults to the first environment.
       * @visibility backend
       */
      environment?: string;
      /**
       * Namespace build Jobs run in.
       * @visibility backend
       */
      namespace?: string;
    };
    /** Metrics. */
    metrics?: {
      /**
       * Metrics source type; `prometheus` is the default.
       * @visibility backend
       */
      source?: string;
      /** Prometheus connection. */
      prometheus?: {
        /**
         * Base URL of the Prometheus HTTP API, e.g. http://prometheus:9090.
         * @visibility backend
         */
        url: string;
        /**
         * Bearer token sent to Prometheus.
         * @visibility secret
         */
        bearerToken?: string;
        /**
         * Per-query timeout in seconds (default 5). A slower answer makes the
         * signals it carries `unknown`, with the reason.
         * @visibility backend
         */
        timeoutSeconds?: number;
        /**
         * Most series one query may return (default 100000). The health
         * overview's grouped queries return one series per service and
         * environment, so this bounds the catalog it can judge.
         * @visibility backend
         */
        maxSeries?: number;
        /**
         * Largest answer accepted from one query, in bytes (default 16 MiB).
         * @visibility backend
         */
        maxResponseBytes?: number;
        /**
         * Ask Prometheus for gzip-compressed answers (default false). Next to
         * the backend, decompressing costs its single thread more than the
         * bytes cost the network: a chart's answers are tens of kilobytes.
         * Set it when Prometheus is reached over a slow link.
         * @visibility backend
         */
        compressed?: boolean;
      };
      /**
       * Rate window of every signal, a Prometheus duration (default 5m).
       * @visibility backend
       */
      window?: string;
      /**
       * Seconds the health overview's upstream answers (PromQL results and
       * workload lists) are shared between callers (default 30; 0 = never).
       * @visibility backend
       */
      cacheSeconds?: number;
      /**
       * Seconds the metrics and health of one service use an entity read
       * from the catalog (default 10; 0 = read it for every request). Who
       * may see the entity and read its metrics is asked at every request.
       * @visibility backend
       */
      entityCacheSeconds?: number;
      /**
       * PromQL templates replacing the built-in ones, per runtime
       * (`kserve`, `triton`, `seldon`, `generic`) and signal (`requestRate`,
       * `errorRate`, `latencyP50`, `latencyP95`, `latencyP99`, `latencyMean`,
       * `predictionsByClass`, `featureDrift`, `predictionDrift`,
       * `featureHistogram`). A template selects the service with `$matchers`
       * (the escaped matchers from the entity) and may use `$window` and `$by`
       * (the labels to group by). Entity annotations never carry PromQL.
       * @visibility backend
       */
      querySets?: {
        [runtime: string]: { [signal: string]: string };
      };
      /**
       * For model servers that export per-feature input histograms
       * (`modelops_feature_value`) but no drift gauges, the backend computes
       * PSI of the current window against a reference window: this many hours
       * from when the running revision was deployed (default 24).
       * @visibility backend
       */
      driftReferenceHours?: number;
      /**
       * SLO thresholds for model services whose `modelops/slo` does not set them.
       * @visibility backend
       */
      slo?: {
        'latency-p95-ms'?: number;
        'latency-p99-ms'?: number;
        'error-rate'?: number;
        'drift-psi'?: number;
        'min-ready-ratio'?: number;
      };
      /**
       * Label names the scraped series carry for the cluster, the namespace
       * and the service's Kubernetes id.
       * @visibility backend
       */
      labels?: {
        cluster?: string;
        namespace?: string;
        service?: string;
        /** The pod name label, default `pod`: analyses select a revision's pods by it. */
        pod?: string;
      };
    };
    /** Deployments. */
    deployments?: {
      /**
       * Whether a deploy request may carry its own manifests; default false.
       * An environment can override it.
       * @visibility backend
       */
      allowInlineManifests?: boolean;
      /**
       * Service types a deploy may create (`spec.type`); default ClusterIP
       * only. An environment can override it.
       * @visibility backend
       */
      allowedServiceTypes?: Array<
        'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'
      >;
      /**
       * Whether Services may set `spec.externalIPs` (they can intercept
       * traffic to any address in the cluster); default false. An
       * environment can override it.
       * @visibility backend
       */
      allowExternalIPs?: boolean;
    };
    /** How ModelOps talks to the clusters of `kubernetes.clusterLocatorMethods`. */
    kubernetes?: {
      /**
       * How long one request to a cluster may wait for an answer, in
       * milliseconds (default 5000). A cluster that does not answer in time
       * is reported unreachable for its environment only.
       * @visibility backend
       */
      requestTimeoutMs?: number;
      /**
       * After a cluster did not answer, requests to it fail at once for this
       * many milliseconds (default 10000); then one probe request checks
       * whether it answers again.
       * @visibility backend
       */
      unreachableCooldownMs?: number;
    };
  };
}
