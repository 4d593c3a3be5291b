import {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  HealthResponse,
  modelOpsMetricsReadPermission,
} from '@modelops/plugin-modelops-common';
import { HealthService } from '../metrics/HealthService';
import { loadModelService, ModelServiceTarget } from './entities';

/**
 * The monitoring reads as every caller gets them: the entity loaded with the
 * caller's credentials (an entity they may not see is not found), then
 * `modelops.metrics.read` checked against it.
 */
export class AuthorizedMonitoringService {
  constructor(
    private readonly options: {
      catalog: CatalogService;
      permissions: PermissionsService;
      health: HealthService;
    },
  ) {}

  async health(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<HealthResponse> {
    const target = await this.authorized(options);
    return this.options.health.health({ target });
  }

  private async authorized(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<ModelServiceTarget> {
    const target = await loadModelService({
      catalog: this.options.catalog,
      entityRef: options.entityRef,
      credentials: options.credentials,
    });
    const [decision] = await this.options.permissions.authorize(
      [{ permission: modelOpsMetricsReadPermission, resourceRef: target.ref }],
      { credentials: options.credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You may not read the metrics of ${target.ref}: that needs the modelops.metrics.read permission on it`,
      );
    }
    return target;
  }
}
