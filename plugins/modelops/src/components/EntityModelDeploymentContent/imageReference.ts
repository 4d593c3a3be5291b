/*
 * Client-side check of an image reference, so people learn about a typo
 * before a request is sent. The parser is the one the backend uses
 * (`@modelops/plugin-modelops-common`); the backend stays the authority.
 */
import {
  imageReferenceProblem,
  splitImageReference,
} from '@modelops/plugin-modelops-common';

export { splitImageReference };
export type { ImageReference } from '@modelops/plugin-modelops-common';

/**
 * Returns why `value` is not a full image reference (`repository:tag` or
 * `repository@sha256:...`), or undefined when it is one.
 */
export function validateImageReference(
  value: string,
  example = 'ghcr.io/acme/model',
): string | undefined {
  return imageReferenceProblem(value.trim(), {
    requireTagOrDigest: true,
    example,
  });
}
