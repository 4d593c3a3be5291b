/*
 * Kubernetes name and label patterns, defined once for the backend, the
 * frontend and the configuration.
 */

/**
 * An RFC 1123 label: namespaces and environment names (lowercase letters,
 * digits and "-", alphanumeric at both ends, at most 63 characters).
 * @public
 */
export const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * An RFC 1123 subdomain: what `metadata.name` must be for most kinds
 * (dot-separated labels); the length limit is checked by `isDnsSubdomain`.
 * @public
 */
export const DNS_SUBDOMAIN_PATTERN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A non-empty Kubernetes label value: at most 63 letters, digits, "-", "_"
 * or ".", alphanumeric at both ends.
 * @public
 */
export const LABEL_VALUE_PATTERN =
  /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** True for an RFC 1123 label. @public */
export function isDnsLabel(value: string): boolean {
  return DNS_LABEL_PATTERN.test(value);
}

/** True for an RFC 1123 subdomain of at most 253 characters. @public */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN_PATTERN.test(value);
}

/** True for a non-empty Kubernetes label value. @public */
export function isLabelValue(value: string): boolean {
  return LABEL_VALUE_PATTERN.test(value);
}
