import { createExtensionPoint } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { ModelServiceContract } from '@modelops/plugin-modelops-common';

/** Status of one image build as reported by its builder. @public */
export type ModelOpsBuildPhase =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

/** What a builder needs to start a build. @public */
export interface ModelOpsStartBuildOptions {
  /** Id of the build record; builders use it to name and label their work. */
  buildId: string;
  entity: Entity;
  contract: ModelServiceContract;
  /** Full image reference the build must push, `repository:tag`. */
  image: string;
  /** Build context (URL or repository path) and Dockerfile path within it. */
  context: string;
  dockerfile: string;
}

/** A builder's handle on a started build. @public */
export interface ModelOpsStartedBuild {
  /** Builder-specific id used for status and log look-ups. */
  externalId: string;
  /** Optional link to the build in the builder's own UI. */
  url?: string;
}

/** One status observation of a build. @public */
export interface ModelOpsBuildStatus {
  phase: ModelOpsBuildPhase;
  message?: string;
  /** Image digest once pushed, `sha256:...`. */
  digest?: string;
  startedAt?: string;
  finishedAt?: string;
}

/**
 * Builds container images for model services, e.g. a Kubernetes Job running
 * kaniko, GitHub Actions or Tekton.
 * @public
 */
export interface ModelOpsImageBuilder {
  /** Name referenced by `modelops.builds.provider`. */
  readonly type: string;
  start(options: ModelOpsStartBuildOptions): Promise<ModelOpsStartedBuild>;
  getStatus(options: { externalId: string }): Promise<ModelOpsBuildStatus>;
  getLogs(options: { externalId: string; tailLines?: number }): Promise<string>;
}

/** A point in a metric time series. @public */
export interface ModelOpsSample {
  /** Unix time in seconds. */
  t: number;
  v: number;
}

/** A named query over a metrics backend. @public */
export interface ModelOpsMetricsQuery {
  /** Label matchers selecting the service's series, already validated. */
  selector: Record<string, string>;
  runtime: ModelServiceContract['runtime'];
}

/**
 * Reads model-service metrics from a metrics backend (Prometheus by default).
 * @public
 */
export interface ModelOpsMetricsSource {
  /** Name referenced by `modelops.metrics.source`. */
  readonly type: string;
  queryRange(options: {
    query: ModelOpsMetricsQuery;
    metric: 'latencyP95' | 'traffic' | 'errorRate' | 'drift';
    start: number;
    end: number;
    step: number;
  }): Promise<ModelOpsSample[]>;
}

/**
 * Lets backend modules add image builders. A factory receives the default
 * builders so it can wrap one instead of replacing it.
 * @public
 */
export interface ModelOpsImageBuildersExtensionPoint {
  addImageBuilder(
    builder:
      | ModelOpsImageBuilder
      | ((
          defaults: ReadonlyMap<string, ModelOpsImageBuilder>,
        ) => ModelOpsImageBuilder),
  ): void;
}

/** @public */
export const modelOpsImageBuildersExtensionPoint =
  createExtensionPoint<ModelOpsImageBuildersExtensionPoint>({
    id: 'modelops.image-builders',
  });

/**
 * Lets backend modules add metrics sources.
 * @public
 */
export interface ModelOpsMetricsSourcesExtensionPoint {
  addMetricsSource(
    source:
      | ModelOpsMetricsSource
      | ((
          defaults: ReadonlyMap<string, ModelOpsMetricsSource>,
        ) => ModelOpsMetricsSource),
  ): void;
}

/** @public */
export const modelOpsMetricsSourcesExtensionPoint =
  createExtensionPoint<ModelOpsMetricsSourcesExtensionPoint>({
    id: 'modelops.metrics-sources',
  });
