import { ResponseError } from '@backstage/errors';
import {
  DeploymentHistoryPage,
  DeploymentStatusResponse,
  DeployRequest,
  DeployResponse,
  EntityEnvironmentsResponse,
} from '../types';

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
  /** Deploys (or, with `dryRun`, previews) a model service to an environment. */
  deploy(request: DeployRequest): Promise<DeployResponse>;
  /** Re-applies the manifests of a recorded deployment. */
  rollback(options: {
    deploymentId: string;
    dryRun?: boolean;
    force?: boolean;
  }): Promise<DeployResponse>;
  /** Deployment history, newest first. */
  getDeployments(options: {
    entityRef: string;
    environment?: string;
    limit?: number;
    cursor?: string;
  }): Promise<DeploymentHistoryPage>;
  /** Live rollout status per environment. */
  getDeploymentStatus(options: {
    entityRef: string;
  }): Promise<DeploymentStatusResponse>;
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

  async deploy(request: DeployRequest): Promise<DeployResponse> {
    return this.post<DeployResponse>('/deployments', request);
  }

  async rollback(options: {
    deploymentId: string;
    dryRun?: boolean;
    force?: boolean;
  }): Promise<DeployResponse> {
    const { deploymentId, ...body } = options;
    return this.post<DeployResponse>(
      `/deployments/${encodeURIComponent(deploymentId)}/rollback`,
      body,
    );
  }

  async getDeployments(options: {
    entityRef: string;
    environment?: string;
    limit?: number;
    cursor?: string;
  }): Promise<DeploymentHistoryPage> {
    const query: Record<string, string> = { entityRef: options.entityRef };
    if (options.environment) query.environment = options.environment;
    if (options.limit !== undefined) query.limit = String(options.limit);
    if (options.cursor) query.cursor = options.cursor;
    return this.get<DeploymentHistoryPage>('/deployments', query);
  }

  async getDeploymentStatus(options: {
    entityRef: string;
  }): Promise<DeploymentStatusResponse> {
    return this.get<DeploymentStatusResponse>('/deployments/status', {
      entityRef: options.entityRef,
    });
  }

  private async get<T>(
    path: string,
    query: Record<string, string>,
  ): Promise<T> {
    const search = new URLSearchParams(query).toString();
    return this.request<T>(`${path}${search ? `?${search}` : ''}`);
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  private async request<T>(
    pathAndQuery: string,
    init?: RequestInit,
  ): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('modelops');
    const response = await this.fetchApi.fetch(
      `${baseUrl}${pathAndQuery}`,
      init,
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
