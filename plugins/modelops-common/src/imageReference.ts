/*
 * OCI image references (`registry/path:tag@digest`), parsed one way for the
 * backend, the frontend and the entity contract.
 */

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`,
);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST_ALGORITHM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
/** Registered algorithms must have their exact lowercase hex length. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** At most this many characters in a whole reference. @public */
export const MAX_IMAGE_REFERENCE_LENGTH = 512;
const MAX_REPOSITORY_LENGTH = 255;

/** The parts of an OCI image reference. @public */
export interface ImageReference {
  /** `registry/path`, without tag or digest. */
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits a reference into repository, tag and digest without validating it;
 * a registry port (`localhost:5000/model`) is not taken for a tag.
 * @public
 */
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

function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  const algorithm = colon > 0 ? digest.slice(0, colon) : '';
  const encoded = colon > 0 ? digest.slice(colon + 1) : '';
  const hexLength = DIGEST_HEX_LENGTH[algorithm];
  const valid =
    hexLength !== undefined
      ? new RegExp(`^[a-f0-9]{${hexLength}}$`).test(encoded)
      : DIGEST_ALGORITHM.test(algorithm) &&
        /^[a-zA-Z0-9=_-]{32,}$/.test(encoded);
  return valid
    ? undefined
    : 'A digest is "sha256:" followed by 64 lowercase hexadecimal characters';
}

function repositoryProblem(
  repository: string,
  example: string,
): string | undefined {
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    return `A repository has at most ${MAX_REPOSITORY_LENGTH} characters`;
  }
  if (REPOSITORY.test(repository)) return undefined;
  const path = repository.includes('/')
    ? repository.slice(repository.indexOf('/') + 1)
    : repository;
  if (/[A-Z]/.test(path)) {
    return `Repository names are lowercase: "${repository}" has capital letters`;
  }
  return `"${repository}" is not a valid repository, expected e.g. ${example}`;
}

/** Options of `imageReferenceProblem`. @public */
export interface ImageReferenceCheck {
  /** Refuse a reference without tag and digest (it would mean `:latest`). */
  requireTagOrDigest?: boolean;
  /** Repository used in the messages' examples. */
  example?: string;
}

/**
 * Why `value` is not an image reference, as a message a user can act on;
 * undefined when it is one. Spaces, quotes and newlines are never part of a
 * valid reference.
 * @public
 */
export function imageReferenceProblem(
  value: string,
  options: ImageReferenceCheck = {},
): string | undefined {
  const example = options.example ?? 'ghcr.io/acme/model';
  if (!value.trim()) {
    return `Enter the full image reference, e.g. ${example}:1.4.2`;
  }
  if (/\s/.test(value)) {
    return 'An image reference cannot contain spaces';
  }
  if (value.length > MAX_IMAGE_REFERENCE_LENGTH) {
    return `An image reference has at most ${MAX_IMAGE_REFERENCE_LENGTH} characters`;
  }
  const { repository, tag, digest } = splitImageReference(value);
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem) return problem;
  }
  if (tag !== undefined && !TAG.test(tag)) {
    return 'A tag has up to 128 letters, digits, "_", "." and "-", and cannot start with "." or "-"';
  }
  const problem = repositoryProblem(repository, example);
  if (problem) return problem;
  if (options.requireTagOrDigest && tag === undefined && digest === undefined) {
    return `Add a tag (e.g. ${repository}:1.4.2) or a digest (${repository}@sha256:...) to say which build to deploy`;
  }
  return undefined;
}

/** The parts of a valid image reference, or undefined. @public */
export function parseImageReference(value: string): ImageReference | undefined {
  return imageReferenceProblem(value) === undefined
    ? splitImageReference(value)
    : undefined;
}

/**
 * Why `value` is not an image repository (a reference without tag or
 * digest, as in `modelops/image`), or undefined.
 * @public
 */
export function imageRepositoryProblem(value: string): string | undefined {
  const problem = imageReferenceProblem(value);
  if (problem) return problem;
  const { tag, digest } = splitImageReference(value);
  return tag !== undefined || digest !== undefined
    ? 'An image repository has no tag or digest'
    : undefined;
}

/** `docker.io/library/x` and `x` name the same repository. */
function normalizeRepository(repository: string): string {
  let r = repository;
  for (const registry of ['docker.io/', 'index.docker.io/']) {
    if (r.startsWith(registry)) r = r.slice(registry.length);
  }
  if (r.startsWith('library/') && r.split('/').length === 2) {
    r = r.slice('library/'.length);
  }
  return r;
}

/** True when a valid image reference is in the given repository. @public */
export function imageInRepository(image: string, repository: string): boolean {
  const parsed = parseImageReference(image);
  return (
    !!parsed &&
    normalizeRepository(parsed.repository) === normalizeRepository(repository)
  );
}
