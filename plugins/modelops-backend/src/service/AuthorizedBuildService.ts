import {
  AuditorService,
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  Build,
  BuildList,
  BuildLogs,
  modelOpsBuildCreatePermission,
  modelOpsDeploymentCreatePermission,
  TriggerBuildRequest,
} from '@modelops/plugin-modelops-common';
import type { Request } from 'express';
import { StoredBuild } from '../builds/BuildStore';
import { BuildService } from '../builds/BuildService';
import { loadModelService, ModelServiceTarget, principalRef } from './entities';

/**
 * The build operations as every caller gets them: the entity loaded with
 * the caller's credentials (a build of an entity they may not see does not
 * exist for them), `modelops.build.create` checked against it for triggers
 * and cancels (and `modelops.deployment.create` for a build that deploys),
 * writes audited.
 */
export class AuthorizedBuildService {
  constructor(
    private readonly options: {
      catalog: CatalogService;
      permissions: PermissionsService;
      auth: AuthService;
      auditor: AuditorService;
      builds: BuildService;
    },
  ) {}

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

  /** A build whose entity the caller may see; a 404 otherwise, revealing nothing. */
  private async visible(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<{ build: StoredBuild; target: ModelServiceTarget }> {
    const build = await this.options.builds.get(id);
    const target = await this.load(build.entityRef, credentials).catch(
      error => {
        if (error?.name === 'NotFoundError')
          throw new NotFoundError(`No build with id ${id}`);
        throw error;
      },
    );
    return { build, target };
  }

  private async require(
    target: ModelServiceTarget,
    credentials: BackstageCredentials,
    deploys: boolean,
  ): Promise<void> {
    const permissions = [modelOpsBuildCreatePermission];
    if (deploys) permissions.push(modelOpsDeploymentCreatePermission);
    const decisions = await this.options.permissions.authorize(
      permissions.map(permission => ({ permission, resourceRef: target.ref })),
      { credentials },
    );
    decisions.forEach((d, i) => {
      if (d.result !== AuthorizeResult.ALLOW)
        throw new NotAllowedError(
          `You may not ${i === 0 ? 'build' : 'deploy'} ${
            target.ref
          }: that needs the ${
            permissions[i]!.name
          } permission on it, which the service's owners and platform admins have`,
        );
    });
  }

  private principalRef(credentials: BackstageCredentials): string {
    return principalRef(this.options.auth, credentials, 'Builds');
  }

  async trigger(options: {
    request: TriggerBuildRequest;
    credentials: BackstageCredentials;
    httpRequest?: Request;
  }): Promise<{ build: Build; created: boolean; reused?: boolean }> {
    const { request, credentials } = options;
    const target = await this.load(request.entityRef, credentials);
    const audit = await this.options.auditor.createEvent({
      eventId: 'build',
      severityLevel: 'medium',
      request: options.httpRequest,
      meta: {
        entityRef: target.ref,
        ...(request.ref ? { ref: request.ref } : {}),
        ...(request.deployTo ? { deployTo: request.deployTo } : {}),
      },
    });
    try {
      await this.require(target, credentials, request.deployTo !== undefined);
      const result = await this.options.builds.trigger({
        target,
        request,
        requestedBy: this.principalRef(credentials),
      });
      await audit.success({
        meta: {
          buildId: result.build.id,
          created: result.created,
          ...(result.reused ? { reused: true } : {}),
        },
      });
      return result;
    } catch (error) {
      await audit.fail({ error: error as Error });
      throw error;
    }
  }

  async list(options: {
    entityRef: string;
    limit?: number;
    cursor?: string;
    credentials: BackstageCredentials;
  }): Promise<BuildList> {
    const target = await this.load(options.entityRef, options.credentials);
    return this.options.builds.list({
      entityRef: target.ref,
      limit: options.limit ?? 20,
      cursor: options.cursor,
    });
  }

  async get(options: {
    id: string;
    credentials: BackstageCredentials;
  }): Promise<Build> {
    const { build } = await this.visible(options.id, options.credentials);
    return this.options.builds.current(build);
  }

  async logs(options: {
    id: string;
    after?: string;
    limitBytes?: number;
    credentials: BackstageCredentials;
  }): Promise<BuildLogs> {
    const { build } = await this.visible(options.id, options.credentials);
    return this.options.builds.logs({
      build,
      after: options.after,
      limitBytes: options.limitBytes ?? 256 * 1024,
    });
  }

  async cancel(options: {
    id: string;
    credentials: BackstageCredentials;
    httpRequest?: Request;
  }): Promise<Build> {
    const { build, target } = await this.visible(
      options.id,
      options.credentials,
    );
    const audit = await this.options.auditor.createEvent({
      eventId: 'build-cancel',
      severityLevel: 'medium',
      request: options.httpRequest,
      meta: { entityRef: target.ref, buildId: build.id },
    });
    try {
      await this.require(target, options.credentials, false);
      const result = await this.options.builds.cancel(build);
      await audit.success();
      return result;
    } catch (error) {
      await audit.fail({ error: error as Error });
      throw error;
    }
  }
}
