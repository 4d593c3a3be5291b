import {
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { Entity } from '@backstage/catalog-model';
import { InputError, NotAllowedError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  HealthQueryRequest,
  HealthQueryResponse,
  HealthResponse,
  isModelService,
  MetricsResponse,
  MODEL_SERVICE_TYPE,
  modelOpsMetricsReadPermission,
} from '@modelops/plugin-modelops-common';
import { HealthService } from '../metrics/HealthService';
import { SeriesService } from '../metrics/SeriesService';
import {
  ModelServiceTarget,
  parseFullEntityRef,
  toModelServiceTarget,
  toModelServiceTargetOf,
} from './entities';
import { SharedCache } from '../metrics/SharedCache';

/** What the monitoring reads use of an entity. */
const SUMMARY_FIELDS = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.title',
  'metadata.annotations',
  'spec.type',
  'spec.owner',
  'spec.system',
  'spec.lifecycle',
];

/** A catalog filter key: a dotted field path, as the catalog accepts them. */
const FILTER_KEY = /^[a-zA-Z0-9_\-]+(\.[a-zA-Z0-9_\-/]+)*$/;

/**
 * Decisions asked of the permission framework per request: about 220 bytes
 * each, so a batch stays well below the permission backend's 100 kB body limit.
 */
const AUTHORIZE_BATCH = 250;
/** Permission requests in flight at once. */
const AUTHORIZE_CONCURRENCY = 4;

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
      series: SeriesService;
      auth: AuthService;
      /** How long an entity read from the catalog is used (0: read for every request). */
      entityCacheSeconds: number;
    },
  ) {
    this.entities = new SharedCache(options.entityCacheSeconds * 1000);
  }

  /**
   * The entities of the monitoring reads, which a Monitoring tab asks for
   * several at once and again at every refresh: read with the plugin's own
   * credentials and kept for a few seconds. Who may see them is not kept:
   * every read asks the permission framework for the caller.
   */
  private readonly entities: SharedCache;

  async metrics(options: {
    entityRef: string;
    environment: string;
    start?: string;
    end?: string;
    step?: number;
    credentials: BackstageCredentials;
  }): Promise<MetricsResponse> {
    const { credentials, ...request } = options;
    const target = await this.authorized({
      entityRef: options.entityRef,
      credentials,
    });
    return this.options.series.series({ ...request, target });
  }

  /**
   * The overview: the model services the caller may see in the catalog
   * (explicit refs, or a filter, or all of them), of those the ones whose
   * metrics they may read; the rest are absent, not errors.
   */
  async query(options: {
    request: HealthQueryRequest;
    credentials: BackstageCredentials;
  }): Promise<HealthQueryResponse> {
    const { request, credentials } = options;
    const { catalog } = this.options;
    let entities: (Entity | undefined)[];
    if (request.entityRefs) {
      if (request.filter)
        throw new InputError('Give entityRefs or filter, not both');
      const refs: string[] = [
        ...new Set(request.entityRefs.map(r => parseFullEntityRef(r))),
      ];
      entities = (
        await catalog.getEntitiesByRefs(
          { entityRefs: refs, fields: SUMMARY_FIELDS },
          { credentials },
        )
      ).items;
    } else {
      const filter: Record<string, string | string[]> = {};
      for (const [key, value] of Object.entries(request.filter ?? {})) {
        if (!FILTER_KEY.test(key))
          throw new InputError(
            `Invalid catalog filter key ${JSON.stringify(
              key,
            )}: use a field path such as spec.owner`,
          );
        filter[key] = value as string | string[];
      }
      entities = (
        await catalog.getEntities(
          {
            filter: {
              ...filter,
              kind: 'Component',
              'spec.type': MODEL_SERVICE_TYPE,
            },
            fields: SUMMARY_FIELDS,
          },
          { credentials },
        )
      ).items;
    }
    const targets = entities
      .filter((e): e is Entity => !!e && isModelService(e))
      .map(toModelServiceTarget);
    // One question first: a policy that decides the permission for every
    // entity (allow or deny) answers for the whole catalog at once; only a
    // conditional answer needs a decision per entity.
    const [whole] = await this.options.permissions.authorizeConditional(
      [{ permission: modelOpsMetricsReadPermission }],
      { credentials },
    );
    if (whole?.result === AuthorizeResult.ALLOW)
      return this.options.health.query({ targets });
    if (whole?.result === AuthorizeResult.DENY)
      return this.options.health.query({ targets: [] });
    // The permission backend takes at most 100 kB per request: a few hundred
    // decisions each, a few requests at a time.
    const batches: ModelServiceTarget[][] = [];
    for (let i = 0; i < targets.length; i += AUTHORIZE_BATCH)
      batches.push(targets.slice(i, i + AUTHORIZE_BATCH));
    const allowedByBatch: ModelServiceTarget[][] = new Array(batches.length);
    let next = 0;
    await Promise.all(
      Array.from(
        { length: Math.min(AUTHORIZE_CONCURRENCY, batches.length) },
        async () => {
          while (next < batches.length) {
            const index = next++;
            const batch = batches[index];
            const decisions = await this.options.permissions.authorize(
              batch.map(t => ({
                permission: modelOpsMetricsReadPermission,
                resourceRef: t.ref,
              })),
              { credentials },
            );
            allowedByBatch[index] = batch.filter(
              (_, j) => decisions[j].result === AuthorizeResult.ALLOW,
            );
          }
        },
      ),
    );
    const allowed = allowedByBatch.flat();
    return this.options.health.query({ targets: allowed });
  }

  async health(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<HealthResponse> {
    const target = await this.authorized(options);
    return this.options.health.health({ target });
  }

  /**
   * The model service of a monitoring read, once the caller may see it and
   * read its metrics. Both questions go to the permission framework in one
   * request, asked while the entity is read (the first is the catalog's own
   * read permission, which the catalog would have checked for the caller).
   */
  private async authorized(options: {
    entityRef: string;
    credentials: BackstageCredentials;
  }): Promise<ModelServiceTarget> {
    const ref = parseFullEntityRef(options.entityRef);
    const decided = this.options.permissions
      .authorize(
        [
          { permission: catalogEntityReadPermission, resourceRef: ref },
          { permission: modelOpsMetricsReadPermission, resourceRef: ref },
        ],
        { credentials: options.credentials },
      )
      .then(
        decisions => ({ decisions }),
        (error: unknown) => ({ error }),
      );
    // Only what the reads use (as for the overview), so the cache stays small.
    const { value: entity } = await this.entities.get(
      ref,
      async () =>
        (
          await this.options.catalog.getEntitiesByRefs(
            { entityRefs: [ref], fields: SUMMARY_FIELDS },
            {
              credentials: await this.options.auth.getOwnServiceCredentials(),
            },
          )
        ).items[0],
    );
    const answer = await decided;
    if ('error' in answer) throw answer.error;
    const [visible, metrics] = answer.decisions;
    const target = toModelServiceTargetOf(
      ref,
      visible?.result === AuthorizeResult.ALLOW ? entity : undefined,
    );
    if (metrics?.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You may not read the metrics of ${target.ref}: that needs the modelops.metrics.read permission on it`,
      );
    }
    return target;
  }
}
