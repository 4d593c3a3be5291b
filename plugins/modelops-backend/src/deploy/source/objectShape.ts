import { isDnsSubdomain } from '@modelops/plugin-modelops-common';

/*
 * The identity fields every Kubernetes object needs, checked once, when the
 * manifests are parsed.
 */

function describeValueType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks apiVersion, kind, metadata.name (an RFC 1123 subdomain),
 * metadata.namespace and that labels and annotations are strings. Returns
 * the problems; empty when the value is a Kubernetes object.
 */
export function checkObjectShape(value: unknown): string[] {
  if (!isRecord(value)) {
    return [
      `must be a mapping (a Kubernetes object), not ${describeValueType(
        value,
      )}`,
    ];
  }
  const problems: string[] = [];
  if (typeof value.apiVersion !== 'string' || !value.apiVersion.trim()) {
    problems.push('apiVersion must be a non-empty string');
  }
  if (typeof value.kind !== 'string' || !value.kind.trim()) {
    problems.push('kind must be a non-empty string');
  } else if (/List$/.test(value.kind) && Array.isArray(value.items)) {
    problems.push(
      `kind ${value.kind} is not supported; put each object in its own YAML document`,
    );
  }
  const metadata = value.metadata;
  if (!isRecord(metadata)) {
    problems.push('metadata must be a mapping with a name');
    return problems;
  }
  if (typeof metadata.name !== 'string' || !metadata.name) {
    problems.push(
      metadata.generateName
        ? 'metadata.name is required (generateName cannot be applied repeatably)'
        : 'metadata.name must be a non-empty string',
    );
  } else if (!isDnsSubdomain(metadata.name)) {
    problems.push(
      `metadata.name "${metadata.name}" is not a valid name (lowercase letters, digits, "-" and ".", alphanumeric at both ends, at most 253 characters)`,
    );
  }
  if (
    metadata.namespace !== undefined &&
    (typeof metadata.namespace !== 'string' || !metadata.namespace)
  ) {
    problems.push('metadata.namespace must be a non-empty string when set');
  }
  for (const key of ['labels', 'annotations'] as const) {
    const map = metadata[key];
    if (map === undefined || map === null) continue;
    if (!isRecord(map)) {
      problems.push(`metadata.${key} must be a mapping of strings`);
      continue;
    }
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') {
        problems.push(
          `metadata.${key}["${k}"] must be a string (quote it), not ${describeValueType(
            v,
          )}`,
        );
      }
    }
  }
  return problems;
}
