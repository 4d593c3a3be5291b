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

/** One series of an instant query's answer. @public */
export interface ModelOpsInstantSample {
  /** The series' labels. */
  metric: Record<string, string>;
  value: number;
}

/** One series of a range query's answer; `t` in seconds since the epoch. @public */
export interface ModelOpsRangeSeries {
  metric: Record<string, string>;
  points: { t: number; v: number }[];
}

/**
 * Where model-service metrics are read: anything that answers PromQL
 * (Prometheus by default; Thanos, Mimir, Cortex, VictoriaMetrics or a cloud's
 * managed Prometheus through a module). The backend builds every query from
 * its query sets and the entity's escaped matchers; a source only runs them.
 *
 * A source throws when it cannot answer (unreachable, too slow, refused); the
 * message becomes the reason of the signals it carries, so it must name the
 * problem and never contain credentials.
 * @public
 */
export interface ModelOpsMetricsSource {
  /** Name referenced by `modelops.metrics.source`. */
  readonly type: string;
  /** An instant query at `time` (seconds since the epoch; default now). */
  instant(query: string, time?: number): Promise<ModelOpsInstantSample[]>;
  /** A range query over `[start, end]` (seconds) every `step` seconds. */
  range(
    query: string,
    start: number,
    end: number,
    step: number,
  ): Promise<ModelOpsRangeSeries[]>;
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
 * Lets backend modules add metrics sources. The one named by
 * `modelops.metrics.source` is used; a factory receives the defaults (the
 * configured Prometheus as `prometheus`), so it can wrap one.
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
