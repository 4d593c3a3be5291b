import { UrlReaderService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { KubeObject } from '../../kubernetes/types';
import { ModelServiceTarget } from '../../service/entities';
import { builtinManifests, BuiltinTemplate } from '../render/templates';
import { readManifestText, resolveManifestUrl, UrlResolver } from './location';
import { parseManifests } from './yaml';

/** Where a deploy's objects come from. */
export interface ManifestSourceRequest {
  target: ModelServiceTarget;
  /** Environment name, for messages. */
  environment: string;
  namespace: string;
  /** The request's own YAML, when it carries one. */
  inline?: string;
  /** Whether the environment accepts inline manifests. */
  allowInline: boolean;
}

/**
 * Loads the objects a deploy starts from, parsed and shape-checked once:
 * the request's inline YAML (where the environment allows it), a built-in
 * template, or the location named by `modelops/manifests`.
 */
export async function loadManifests(
  request: ManifestSourceRequest,
  deps: { urlReader: UrlReaderService; urls?: UrlResolver },
): Promise<KubeObject[]> {
  const { target, inline } = request;
  const { contract } = target;
  if (inline !== undefined) {
    if (!request.allowInline) {
      throw new InputError(
        `Inline manifests are disabled in environment "${request.environment}" (modelops.environments.${request.environment}.allowInlineManifests or modelops.deployments.allowInlineManifests); deploy the manifests named by the entity instead`,
      );
    }
    return parseManifests(inline);
  }
  const source = contract.manifests;
  if (source.startsWith('builtin:')) {
    return builtinManifests(
      source.slice('builtin:'.length) as BuiltinTemplate,
      {
        kubernetesId: contract.kubernetesId!,
        namespace: request.namespace,
        runtime: contract.runtime,
      },
    );
  }
  const url = resolveManifestUrl(target.entity, source, deps.urls);
  return parseManifests(await readManifestText(deps.urlReader, url));
}
