import { UrlReaderService } from '@backstage/backend-plugin-api';
import { ConfigReader } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  ScmIntegrationRegistry,
  ScmIntegrations,
} from '@backstage/integration';

/*
 * Manifests at a location (`modelops/manifests`): where the location points
 * and reading it through Backstage's UrlReader, size-capped.
 */

/** Resolves a relative URL against a base, as Backstage's integrations do. */
export type UrlResolver = Pick<ScmIntegrationRegistry, 'resolveUrl'>;

/**
 * Without the portal's integrations config: resolves like Backstage does for
 * hosts that no integration names (and for the public defaults, e.g.
 * github.com's `/tree/` and `/blob/` paths).
 */
export const defaultUrlResolver: UrlResolver = ScmIntegrations.fromConfig(
  new ConfigReader({}),
);

/** The largest manifest set read from a location (as for inline manifests). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

function stripUrlPrefix(value: string): string {
  return value.startsWith('url:') ? value.slice('url:'.length) : value;
}

function isAbsoluteUrl(value: string): boolean {
  try {
    return Boolean(new URL(value));
  } catch {
    return false;
  }
}

/**
 * The URL of a `modelops/manifests` location: `url:...` or an absolute URL
 * as is; a path relative to `backstage.io/source-location`, which names a
 * folder (a trailing `/` is added when it lacks one, so the repository or
 * folder it names is not dropped), resolved through the SCM integration of
 * its host (`/tree/` and `/blob/` paths, `/`-rooted repository paths).
 */
export function resolveManifestUrl(
  entity: Entity,
  location: string,
  resolver: UrlResolver = defaultUrlResolver,
): string {
  const value = stripUrlPrefix(location);
  if (isAbsoluteUrl(value)) return new URL(value).toString();
  const annotation =
    entity.metadata.annotations?.['backstage.io/source-location'];
  if (!annotation) {
    throw new InputError(
      `modelops/manifests "${location}" is a relative path, but the entity has no backstage.io/source-location to resolve it against`,
    );
  }
  const base = stripUrlPrefix(annotation.trim());
  if (!isAbsoluteUrl(base)) {
    throw new InputError(
      `modelops/manifests "${location}" is a relative path, but backstage.io/source-location "${annotation}" is not a URL to resolve it against`,
    );
  }
  const folder = base.endsWith('/') ? base : `${base}/`;
  return resolver.resolveUrl({ url: value, base: folder });
}

/** Reads a UrlReader response, stopping as soon as it exceeds `limit` bytes. */
async function readCapped(
  response: {
    stream?: () => NodeJS.ReadableStream;
    buffer: () => Promise<Buffer>;
  },
  limit: number,
): Promise<string> {
  if (!response.stream) {
    const buffer = await response.buffer();
    if (buffer.length > limit) {
      throw new Error(`it is larger than ${limit} bytes`);
    }
    return buffer.toString('utf8');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.stream()) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += bytes.length;
    if (size > limit) {
      throw new Error(`it is larger than ${limit} bytes`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the manifests text at `url`; a 400 naming the URL when it cannot. */
export async function readManifestText(
  urlReader: UrlReaderService,
  url: string,
): Promise<string> {
  try {
    return await readCapped(await urlReader.readUrl(url), MAX_MANIFEST_BYTES);
  } catch (error) {
    throw new InputError(
      `Could not read the manifests at ${url} (modelops/manifests): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
