import {
  ApiException,
  HttpMethod,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  ResponseContext,
  V1APIResource,
} from '@kubernetes/client-node';
import { ResourceIndex } from './ResourceIndex';
import { ApplyOptions, KubeObject } from './types';

/** Parses a JSON answer; anything else stays the text it was. */
export function parseJson(body: unknown): unknown {
  if (typeof body !== 'string' || !body) return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/**
 * `KubernetesObjectApi` answering with the objects exactly as the server sent
 * them. Its typed models would otherwise rebuild built-in kinds from the
 * fields client-node knows (dropping newer or misspelt fields, turning
 * timestamps into Dates) and take a CRD whose kind shares a built-in name
 * (Knative's serving.knative.dev/v1 Service) for the built-in type.
 */
export class JsonObjectApi extends KubernetesObjectApi {
  protected override async processResponse<T extends KubernetesObject>(
    response: ResponseContext,
  ): Promise<T> {
    const body = parseJson(await response.body.text());
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) {
      return body as T;
    }
    throw new ApiException(
      response.httpStatusCode,
      `HTTP ${response.httpStatusCode}`,
      body,
      response.headers,
    );
  }

  /** Server-side apply of `object`, sent as is (JSON is YAML). */
  async serverSideApply(
    object: KubeObject,
    options: ApplyOptions,
  ): Promise<KubeObject> {
    const spec = object as unknown as KubernetesObject;
    const path = await this.specUriPath(spec, 'patch');
    const context = this.configuration.baseServer.makeRequestContext(
      path,
      HttpMethod.PATCH,
    );
    context.setHeaderParam('Accept', 'application/json');
    context.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    context.setQueryParam('fieldManager', options.fieldManager);
    context.setQueryParam('force', String(options.force));
    if (options.dryRun) context.setQueryParam('dryRun', 'All');
    context.setQueryParam('fieldValidation', 'Strict');
    context.setBody(JSON.stringify(object));
    return (await this.requestPromise(context)) as unknown as KubeObject;
  }

  /**
   * Lets object paths come from ModelOps's discovery, so reading or applying
   * an object does not ask the server for its group's resources again.
   */
  useDiscovery(index: ResourceIndex): void {
    const byApiVersion = new Map<string, V1APIResource[]>();
    for (const r of index.resources) {
      const list = byApiVersion.get(r.apiVersion) ?? [];
      list.push({
        name: r.plural,
        singularName: '',
        kind: r.kind,
        namespaced: r.namespaced,
        verbs: r.verbs,
      });
      byApiVersion.set(r.apiVersion, list);
    }
    for (const [groupVersion, resources] of byApiVersion) {
      this.apiVersionResourceCache[groupVersion] = { groupVersion, resources };
    }
  }

  /** A GET of a discovery document, with the given Accept header. */
  async discoveryDocument(path: string, accept: string): Promise<unknown> {
    const context = this.configuration.baseServer.makeRequestContext(
      path,
      HttpMethod.GET,
    );
    context.setHeaderParam('Accept', accept);
    return this.requestPromise(context);
  }
}
