import { Entity } from '@backstage/catalog-model';
import type { ContractProblem, ModelRuntime } from './types';
import { imageRepositoryProblem } from './imageReference';
import { isDnsLabel, isLabelValue } from './names';
import { LabelMatcher, parseLabelMatchers } from './promql';

/** Workload label value, same meaning as in the Kubernetes plugin. @public */
export const ANNOTATION_KUBERNETES_ID = 'backstage.io/kubernetes-id';
/** Namespace override for every environment. @public */
export const ANNOTATION_KUBERNETES_NAMESPACE =
  'backstage.io/kubernetes-namespace';
/** Image repository that builds push to. @public */
export const ANNOTATION_IMAGE = 'modelops/image';
/** Where the Dockerfile lives (URL or repository path). @public */
export const ANNOTATION_BUILD_CONTEXT = 'modelops/build-context';
/** Where deploy manifests come from: a location or `builtin:<template>`. @public */
export const ANNOTATION_MANIFESTS = 'modelops/manifests';
/** PromQL label matchers that select this service's series. @public */
export const ANNOTATION_METRICS_SELECTOR = 'modelops/metrics-selector';
/** Which metric family the model server speaks. @public */
export const ANNOTATION_RUNTIME = 'modelops/runtime';
/** SLO thresholds, e.g. `latency-p95-ms=250,error-rate=0.01,drift-psi=0.2`. @public */
export const ANNOTATION_SLO = 'modelops/slo';
/** Fallback for the build context. @public */
export const ANNOTATION_SOURCE_LOCATION = 'backstage.io/source-location';

/** The `spec.type` of a model service component. @public */
export const MODEL_SERVICE_TYPE = 'model-service';

/** Metric families a model server can speak (the API's `ModelRuntime`). @public */
export const MODEL_RUNTIMES: readonly ModelRuntime[] = [
  'kserve',
  'seldon',
  'triton',
  'generic',
];

/** Built-in manifest templates. @public */
export const BUILTIN_MANIFEST_TEMPLATES = ['deployment', 'kserve'] as const;

/**
 * True for catalog Components with `spec.type: model-service`.
 * @public
 */
export function isModelService(entity: Entity): boolean {
  return (
    entity.kind.toLocaleLowerCase('en-US') === 'component' &&
    typeof entity.spec?.type === 'string' &&
    entity.spec.type.toLocaleLowerCase('en-US') === MODEL_SERVICE_TYPE
  );
}

/** The parsed ModelOps contract of an entity. @public */
export interface ModelServiceContract {
  kubernetesId?: string;
  namespaceOverride?: string;
  image?: string;
  buildContext?: string;
  manifests: string;
  metricsSelector?: string;
  /** `modelops/metrics-selector` parsed; empty when absent or malformed (then a problem says why). */
  metricsMatchers: LabelMatcher[];
  runtime: ModelRuntime;
  slo: Record<string, number>;
  /** Annotations that are missing or malformed; empty when the contract is complete. */
  problems: ContractProblem[];
}

/** SLO keys understood by the health evaluation, with their meaning. @public */
export const SLO_KEYS = {
  'latency-p95-ms': 'p95 request latency in milliseconds',
  'latency-p99-ms': 'p99 request latency in milliseconds',
  'error-rate': 'share of failed requests, 0 to 1',
  'drift-psi': 'population stability index of any input feature',
  'min-ready-ratio': 'ready pods over desired pods, 0 to 1',
} as const;

/** @public */
export type SloKey = keyof typeof SLO_KEYS;

/**
 * Parses `latency-p95-ms=250,error-rate=0.01` into numbers. Unknown keys and
 * values that are not finite, non-negative numbers are reported, not guessed.
 * @public
 */
export function parseSlo(value: string): {
  slo: Partial<Record<SloKey, number>>;
  errors: string[];
} {
  const slo: Partial<Record<SloKey, number>> = {};
  const errors: string[] = [];
  for (const raw of value.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) {
      errors.push(`"${part}" is not key=value`);
      continue;
    }
    const key = part.slice(0, eq).trim();
    const num = Number(part.slice(eq + 1).trim());
    if (!(key in SLO_KEYS)) {
      errors.push(
        `unknown key "${key}" (known: ${Object.keys(SLO_KEYS).join(', ')})`,
      );
    } else if (
      part.slice(eq + 1).trim() === '' ||
      !Number.isFinite(num) ||
      num < 0
    ) {
      errors.push(`"${key}" needs a non-negative number`);
    } else {
      slo[key as SloKey] = num;
    }
  }
  return { slo, errors };
}

/**
 * Reads the ModelOps contract from an entity's annotations. Never throws:
 * every missing or malformed annotation becomes a problem the UI can show.
 * @public
 */
export function readModelServiceContract(entity: Entity): ModelServiceContract {
  const a = entity.metadata.annotations ?? {};
  const problems: ContractProblem[] = [];
  const trimmed = (key: string) => {
    const v = a[key];
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };

  const kubernetesId = trimmed(ANNOTATION_KUBERNETES_ID);
  if (!kubernetesId) {
    problems.push({
      annotation: ANNOTATION_KUBERNETES_ID,
      message: 'is required: it names the workload label of the model service',
    });
  } else if (!isLabelValue(kubernetesId)) {
    problems.push({
      annotation: ANNOTATION_KUBERNETES_ID,
      message: `"${kubernetesId}" is not a valid Kubernetes label value (at most 63 letters, digits, "-", "_" or ".", alphanumeric at both ends)`,
    });
  }

  const namespaceOverride = trimmed(ANNOTATION_KUBERNETES_NAMESPACE);
  if (namespaceOverride && !isDnsLabel(namespaceOverride)) {
    problems.push({
      annotation: ANNOTATION_KUBERNETES_NAMESPACE,
      message: `"${namespaceOverride}" is not a valid namespace name`,
    });
  }

  const image = trimmed(ANNOTATION_IMAGE);
  if (image && imageRepositoryProblem(image) !== undefined) {
    problems.push({
      annotation: ANNOTATION_IMAGE,
      message: `"${image}" is not an image repository (lowercase registry/path, without tag or digest)`,
    });
  }

  const manifests = trimmed(ANNOTATION_MANIFESTS) ?? 'builtin:deployment';
  if (manifests.startsWith('builtin:')) {
    const name = manifests.slice('builtin:'.length);
    if (!(BUILTIN_MANIFEST_TEMPLATES as readonly string[]).includes(name)) {
      problems.push({
        annotation: ANNOTATION_MANIFESTS,
        message: `unknown built-in template "${name}" (known: ${BUILTIN_MANIFEST_TEMPLATES.map(
          t => `builtin:${t}`,
        ).join(', ')})`,
      });
    }
  }

  const runtimeValue = trimmed(ANNOTATION_RUNTIME) ?? 'generic';
  let runtime: ModelRuntime = 'generic';
  if ((MODEL_RUNTIMES as readonly string[]).includes(runtimeValue)) {
    runtime = runtimeValue as ModelRuntime;
  } else {
    problems.push({
      annotation: ANNOTATION_RUNTIME,
      message: `unknown runtime "${runtimeValue}" (known: ${MODEL_RUNTIMES.join(
        ', ',
      )})`,
    });
  }

  const metricsSelector = trimmed(ANNOTATION_METRICS_SELECTOR);
  let metricsMatchers: LabelMatcher[] = [];
  if (metricsSelector) {
    const parsed = parseLabelMatchers(metricsSelector);
    if (parsed.error !== undefined) {
      problems.push({
        annotation: ANNOTATION_METRICS_SELECTOR,
        message: `is not a list of label matchers such as team="risk", model!="shadow": ${parsed.error}`,
      });
    } else {
      metricsMatchers = parsed.matchers;
    }
  }

  let slo: Record<string, number> = {};
  const sloValue = trimmed(ANNOTATION_SLO);
  if (sloValue) {
    const parsed = parseSlo(sloValue);
    slo = parsed.slo;
    for (const error of parsed.errors) {
      problems.push({ annotation: ANNOTATION_SLO, message: error });
    }
  }

  return {
    kubernetesId,
    namespaceOverride,
    image,
    buildContext:
      trimmed(ANNOTATION_BUILD_CONTEXT) ?? trimmed(ANNOTATION_SOURCE_LOCATION),
    manifests,
    metricsSelector,
    metricsMatchers,
    runtime,
    slo,
    problems,
  };
}
