import { ResponseError } from '@backstage/errors';
import { EntityEnvironmentsResponse } from '../types';

/** The subset of Backstage's DiscoveryApi the client needs. @public */
export interface ModelOpsDiscovery {
  getBaseUrl(pluginId: string): Promise<string>;
}

/** The subset of Backstage's FetchApi the client needs. @public */
export interface ModelOpsFetch {
  fetch: typeof fetch;
}

/** Typed access to the ModelOps backend. @public */
export interface ModelOpsApi {
  /** Environments the entity resolves to, with per-environment errors. */
  getEnvironments(options: {
    entityRef: string;
  }): Promise<EntityEnvironmentsResponse>;
}

/**
 * HTTP client for the ModelOps backend, usable from the browser (with the
 * Backstage fetchApi, which adds the user's token) and from other backends.
 * @public
 */
export class ModelOpsClient implements ModelOpsApi {
  private readonly discoveryApi: ModelOpsDiscovery;
  private readonly fetchApi: ModelOpsFetch;

  constructor(options: {
    discoveryApi: ModelOpsDiscovery;
    fetchApi?: ModelOpsFetch;
  }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi ?? { fetch: globalThis.fetch };
  }

  async getEnvironments(options: {
    entityRef: string;
  }): Promise<EntityEnvironmentsResponse> {
    return this.get<EntityEnvironmentsResponse>('/environments', {
      entityRef: options.entityRef,
    });
  }

  private async get<T>(
    path: string,
    query: Record<string, string>,
  ): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('modelops');
    const search = new URLSearchParams(query).toString();
    const response = await this.fetchApi.fetch(
      `${baseUrl}${path}${search ? `?${search}` : ''}`,
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
