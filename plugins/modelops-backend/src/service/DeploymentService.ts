import { LoggerService, UrlReaderService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  DeploymentRecord,
  DeploymentStatusResponse,
  DeployResponse,
  EnvironmentStatus,
  ModelOpsEnvironment,
  ModelServiceContract,
} from '@modelops/plugin-modelops-common';
import { ModelOpsConfig } from '../config';
import {
  DeploymentStore,
  NewDeployment,
  StoredDeployment,
} from '../database/DeploymentStore';
import { applyObjects } from '../deploy/apply';
import {
  builtinManifests,
  parseManifests,
  renderManifests,
} from '../deploy/manifests';
import { readRolloutStatus } from '../deploy/status';
import { validateObjects } from '../deploy/validate';
import { ClusterClients } from '../kubernetes/ClusterClients';
import { KubeObject } from '../kubernetes/types';
import { ModelServiceTarget } from './entities';
import { EnvironmentService } from './EnvironmentService';

/** Strips the stored manifests: the API answers with records only. */
export function toRecord(stored: StoredDeployment): DeploymentRecord {
  const { manifests: _manifests, ...record } = stored;
  return record;
}

/** The largest manifest set read from a location (as for inline manifests). */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** Reads a UrlReader response, stopping as soon as it exceeds `limit` bytes. */
async function readCapped(
  response: {
    stream?: () => NodeJS.ReadableStream;
    buffer: () => Promise<Buffer>;
  },
  limit: number,
): Promise<string> {
  if (!response.stream) {
    const buffer = await response.buffer();
    if (buffer.length > limit) {
      throw new Error(`it is larger than ${limit} bytes`);
    }
    return buffer.toString('utf8');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.stream()) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += bytes.length;
    if (size > limit) {
      throw new Error(`it is larger than ${limit} bytes`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Deploys model services: resolves the environment, renders the manifests,
 * validates them against the target cluster, applies them with server-side
 * apply (always after a dry run of every object), and records each attempt.
 */
export class DeploymentService {
  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      environments: EnvironmentService;
      clusters: ClusterClients;
      store: DeploymentStore;
      urlReader: UrlReaderService;
      logger: LoggerService;
    },
  ) {}

  async deploy(request: {
    target: ModelServiceTarget;
    environment: string;
    image?: string;
    fromEnvironment?: string;
    manifests?: string;
    dryRun: boolean;
    force: boolean;
    requestedBy: string;
  }): Promise<DeployResponse> {
    const { target } = request;
    const { entity } = target;
    const env = this.options.environments.resolveOne({
      target,
      environment: request.environment,
    });
    const contract = this.deployableContract(target);

    let image = request.image;
    let sourceDeploymentId: string | undefined;
    if (request.fromEnvironment !== undefined) {
      const promoted = await this.runningImage(target, request);
      image = promoted.image;
      sourceDeploymentId = promoted.sourceDeploymentId;
    }
    if (!image) {
      throw new InputError(
        'An image is required: pass image (a full reference such as registry/repo:tag) or fromEnvironment to promote what runs there',
      );
    }

    const source = await this.sourceObjects({
      entity,
      contract,
      env,
      image,
      inline: request.manifests,
    });
    return this.apply({
      entity,
      contract,
      env,
      objects: source,
      image,
      dryRun: request.dryRun,
      force: request.force,
      record: {
        entityRef: stringifyEntityRef(entity),
        environment: env.name,
        cluster: env.cluster,
        namespace: env.namespace,
        action: request.fromEnvironment !== undefined ? 'promote' : 'deploy',
        image,
        sourceDeploymentId,
        requestedBy: request.requestedBy,
      },
    });
  }

  async rollback(request: {
    target: ModelServiceTarget;
    deployment: StoredDeployment;
    dryRun: boolean;
    force: boolean;
    requestedBy: string;
  }): Promise<DeployResponse> {
    const { target, deployment } = request;
    const { entity } = target;
    if (
      deployment.dryRun ||
      deployment.result !== 'succeeded' ||
      !deployment.revision
    ) {
      throw new InputError(
        `Deployment ${deployment.id} cannot be rolled back to: only successful deployments (not dry runs) have manifests to re-apply`,
      );
    }
    const env = this.options.environments.resolveOne({
      target,
      environment: deployment.environment,
    });
    const contract = this.deployableContract(target);
    return this.apply({
      entity,
      contract,
      env,
      objects: deployment.manifests as KubeObject[],
      image: undefined,
      dryRun: request.dryRun,
      force: request.force,
      record: {
        entityRef: deployment.entityRef,
        environment: env.name,
        cluster: env.cluster,
        namespace: env.namespace,
        action: 'rollback',
        image: deployment.image,
        sourceDeploymentId: deployment.id,
        requestedBy: request.requestedBy,
      },
    });
  }

  async status(options: {
    target: ModelServiceTarget;
  }): Promise<DeploymentStatusResponse> {
    const { target } = options;
    const resolved = this.options.environments.resolve({ target });
    const { contract } = target;
    const environments = await Promise.all(
      resolved.environments.map(async (env): Promise<EnvironmentStatus> => {
        const lastDeployment = await this.options.store.lastSuccessful({
          entityRef: resolved.entityRef,
          environment: env.name,
        });
        const base: EnvironmentStatus = {
          environment: env.name,
          cluster: env.cluster,
          namespace: env.namespace,
          phase: 'Unknown',
          conditions: [],
          problems: [],
          lastDeployment: lastDeployment ? toRecord(lastDeployment) : undefined,
        };
        if (env.error) {
          return { ...base, error: env.error };
        }
        if (!contract.kubernetesId) {
          return {
            ...base,
            error: {
              reason: 'MissingAnnotation',
              message:
                'The entity has no backstage.io/kubernetes-id annotation, so its workloads cannot be found',
            },
          };
        }
        try {
          const live = await readRolloutStatus(
            this.options.clusters.get(env.cluster),
            {
              namespace: env.namespace,
              kubernetesId: contract.kubernetesId,
              imageRepository: contract.image,
            },
          );
          return { ...base, ...live };
        } catch (error) {
          return {
            ...base,
            error: {
              reason: (error as Error)?.name ?? 'Error',
              message: errorMessage(error),
            },
          };
        }
      }),
    );
    return { entityRef: resolved.entityRef, environments };
  }

  /** A contract good enough to deploy: no problems in what deploys use. */
  private deployableContract(target: ModelServiceTarget): ModelServiceContract {
    const { entity, contract } = target;
    const blocking = contract.problems.filter(p =>
      [
        'backstage.io/kubernetes-id',
        'backstage.io/kubernetes-namespace',
        'modelops/manifests',
        'modelops/image',
      ].includes(p.annotation),
    );
    if (blocking.length > 0 || !contract.kubernetesId) {
      throw new InputError(
        `${stringifyEntityRef(
          entity,
        )} cannot be deployed until its annotations are fixed: ${blocking
          .map(p => `${p.annotation} ${p.message}`)
          .join('; ')}`,
      );
    }
    return contract;
  }

  /** The image running in `fromEnvironment`, for a promotion. */
  private async runningImage(
    target: ModelServiceTarget,
    request: { environment: string; fromEnvironment?: string },
  ): Promise<{ image: string; sourceDeploymentId?: string }> {
    const from = request.fromEnvironment!;
    if (from === request.environment) {
      throw new InputError(
        `Cannot promote from ${from} to itself: choose another target environment`,
      );
    }
    const { entity, contract } = target;
    const source = this.options.environments.resolveOne({
      target,
      environment: from,
    });
    const live = await readRolloutStatus(
      this.options.clusters.get(source.cluster),
      {
        namespace: source.namespace,
        kubernetesId: contract.kubernetesId!,
        imageRepository: contract.image,
      },
    );
    if (!live.image) {
      throw new InputError(
        `Nothing to promote: no ${contract.kubernetesId} workload runs in ${from} (${source.cluster}/${source.namespace})`,
      );
    }
    if (live.phase !== 'Available') {
      throw new ConflictError(
        `Cannot promote from ${from}: its rollout is ${live.phase}, not Available; promote once ${live.image} runs healthily there`,
      );
    }
    const last = await this.options.store.lastSuccessful({
      entityRef: stringifyEntityRef(entity),
      environment: from,
    });
    // Only name the source record if it is what actually runs there.
    return {
      image: live.image,
      sourceDeploymentId: last?.image === live.image ? last.id : undefined,
    };
  }

  /** The objects to deploy, before rendering. */
  private async sourceObjects(options: {
    entity: Entity;
    contract: ModelServiceContract;
    env: ModelOpsEnvironment;
    image: string;
    inline?: string;
  }): Promise<KubeObject[]> {
    const { contract, env, inline } = options;
    if (inline !== undefined) {
      if (!this.options.config.deployments.allowInlineManifests) {
        throw new InputError(
          'Inline manifests are disabled on this portal (modelops.deployments.allowInlineManifests); deploy the manifests named by the entity instead',
        );
      }
      return parseManifests(inline);
    }
    const source = contract.manifests;
    if (source.startsWith('builtin:')) {
      return builtinManifests(
        source.slice('builtin:'.length) as 'deployment' | 'kserve',
        {
          kubernetesId: contract.kubernetesId!,
          namespace: env.namespace,
          image: options.image,
          runtime: contract.runtime,
          entityRef: stringifyEntityRef(options.entity),
        },
      );
    }
    const url = this.manifestUrl(options.entity, source);
    let text: string;
    try {
      text = await readCapped(
        await this.options.urlReader.readUrl(url),
        MAX_MANIFEST_BYTES,
      );
    } catch (error) {
      throw new InputError(
        `Could not read the manifests at ${url} (modelops/manifests): ${errorMessage(
          error,
        )}`,
      );
    }
    return parseManifests(text);
  }

  /** Resolves `url:...`, an absolute URL, or a path relative to the source location. */
  private manifestUrl(entity: Entity, source: string): string {
    const value = source.startsWith('url:') ? source.slice(4) : source;
    try {
      return new URL(value).toString();
    } catch {
      const base =
        entity.metadata.annotations?.['backstage.io/source-location'];
      if (!base) {
        throw new InputError(
          `modelops/manifests "${source}" is a relative path, but the entity has no backstage.io/source-location to resolve it against`,
        );
      }
      return new URL(value, base.replace(/^url:/, '')).toString();
    }
  }

  private async apply(options: {
    entity: Entity;
    contract: ModelServiceContract;
    env: ModelOpsEnvironment;
    objects: KubeObject[];
    image: string | undefined;
    dryRun: boolean;
    force: boolean;
    record: NewDeployment;
  }): Promise<DeployResponse> {
    const { env, contract, record } = options;
    const store = this.options.store;
    const client = this.options.clusters.get(env.cluster);
    const render = (revision: number) =>
      renderManifests(options.objects, {
        namespace: env.namespace,
        kubernetesId: contract.kubernetesId!,
        image: options.image,
        imageRepository: contract.image,
        revision,
        entityRef: record.entityRef,
      });

    if (options.dryRun) {
      const revision = (await store.latestRevision(record)) + 1;
      const rendered = render(revision);
      const resolved = await validateObjects(rendered, {
        client,
        namespace: env.namespace,
      });
      try {
        const results = await applyObjects(client, resolved, {
          dryRun: true,
          force: options.force,
        });
        const stored = await store.recordDryRun({
          ...record,
          result: 'succeeded',
          manifests: rendered,
        });
        return { deployment: toRecord(stored), diff: results.map(r => r.diff) };
      } catch (error) {
        await store.recordDryRun({
          ...record,
          result: 'failed',
          error: errorMessage(error),
          manifests: rendered,
        });
        throw error;
      }
    }

    const reserved = await store.reserveRevision(record);
    let rendered: KubeObject[] = [];
    try {
      rendered = render(reserved.revision!);
      const resolved = await validateObjects(rendered, {
        client,
        namespace: env.namespace,
      });
      const results = await applyObjects(client, resolved, {
        dryRun: false,
        force: options.force,
      });
      const finished = await store.finish({
        id: reserved.id,
        result: 'succeeded',
        manifests: rendered,
      });
      this.options.logger.info(
        `Deployed ${record.entityRef} revision ${finished.revision} to ${env.name} (${env.cluster}/${env.namespace}) for ${record.requestedBy}`,
      );
      return { deployment: toRecord(finished), diff: results.map(r => r.diff) };
    } catch (error) {
      await store.finish({
        id: reserved.id,
        result: 'failed',
        error: errorMessage(error),
        manifests: rendered,
      });
      throw error;
    }
  }

  /** Loads a deployment record, or a 404 naming it. */
  async getDeployment(id: string): Promise<StoredDeployment> {
    const stored = await this.options.store.get(id);
    if (!stored) {
      throw new NotFoundError(`No deployment with id ${id}`);
    }
    return stored;
  }
}
