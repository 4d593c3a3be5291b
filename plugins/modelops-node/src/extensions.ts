import { createExtensionPoint } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';

/** Status of one image build. @public */
export type ModelOpsBuildPhase =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

/**
 * What to build: validated by the backend before a builder sees it (the ref
 * is a valid ref name, the paths stay inside the repository, the build args
 * are allowed, the image is the entity's `modelops/image`). @public
 */
export interface ModelOpsBuildRequest {
  /** Id of the build record; builders name and label their work with it. */
  buildId: string;
  entity: Entity;
  entityRef: string;
  source: {
    /** Git repository URL (http or https). */
    url: string;
    /** Branch, tag or commit to build. */
    ref: string;
    /** The commit the ref named when the build was triggered, when known. */
    commit?: string;
    /** The build context inside the repository, `.` for its root. */
    contextPath: string;
    /** The Dockerfile, relative to the context. */
    dockerfile: string;
  };
  buildArgs: Record<string, string>;
  /** Where the image goes: `repository:tag`. */
  image: { repository: string; tag: string };
}

/** A builder's handle on a triggered build. @public */
export interface ModelOpsTriggeredBuild {
  /** The builder's own reference, kept on the build record (e.g. cluster/namespace/job). */
  externalRef: string;
  /** A link to the build in the builder's own UI, if it has one. */
  url?: string;
}

/** One status observation of a build. @public */
export interface ModelOpsBuildStatus {
  phase: ModelOpsBuildPhase;
  /** Why it failed or was cancelled, as a short code: `lost` when the builder no longer knows the build. */
  reason?: string;
  message?: string;
  /** The pushed image's digest once it succeeded, `sha256:...`. */
  digest?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** A page of a build's log. @public */
export interface ModelOpsBuildLogs {
  text: string;
  /** Pass back as `after` for the next page; absent when the log has no more yet. */
  next?: string;
  /** The build finished and the log is complete. */
  complete: boolean;
  /** Lines or bytes were left out by the size cap. */
  truncated?: boolean;
}

/**
 * Builds container images for model services: a Kubernetes Job running
 * BuildKit by default, GitHub Actions or another CI through a module. Each
 * method takes one options object and gives one result.
 * @public
 */
export interface ModelOpsImageBuilder {
  /** Name referenced by `modelops.builds.builder` and the `modelops/builder` annotation. */
  readonly type: string;
  trigger(options: {
    request: ModelOpsBuildRequest;
  }): Promise<ModelOpsTriggeredBuild>;
  status(options: { externalRef: string }): Promise<ModelOpsBuildStatus>;
  logs(options: {
    externalRef: string;
    /** Where the previous page ended (its `next`). */
    after?: string;
    /** At most this many bytes of log text. */
    limitBytes: number;
  }): Promise<ModelOpsBuildLogs>;
  cancel(options: { externalRef: string }): Promise<{ cancelled: boolean }>;
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
