import { FieldChange } from '@modelops/plugin-modelops-common';

/** Metadata fields the server owns; they change on every write. */
const IGNORED_METADATA = [
  'managedFields',
  'resourceVersion',
  'generation',
  'uid',
  'creationTimestamp',
  'selfLink',
];

/**
 * A copy of an object without the fields that are not part of what a user
 * deploys: server-owned metadata and `status`.
 */
export function normalizeForDiff(object: unknown): Record<string, unknown> {
  if (!object || typeof object !== 'object') return {};
  const copy = structuredClone(object) as Record<string, any>;
  delete copy.status;
  if (copy.metadata && typeof copy.metadata === 'object') {
    for (const key of IGNORED_METADATA) delete copy.metadata[key];
  }
  return copy;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function childPath(parent: string, key: string): string {
  if (IDENTIFIER.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmptyContainer(value: unknown): boolean {
  return (
    (Array.isArray(value) && value.length === 0) ||
    (isPlainObject(value) && Object.keys(value).length === 0)
  );
}

function walk(
  before: unknown,
  after: unknown,
  path: string,
  out: FieldChange[],
): void {
  if (before === after) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of [...keys].sort()) {
      walk(before[key], after[key], childPath(path, key), out);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) {
      walk(before[i], after[i], `${path}[${i}]`, out);
    }
    return;
  }
  // One side absent or a different type: report the leaves of the present side(s)
  // so paths stay precise (e.g. a new container's fields).
  if (before === undefined && (isPlainObject(after) || Array.isArray(after))) {
    if (isEmptyContainer(after)) {
      out.push({ path, after });
      return;
    }
    walk(Array.isArray(after) ? [] : {}, after, path, out);
    return;
  }
  if (after === undefined && (isPlainObject(before) || Array.isArray(before))) {
    if (isEmptyContainer(before)) {
      out.push({ path, before });
      return;
    }
    walk(before, Array.isArray(before) ? [] : {}, path, out);
    return;
  }
  const change: FieldChange = { path };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  out.push(change);
}

/**
 * The changed fields between two objects as dotted paths with array
 * indexes (`spec.template.spec.containers[0].image`); keys that are not
 * identifiers are quoted (`metadata.labels["app.kubernetes.io/name"]`).
 * Server-owned metadata and `status` are ignored.
 */
export function diffObjects(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk(normalizeForDiff(before), normalizeForDiff(after), '', out);
  return out;
}
