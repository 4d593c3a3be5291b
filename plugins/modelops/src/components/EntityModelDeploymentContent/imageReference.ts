/*
 * Client-side check of an image reference, so people learn about a typo
 * before a request is sent. The backend stays the authority.
 */

const DOMAIN_COMPONENT = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`,
);
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The parts of a full image reference. */
export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits an image reference into repository, tag and digest without validating it. */
export function splitImageReference(value: string): ImageReference {
  const at = value.indexOf('@');
  const name = at >= 0 ? value.slice(0, at) : value;
  const digest = at >= 0 ? value.slice(at + 1) : undefined;
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  return {
    repository: hasTag ? name.slice(0, colon) : name,
    tag: hasTag ? name.slice(colon + 1) : undefined,
    digest,
  };
}

/**
 * Returns why `value` is not a full image reference (`repository:tag` or
 * `repository@sha256:...`), or undefined when it is one.
 */
export function validateImageReference(
  value: string,
  example = 'ghcr.io/acme/model',
): string | undefined {
  const trimmed = value.trim();
  if (!trimmed) {
    return `Enter the full image reference, e.g. ${example}:1.4.2`;
  }
  if (/\s/.test(trimmed)) {
    return 'An image reference cannot contain spaces';
  }
  const { repository, tag, digest } = splitImageReference(trimmed);
  if (digest !== undefined && !DIGEST.test(digest)) {
    return 'A digest is "sha256:" followed by 64 lowercase hexadecimal characters';
  }
  if (tag !== undefined && !TAG.test(tag)) {
    return 'A tag has up to 128 letters, digits, "_", "." and "-", and cannot start with "." or "-"';
  }
  if (!REPOSITORY.test(repository)) {
    const path = repository.includes('/')
      ? repository.slice(repository.indexOf('/') + 1)
      : repository;
    if (/[A-Z]/.test(path)) {
      return `Repository names are lowercase: "${repository}" has capital letters`;
    }
    return `"${repository}" is not a valid repository, expected e.g. ${example}`;
  }
  if (tag === undefined && digest === undefined) {
    return `Add a tag (e.g. ${repository}:1.4.2) or a digest (${repository}@sha256:...) to say which build to deploy`;
  }
  return undefined;
}
