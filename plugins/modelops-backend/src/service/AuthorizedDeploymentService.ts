import {
  AuditorService,
  AuditorServiceEvent,
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  Analysis,
  ConfiguredEnvironmentsResponse,
  DeploymentHistoryPage,
  DeploymentStatusResponse,
  DeployRequest,
  DeployResponse,
  EntityEnvironmentsResponse,
  modelOpsDeploymentCreatePermission,
} from '@modelops/plugin-modelops-common';
import type { Request } from 'express';
import type { AnalysisService } from '../analysis/AnalysisService';
import { DeploymentStore } from '../database/DeploymentStore';
import { DeploymentService } from './DeploymentService';
import { loadModelService, ModelServiceTarget, principalRef } from './entities';
import { EnvironmentService } from './EnvironmentService';

/**
 * The deploy operations as every caller gets them: the router, and through
 * it the service ref other plugins use. Each call loads the entity once with
 * the caller's credentials (so the catalog's read permission applies), checks
 * the ModelOps permission against that entity for writes, audits writes, and
 * hands the loaded target to the engine.
 */
export class AuthorizedDeploymentService {
  constructor(
    private readonly options: {
      catalog: CatalogService;
      permissions: PermissionsService;
      auth: AuthService;
      auditor: AuditorService;
      environments: EnvironmentService;
      deployments: DeploymentService;
      store: DeploymentStore;
      analyses?: AnalysisService;
    },
  ) {}

  async environments(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<EntityEnvironmentsResponse> {
    const target = await this.load(options.entityRef, options.credentials);
    return this.options.environments.resolve({ target });
  }

  /**
   * The configured environments, for any signed-in caller: their names,
   * clusters and default namespaces are what a deploy form offers anyway,
   * and no entity is involved to check a permission against.
   */
  configuredEnvironments(): ConfiguredEnvironmentsResponse {
    return { items: this.options.environments.configured() };
  }

  async status(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<DeploymentStatusResponse> {
    const target = await this.load(options.entityRef, options.credentials);
    return this.options.deployments.status({ target });
  }

  async history(options: {
    entityRef: string;
    environment?: string;
    limit?: number;
    cursor?: string;
    credentials: BackstageCredentials;
  }): Promise<DeploymentHistoryPage> {
    const target = await this.load(options.entityRef, options.credentials);
    const page = await this.options.store.list({
      entityRef: target.ref,
      environment: options.environment,
      limit: options.limit ?? 20,
      cursor: options.cursor,
    });
    return { items: page.items, nextCursor: page.nextCursor };
  }

  async deploy(options: {
    request: DeployRequest;
    credentials: BackstageCredentials;
    /** The HTTP request, when there is one, for the audit record. */
    httpRequest?: Request;
  }): Promise<DeployResponse> {
    const { request, credentials } = options;
    // The one rule of the body that the OpenAPI schema cannot say clearly.
    const sources = (['image', 'buildId', 'fromEnvironment'] as const).filter(
      field => request[field] !== undefined,
    );
    if (sources.length > 1) {
      throw new InputError(
        `Invalid deploy request: pass one of image, buildId or fromEnvironment, not ${sources.join(
          ' and ',
        )}`,
      );
    }
    const target = await this.load(request.entityRef, credentials);
    const dryRun = request.dryRun ?? false;
    return this.audited(
      {
        eventId: 'deploy',
        dryRun,
        httpRequest: options.httpRequest,
        meta: {
          entityRef: target.ref,
          environment: request.environment,
          dryRun,
          force: request.force ?? false,
          prune: request.prune ?? false,
          action: request.fromEnvironment ? 'promote' : 'deploy',
          ...(request.buildId ? { buildId: request.buildId } : {}),
        },
      },
      async () => {
        await this.authorizeDeploy(target, credentials);
        return this.options.deployments.deploy({
          target,
          environment: request.environment,
          image: request.image,
          buildId: request.buildId,
          fromEnvironment: request.fromEnvironment,
          manifests: request.manifests,
          dryRun,
          force: request.force ?? false,
          prune: request.prune ?? false,
          requestedBy: this.principalRef(credentials),
          analysis: request.analysis,
        });
      },
      deploymentMeta,
    );
  }

  /** A deployment and its entity as the caller may see them; a 404 otherwise. */
  private async visibleDeployment(
    deploymentId: string,
    credentials: BackstageCredentials,
  ) {
    const deployment = await this.options.deployments.getDeployment(
      deploymentId,
    );
    // A deployment of an entity the caller may not see does not exist for
    // them: the answer must not reveal the entity.
    const target = await this.load(deployment.entityRef, credentials).catch(
      error => {
        if (error?.name === 'NotFoundError') {
          throw new NotFoundError(`No deployment with id ${deploymentId}`);
        }
        throw error;
      },
    );
    return { deployment, target };
  }

  private requireAnalyses(): AnalysisService {
    if (!this.options.analyses)
      throw new NotFoundError('Analyses are not enabled in this backend');
    return this.options.analyses;
  }

  /** The analysis of a deployment, for anyone who may see its entity. */
  async analysis(options: {
    deploymentId: string;
    credentials: BackstageCredentials;
  }): Promise<Analysis> {
    const { deployment } = await this.visibleDeployment(
      options.deploymentId,
      options.credentials,
    );
    return this.requireAnalyses().ofDeployment(deployment.id);
  }

  /** Stops a running analysis; needs the deploy permission on the entity. */
  async cancelAnalysis(options: {
    deploymentId: string;
    credentials: BackstageCredentials;
    httpRequest?: Request;
  }): Promise<Analysis> {
    const { deployment, target } = await this.visibleDeployment(
      options.deploymentId,
      options.credentials,
    );
    const analyses = this.requireAnalyses();
    return this.audited(
      {
        eventId: 'analysis-cancel',
        dryRun: false,
        httpRequest: options.httpRequest,
        meta: { entityRef: target.ref, deploymentId: deployment.id },
      },
      async () => {
        await this.authorizeDeploy(target, options.credentials);
        return analyses.cancel(
          deployment.id,
          this.principalRef(options.credentials),
        );
      },
      analysis => ({ status: analysis.status }),
    );
  }

  async rollback(options: {
    deploymentId: string;
    dryRun?: boolean;
    force?: boolean;
    prune?: boolean;
    credentials: BackstageCredentials;
    httpRequest?: Request;
  }): Promise<DeployResponse> {
    const { deploymentId, credentials } = options;
    const { deployment, target } = await this.visibleDeployment(
      deploymentId,
      credentials,
    );
    const dryRun = options.dryRun ?? false;
    return this.audited(
      {
        eventId: 'rollback',
        dryRun,
        httpRequest: options.httpRequest,
        meta: {
          entityRef: target.ref,
          targetDeploymentId: deploymentId,
          dryRun,
          prune: options.prune ?? false,
        },
      },
      async () => {
        await this.authorizeDeploy(target, credentials);
        return this.options.deployments.rollback({
          target,
          deployment,
          dryRun,
          force: options.force ?? false,
          prune: options.prune ?? false,
          requestedBy: this.principalRef(credentials),
        });
      },
      deploymentMeta,
    );
  }

  private load(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<ModelServiceTarget> {
    return loadModelService({
      catalog: this.options.catalog,
      entityRef,
      credentials,
    });
  }

  private async authorizeDeploy(
    target: ModelServiceTarget,
    credentials: BackstageCredentials,
  ): Promise<void> {
    const [decision] = await this.options.permissions.authorize(
      [
        {
          permission: modelOpsDeploymentCreatePermission,
          resourceRef: target.ref,
        },
      ],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You may not deploy ${target.ref}: that needs the modelops.deployment.create permission on it, which the service's owners and platform admins have`,
      );
    }
  }

  private principalRef(credentials: BackstageCredentials): string {
    return principalRef(this.options.auth, credentials, 'Deploys');
  }

  /**
   * Runs a write as one audit event: medium severity (low for a dry run),
   * success with what `resultMeta` reads from the result, or failure.
   */
  private async audited<T>(
    event: {
      eventId: string;
      dryRun: boolean;
      httpRequest?: Request;
      meta: Record<string, string | boolean>;
    },
    fn: () => Promise<T>,
    resultMeta: (result: T) => ResultMeta,
  ): Promise<T> {
    const audit = await this.options.auditor.createEvent({
      eventId: event.eventId,
      severityLevel: event.dryRun ? 'low' : 'medium',
      request: event.httpRequest,
      meta: event.meta,
    });
    try {
      const result = await fn();
      await audit.success({ meta: resultMeta(result) });
      return result;
    } catch (error) {
      await audit.fail({ error: error as Error });
      throw error;
    }
  }
}

/** What an audit event records of a write's result. */
type ResultMeta = NonNullable<
  NonNullable<Parameters<AuditorServiceEvent['success']>[0]>['meta']
>;

/** What a deploy or rollback's audit event records of its result. */
function deploymentMeta(result: DeployResponse): ResultMeta {
  return {
    deploymentId: result.deployment.id,
    revision: result.deployment.revision ?? null,
  };
}
