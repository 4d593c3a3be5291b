import {
  AuthService,
  BackstageCredentials,
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import { ModelOpsApi, ModelOpsClient } from '@modelops/plugin-modelops-common';

/** Who a call is made for: the credentials of the user or service asking. @public */
export interface ModelOpsServiceOptions {
  credentials: BackstageCredentials;
}

/**
 * The ModelOps operations for other backend plugins and modules (scaffolder
 * actions, agents' actions): the methods of the API client, each made with
 * the caller's credentials instead of a token, so the portal's permission
 * policy holds exactly as for a user of the Model deployment tab. Refusals
 * surface as `ResponseError`s with the backend's status and message (403 for
 * a user who may not deploy).
 * @public
 */
export type ModelOpsService = {
  [Method in keyof ModelOpsApi]: (
    request: Parameters<ModelOpsApi[Method]>[0],
    options: ModelOpsServiceOptions,
  ) => ReturnType<ModelOpsApi[Method]>;
};

/**
 * Calls the ModelOps backend through its HTTP API, with a plugin request
 * token issued on behalf of the caller for each call.
 */
class DefaultModelOpsService implements ModelOpsService {
  constructor(
    private readonly auth: AuthService,
    private readonly api: ModelOpsApi,
  ) {}

  getEnvironments: ModelOpsService['getEnvironments'] = async (req, opts) =>
    this.api.getEnvironments(req, await this.tokenFor(opts));

  getConfiguredEnvironments: ModelOpsService['getConfiguredEnvironments'] =
    async (req, opts) =>
      this.api.getConfiguredEnvironments(req, await this.tokenFor(opts));

  deploy: ModelOpsService['deploy'] = async (req, opts) =>
    this.api.deploy(req, await this.tokenFor(opts));

  rollback: ModelOpsService['rollback'] = async (req, opts) =>
    this.api.rollback(req, await this.tokenFor(opts));

  getDeploymentAnalysis: ModelOpsService['getDeploymentAnalysis'] = async (
    req,
    opts,
  ) => this.api.getDeploymentAnalysis(req, await this.tokenFor(opts));

  cancelDeploymentAnalysis: ModelOpsService['cancelDeploymentAnalysis'] =
    async (req, opts) =>
      this.api.cancelDeploymentAnalysis(req, await this.tokenFor(opts));

  getDeployments: ModelOpsService['getDeployments'] = async (req, opts) =>
    this.api.getDeployments(req, await this.tokenFor(opts));

  getDeploymentStatus: ModelOpsService['getDeploymentStatus'] = async (
    req,
    opts,
  ) => this.api.getDeploymentStatus(req, await this.tokenFor(opts));

  getHealth: ModelOpsService['getHealth'] = async (req, opts) =>
    this.api.getHealth(req, await this.tokenFor(opts));

  triggerBuild: ModelOpsService['triggerBuild'] = async (req, opts) =>
    this.api.triggerBuild(req, await this.tokenFor(opts));

  getBuilds: ModelOpsService['getBuilds'] = async (req, opts) =>
    this.api.getBuilds(req, await this.tokenFor(opts));

  getBuild: ModelOpsService['getBuild'] = async (req, opts) =>
    this.api.getBuild(req, await this.tokenFor(opts));

  getBuildLogs: ModelOpsService['getBuildLogs'] = async (req, opts) =>
    this.api.getBuildLogs(req, await this.tokenFor(opts));

  cancelBuild: ModelOpsService['cancelBuild'] = async (req, opts) =>
    this.api.cancelBuild(req, await this.tokenFor(opts));

  queryHealth: ModelOpsService['queryHealth'] = async (req, opts) =>
    this.api.queryHealth(req, await this.tokenFor(opts));

  getMetrics: ModelOpsService['getMetrics'] = async (req, opts) =>
    this.api.getMetrics(req, await this.tokenFor(opts));

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
