import { Config } from '@backstage/config';
import { DNS_LABEL_PATTERN } from '@modelops/plugin-modelops-common';
import { z } from 'zod';
import { Signal, SIGNALS } from './metrics/queries';

const dnsLabel = z
  .string()
  .regex(
    DNS_LABEL_PATTERN,
    'must be a lowercase RFC 1123 label (letters, digits and "-", at most 63 characters)',
  );

/** A runtime's replacement templates: any signal, each selecting the service with `$matchers`. */
const querySetOverrides = z
  .object(
    Object.fromEntries(
      SIGNALS.map(signal => [
        signal,
        z
          .string()
          .refine(
            t => t.includes('$matchers'),
            'must select the service with $matchers (and may use $window and $by)',
          )
          .optional(),
      ]),
    ) as Record<Signal, z.ZodOptional<z.ZodEffects<z.ZodString>>>,
  )
  .strict()
  .optional();

/** Service `spec.type` values a deploy may use. */
const serviceTypes = z
  .array(z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']))
  .min(1, 'must list at least one Service type');

const promDuration = z
  .string()
  .regex(/^[0-9]{1,6}(s|m|h)$/, 'must be a duration such as 30s, 10m or 1h');

/** How deploys to an environment are watched against their SLOs. */
const analysisSchema = z
  .object({
    /** Default length for deploys here; `0s` (the default): none unless a deploy asks. */
    duration: promDuration.default('0s'),
    /** Time between two evaluations. */
    interval: promDuration
      .refine(d => !/^0+[smh]$/.test(d), 'must be longer than 0')
      .default('30s'),
    /** The rate window signals are read over during an analysis. */
    window: promDuration
      .refine(d => !/^0+[smh]$/.test(d), 'must be longer than 0')
      .default('1m'),
    /** Below this request rate of the new pods, an evaluation is inconclusive. */
    minRequestRate: z.number().nonnegative().default(0.1),
    /** What a window without one conclusive evaluation ends as. */
    onInconclusive: z.enum(['pass', 'rollback']).default('pass'),
  })
  .strict()
  .default({});

const environmentSchema = z
  .object({
    cluster: z.string().trim().min(1, 'must name a cluster'),
    namespace: dnsLabel,
    allowedNamespaces: z.array(dnsLabel).optional(),
    // Per-environment overrides of modelops.deployments.
    allowInlineManifests: z.boolean().optional(),
    allowedServiceTypes: serviceTypes.optional(),
    allowExternalIPs: z.boolean().optional(),
    /** The image builder of builds that deploy here (`deployTo`). */
    builder: z.string().trim().min(1).optional(),
    analysis: analysisSchema,
  })
  .strict();

const hostPort = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/,
    'must be a host or host:port',
  );
const quantity = z
  .string()
  .regex(
    /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/,
    'must be a Kubernetes quantity such as 500m or 2Gi',
  );

const buildkitSchema = z
  .object({
    /** The BuildKit image the Job runs (moby/buildkit or one built locally). */
    image: z.string().trim().min(1).optional(),
    /**
     * `rootless` (the default) runs BuildKit as an unprivileged user with
     * seccomp and AppArmor unconfined; `privileged` runs it as root in a
     * privileged container, for clusters that cannot run it rootless.
     */
    mode: z.enum(['rootless', 'privileged']).default('rootless'),
    /** A ConfigMap in the build namespace holding buildkitd.toml (registry mirrors). */
    configMap: z.string().trim().min(1).optional(),
    /** A Secret of type kubernetes.io/dockerconfigjson with the registry credentials. */
    registrySecret: z.string().trim().min(1).optional(),
    /** Registry host -> the address a build pod pushes to (e.g. a node-local relay). */
    pushRegistries: z.record(hostPort, hostPort).default({}),
    /** Git host -> the address a build pod clones from. */
    gitHosts: z.record(hostPort, hostPort).default({}),
    activeDeadlineSeconds: z.number().int().positive().default(1800),
    ttlSecondsAfterFinished: z.number().int().nonnegative().default(3600),
    resources: z
      .object({
        requests: z
          .object({ cpu: quantity, memory: quantity })
          .partial()
          .strict()
          .default({ cpu: '500m', memory: '512Mi' }),
        limits: z
          .object({ cpu: quantity, memory: quantity })
          .partial()
          .strict()
          .default({ memory: '4Gi' }),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

const modelOpsConfigSchema = z
  .object({
    environments: z.record(dnsLabel, environmentSchema).default({}),
    builds: z
      .object({
        builder: z.string().trim().min(1).default('buildkit'),
        environment: dnsLabel.optional(),
        namespace: dnsLabel.default('modelops-builds'),
        /** Build argument names a trigger may set. */
        allowedBuildArgs: z
          .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
          .default([]),
        /**
         * A trigger whose inputs match a succeeded build's gives that build
         * back instead of building again (`rebuild: true` builds anyway).
         */
        reuseSucceeded: z.boolean().default(true),
        buildkit: buildkitSchema,
        // The `github-actions` builder's block: its module checks the keys.
        githubActions: z.record(z.unknown()).optional(),
      })
      .strict()
      .default({}),
    metrics: z
      .object({
        source: z.string().trim().min(1).default('prometheus'),
        prometheus: z
          .object({
            url: z
              .string()
              .url()
              .regex(/^https?:\/\//, 'must be an http(s) URL'),
            bearerToken: z.string().min(1).optional(),
            timeoutSeconds: z.number().positive().max(300).default(5),
            maxSeries: z.number().int().positive().default(100_000),
            maxResponseBytes: z
              .number()
              .int()
              .positive()
              .default(16 * 1024 * 1024),
            // Ask for gzip-compressed answers: worth it only when Prometheus
            // is far from the backend.
            compressed: z.boolean().default(false),
          })
          .strict()
          .optional(),
        // The rate window of every signal.
        window: z
          .string()
          .regex(
            /^[1-9][0-9]{0,5}(s|m|h)$/,
            'must be a Prometheus duration such as 5m',
          )
          .default('5m'),
        // How long the overview's upstream answers (PromQL results, workload
        // lists) are shared between callers; 0 reads them for every request.
        cacheSeconds: z.number().min(0).max(600).default(30),
        // How long the Monitoring tab's reads use an entity read from the
        // catalog; who may see it is asked at every read all the same.
        entityCacheSeconds: z.number().min(0).max(300).default(10),
        // Drift from input histograms: the reference is this many hours
        // from when the running revision was deployed.
        driftReferenceHours: z
          .number()
          .positive()
          .max(24 * 30)
          .default(24),
        // Operators' own PromQL per runtime and signal, over the built-in
        // templates; entity annotations never carry PromQL.
        querySets: z
          .object({
            kserve: querySetOverrides,
            triton: querySetOverrides,
            seldon: querySetOverrides,
            generic: querySetOverrides,
          })
          .strict()
          .default({}),
        // SLO thresholds for services whose modelops/slo does not set them.
        slo: z
          .object({
            'latency-p95-ms': z.number().nonnegative().optional(),
            'latency-p99-ms': z.number().nonnegative().optional(),
            'error-rate': z.number().min(0).max(1).optional(),
            'drift-psi': z.number().nonnegative().optional(),
            'min-ready-ratio': z.number().min(0).max(1).optional(),
          })
          .strict()
          .default({}),
        // The label names the series carry (a PodMonitor's defaults).
        labels: z
          .object({
            cluster: z
              .string()
              .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
              .default('cluster'),
            namespace: z
              .string()
              .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
              .default('namespace'),
            service: z
              .string()
              .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
              .default('backstage_io_kubernetes_id'),
            /** The pod's name: what an analysis narrows to a revision's pods by. */
            pod: z
              .string()
              .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
              .default('pod'),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    deployments: z
      .object({
        allowInlineManifests: z.boolean().default(false),
        allowedServiceTypes: serviceTypes.default(['ClusterIP']),
        allowExternalIPs: z.boolean().default(false),
      })
      .strict()
      .default({}),
    // How ModelOps talks to clusters; kubernetes/ClusterClients reads these
    // (defaults there: 5000 ms timeout, 10000 ms cool-down).
    kubernetes: z
      .object({
        requestTimeoutMs: z.number().int().positive().max(300_000).optional(),
        unreachableCooldownMs: z
          .number()
          .int()
          .positive()
          .max(3_600_000)
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The validated `modelops` configuration block. */
export type ModelOpsConfig = z.infer<typeof modelOpsConfigSchema>;

function describeIssue(issue: z.ZodIssue): string {
  const path = ['modelops', ...issue.path].join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map(key => `${path}.${key}: unknown key`).join('; ');
  }
  return `${path}: ${issue.message}`;
}

/**
 * Reads and validates the `modelops` block. Throws an error naming every bad
 * key, so the backend refuses to start with a misconfiguration rather than
 * failing later on a request.
 */
export function readModelOpsConfig(config: Config): ModelOpsConfig {
  const raw = config.getOptional('modelops') ?? {};
  const parsed = modelOpsConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `Invalid modelops configuration: ${parsed.error.issues
        .map(describeIssue)
        .join('; ')}`,
    );
  }
  const value = parsed.data;
  if (
    value.builds.environment &&
    !(value.builds.environment in value.environments)
  ) {
    throw new Error(
      `Invalid modelops configuration: modelops.builds.environment: "${
        value.builds.environment
      }" is not one of modelops.environments (${
        Object.keys(value.environments).join(', ') || 'none configured'
      })`,
    );
  }
  return value;
}
