import { Config } from '@backstage/config';
import { DNS_LABEL_PATTERN } from '@modelops/plugin-modelops-common';
import { z } from 'zod';

const dnsLabel = z
  .string()
  .regex(
    DNS_LABEL_PATTERN,
    'must be a lowercase RFC 1123 label (letters, digits and "-", at most 63 characters)',
  );

/** Service `spec.type` values a deploy may use. */
const serviceTypes = z
  .array(z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']))
  .min(1, 'must list at least one Service type');

const environmentSchema = z
  .object({
    cluster: z.string().trim().min(1, 'must name a cluster'),
    namespace: dnsLabel,
    allowedNamespaces: z.array(dnsLabel).optional(),
    // Per-environment overrides of modelops.deployments.
    allowInlineManifests: z.boolean().optional(),
    allowedServiceTypes: serviceTypes.optional(),
    allowExternalIPs: z.boolean().optional(),
  })
  .strict();

const modelOpsConfigSchema = z
  .object({
    environments: z.record(dnsLabel, environmentSchema).default({}),
    builds: z
      .object({
        provider: z.string().trim().min(1).default('kaniko'),
        environment: dnsLabel.optional(),
        namespace: dnsLabel.default('modelops-builds'),
      })
      .strict()
      .default({}),
    metrics: z
      .object({
        source: z.string().trim().min(1).default('prometheus'),
        prometheus: z
          .object({
            url: z.string().url(),
            bearerToken: z.string().min(1).optional(),
            timeoutSeconds: z.number().positive().max(300).default(15),
          })
          .strict()
          .optional(),
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
