import { ResponseError } from '@backstage/errors';
import { DefaultApiClient } from '../schema/openapi/generated';
import {
  Analysis,
  Build,
  BuildList,
  BuildLogs,
  TriggerBuildRequest,
  ConfiguredEnvironmentsResponse,
  DeploymentHistoryPage,
  DeploymentStatusResponse,
  DeployRequest,
  DeployResponse,
  EntityEnvironmentsResponse,
  HealthQueryRequest,
  HealthQueryResponse,
  HealthResponse,
  MetricsResponse,
} from '../types';

/**
 * A range of one service's series in one environment: RFC 3339 times
 * (default the last hour) and an optional step in seconds.
 * @public
 */
export interface MetricsRequest {
  entityRef: string;
  environment: string;
  start?: string;
  end?: string;
  step?: number;
}

/** The subset of Backstage's DiscoveryApi the client needs. @public */
export interface ModelOpsDiscovery {
  getBaseUrl(pluginId: string): Promise<string>;
}

/** The subset of Backstage's FetchApi the client needs. @public */
export interface ModelOpsFetch {
  fetch: typeof fetch;
}

/**
 * Per-call options. `token` is a Backstage token to send as the bearer,
 * for callers (other backends) whose fetch does not add one itself.
 * @public
 */
export interface ModelOpsRequestOptions {
  token?: string;
}

/** Typed access to the ModelOps backend. @public */
export interface ModelOpsApi {
  /** Environments the entity resolves to, with per-environment errors. */
  getEnvironments(
    request: { entityRef: string },
    options?: ModelOpsRequestOptions,
  ): Promise<EntityEnvironmentsResponse>;
  /**
   * The environments configured for every model service, before any
   * entity's annotations apply: for choosing environments before the entity
   * exists, as a template form does.
   */
  getConfiguredEnvironments(
    request?: Record<string, never>,
    options?: ModelOpsRequestOptions,
  ): Promise<ConfiguredEnvironmentsResponse>;
  /** Deploys (or, with `dryRun`, previews) a model service to an environment. */
  deploy(
    request: DeployRequest,
    options?: ModelOpsRequestOptions,
  ): Promise<DeployResponse>;
  /** Re-applies the manifests of a recorded deployment. */
  rollback(
    request: {
      deploymentId: string;
      dryRun?: boolean;
      force?: boolean;
      prune?: boolean;
    },
    options?: ModelOpsRequestOptions,
  ): Promise<DeployResponse>;
  /** The SLO analysis of a deployed revision (a 404 when it had none). */
  getDeploymentAnalysis(
    request: { deploymentId: string },
    options?: ModelOpsRequestOptions,
  ): Promise<Analysis>;
  /** Stops a running analysis; the revision stays. */
  cancelDeploymentAnalysis(
    request: { deploymentId: string },
    options?: ModelOpsRequestOptions,
  ): Promise<Analysis>;
  /** Deployment history, newest first. */
  getDeployments(
    request: {
      entityRef: string;
      environment?: string;
      limit?: number;
      cursor?: string;
    },
    options?: ModelOpsRequestOptions,
  ): Promise<DeploymentHistoryPage>;
  /** Live rollout status per environment. */
  getDeploymentStatus(
    request: { entityRef: string },
    options?: ModelOpsRequestOptions,
  ): Promise<DeploymentStatusResponse>;
  /** Health per environment: each signal against its thresholds. */
  getHealth(
    request: { entityRef: string },
    options?: ModelOpsRequestOptions,
  ): Promise<HealthResponse>;
  /** Many services' health at once (the overview): refs, a catalog filter, or every model service. */
  queryHealth(
    request?: HealthQueryRequest,
    options?: ModelOpsRequestOptions,
  ): Promise<HealthQueryResponse>;
  /** Series per signal over a range in one environment, with the range's deploys. */
  getMetrics(
    request: MetricsRequest,
    options?: ModelOpsRequestOptions,
  ): Promise<MetricsResponse>;
  /** Builds the entity's image; the same idempotency key gives the same build. */
  triggerBuild(
    request: TriggerBuildRequest,
    options?: ModelOpsRequestOptions,
  ): Promise<Build>;
  /** An entity's builds, newest first. */
  getBuilds(
    request: { entityRef: string; limit?: number; cursor?: string },
    options?: ModelOpsRequestOptions,
  ): Promise<BuildList>;
  /** One build, as its builder reports it now. */
  getBuild(
    request: { id: string },
    options?: ModelOpsRequestOptions,
  ): Promise<Build>;
  /** A page of a build's log; pass the previous page's `next` as `after` to follow it. */
  getBuildLogs(
    request: { id: string; after?: string; limitBytes?: number },
    options?: ModelOpsRequestOptions,
  ): Promise<BuildLogs>;
  /** Cancels a queued or running build. */
  cancelBuild(
    request: { id: string },
    options?: ModelOpsRequestOptions,
  ): Promise<Build>;
}

/** The body of a successful answer; a Backstage ResponseError otherwise. */
async function ok<T>(
  response: Omit<Response, 'json'> & { json(): Promise<T> },
): Promise<T> {
  if (!response.ok) {
    throw await ResponseError.fromResponse(response as Response);
  }
  return response.json();
}

/**
 * Client of the ModelOps backend, usable from the browser (with the Backstage
 * fetchApi, which adds the user's token) and from other backends (with a
 * token per call). The requests themselves are the client generated from the
 * OpenAPI spec; this class turns error answers into `ResponseError`s.
 * @public
 */
export class ModelOpsClient implements ModelOpsApi {
  private readonly api: DefaultApiClient;

  constructor(options: {
    discoveryApi: ModelOpsDiscovery;
    fetchApi?: ModelOpsFetch;
  }) {
    this.api = new DefaultApiClient({
      discoveryApi: options.discoveryApi,
      fetchApi: options.fetchApi ?? { fetch: globalThis.fetch },
    });
  }

  async getEnvironments(
    request: { entityRef: string },
    options?: ModelOpsRequestOptions,
  ): Promise<EntityEnvironmentsResponse> {
    return ok(await this.api.getEnvironments({ query: request }, options));
  }

  async getConfiguredEnvironments(
    _request?: Record<string, never>,
    options?: ModelOpsRequestOptions,
  ): Promise<ConfiguredEnvironmentsResponse> {
    return ok(await this.api.getConfiguredEnvironments({}, options));
  }

  async deploy(
    request: DeployRequest,
    options?: ModelOpsRequestOptions,
  ): Promise<DeployResponse> {
    return ok(await this.api.createDeployment({ body: request }, options));
  }

  async getDeploymentAnalysis(
    request: { deploymentId: string },
    options?: ModelOpsRequestOptions,
  ): Promise<Analysis> {
    return ok(
      await this.api.getDeploymentAnalysis(
        { path: { id: request.deploymentId } },
        options,
      ),
    );
  }

  async cancelDeploymentAnalysis(
    request: { deploymentId: string },
    options?: ModelOpsRequestOptions,
  ): Promise<Analysis> {
    return ok(
      await this.api.cancelDeploymentAnalysis(
        { path: { id: request.deploymentId } },
        options,
      ),
    );
  }

  async rollback(
    request: {
      deploymentId: string;
      dryRun?: boolean;
      force?: boolean;
      prune?: boolean;
    },
    options?: ModelOpsRequestOptions,
  ): Promise<DeployResponse> {
    const { deploymentId, ...body } = request;
    return ok(
      await this.api.rollbackDeployment(
        { path: { id: deploymentId }, body },
        options,
      ),
    );
  }

  async getDeployments(
    request: {
      entityRef: string;
      environment?: string;
      limit?: number;
      cursor?: string;
    },
    options?: ModelOpsRequestOptions,
  ): Promise<DeploymentHistoryPage> {
    return ok(await this.api.listDeployments({ query: request }, options));
  }

  async getDeploymentStatus(
    request: { entityRef: string },
    options?: ModelOpsRequestOptions,
  ): Promise<DeploymentStatusResponse> {
    return ok(await this.api.getDeploymentStatus({ query: request }, options));
  }

  async getHealth(
    request: { entityRef: string },
    options?: ModelOpsRequestOptions,
  ): Promise<HealthResponse> {
    return ok(await this.api.getHealth({ query: request }, options));
  }

  async queryHealth(
    request: HealthQueryRequest = {},
    options?: ModelOpsRequestOptions,
  ): Promise<HealthQueryResponse> {
    return ok(await this.api.queryHealth({ body: request }, options));
  }

  async getMetrics(
    request: MetricsRequest,
    options?: ModelOpsRequestOptions,
  ): Promise<MetricsResponse> {
    return ok(await this.api.getMetrics({ query: request }, options));
  }

  async triggerBuild(
    request: TriggerBuildRequest,
    options?: ModelOpsRequestOptions,
  ): Promise<Build> {
    return ok(await this.api.triggerBuild({ body: request }, options));
  }

  async getBuilds(
    request: { entityRef: string; limit?: number; cursor?: string },
    options?: ModelOpsRequestOptions,
  ): Promise<BuildList> {
    return ok(await this.api.listBuilds({ query: request }, options));
  }

  async getBuild(
    request: { id: string },
    options?: ModelOpsRequestOptions,
  ): Promise<Build> {
    return ok(await this.api.getBuild({ path: request }, options));
  }

  async getBuildLogs(
    request: { id: string; after?: string; limitBytes?: number },
    options?: ModelOpsRequestOptions,
  ): Promise<BuildLogs> {
    const { id, ...query } = request;
    return ok(await this.api.getBuildLogs({ path: { id }, query }, options));
  }

  async cancelBuild(
    request: { id: string },
    options?: ModelOpsRequestOptions,
  ): Promise<Build> {
    return ok(await this.api.cancelBuild({ path: request }, options));
  }
}
