import {
  AuthService,
  BackstageCredentials,
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import {
  DeploymentHistoryPage,
  DeploymentStatusResponse,
  DeployRequest,
  DeployResponse,
  EntityEnvironmentsResponse,
  ModelOpsApi,
  ModelOpsClient,
} from '@modelops/plugin-modelops-common';

/** Who a call is made for: the credentials of the user or service asking. @public */
export interface ModelOpsServiceOptions {
  credentials: BackstageCredentials;
}

/**
 * The ModelOps operations for other backend plugins and modules (scaffolder
 * actions, agents' actions): each call is made with the caller's credentials,
 * so the portal's permission policy holds exactly as for a user of the
 * Model deployment tab. Refusals surface as `ResponseError`s with the
 * backend's status and message (403 for a user who may not deploy).
 * @public
 */
export interface ModelOpsService {
  getEnvironments(
    request: { entityRef: string },
    options: ModelOpsServiceOptions,
  ): Promise<EntityEnvironmentsResponse>;
  deploy(
    request: DeployRequest,
    options: ModelOpsServiceOptions,
  ): Promise<DeployResponse>;
  rollback(
    request: {
      deploymentId: string;
      dryRun?: boolean;
      force?: boolean;
      prune?: boolean;
    },
    options: ModelOpsServiceOptions,
  ): Promise<DeployResponse>;
  getDeployments(
    request: {
      entityRef: string;
      environment?: string;
      limit?: number;
      cursor?: string;
    },
    options: ModelOpsServiceOptions,
  ): Promise<DeploymentHistoryPage>;
  getDeploymentStatus(
    request: { entityRef: string },
    options: ModelOpsServiceOptions,
  ): Promise<DeploymentStatusResponse>;
}

/**
 * Calls the ModelOps backend through its HTTP API, with a plugin request
 * token issued on behalf of the caller for each call.
 */
class DefaultModelOpsService implements ModelOpsService {
  constructor(
    private readonly auth: AuthService,
    private readonly api: ModelOpsApi,
  ) {}

  async getEnvironments(
    request: { entityRef: string },
    options: ModelOpsServiceOptions,
  ) {
    return this.api.getEnvironments(request, await this.tokenFor(options));
  }

  async deploy(request: DeployRequest, options: ModelOpsServiceOptions) {
    return this.api.deploy(request, await this.tokenFor(options));
  }

  async rollback(
    request: {
      deploymentId: string;
      dryRun?: boolean;
      force?: boolean;
      prune?: boolean;
    },
    options: ModelOpsServiceOptions,
  ) {
    return this.api.rollback(request, await this.tokenFor(options));
  }

  async getDeployments(
    request: {
      entityRef: string;
      environment?: string;
      limit?: number;
      cursor?: string;
    },
    options: ModelOpsServiceOptions,
  ) {
    return this.api.getDeployments(request, await this.tokenFor(options));
  }

  async getDeploymentStatus(
    request: { entityRef: string },
    options: ModelOpsServiceOptions,
  ) {
    return this.api.getDeploymentStatus(request, await this.tokenFor(options));
  }

  private tokenFor(options: ModelOpsServiceOptions): Promise<{
    token: string;
  }> {
    return this.auth.getPluginRequestToken({
      onBehalfOf: options.credentials,
      targetPluginId: 'modelops',
    });
  }
}

/**
 * The ModelOps operations as a backend service, for other plugins and
 * modules: `deps: { modelOps: modelOpsServiceRef }`.
 * @public
 */
export const modelOpsServiceRef = createServiceRef<ModelOpsService>({
  id: 'modelops.service',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: {
        auth: coreServices.auth,
        discovery: coreServices.discovery,
      },
      async factory({ auth, discovery }) {
        return new DefaultModelOpsService(
          auth,
          new ModelOpsClient({ discoveryApi: discovery }),
        );
      },
    }),
});
