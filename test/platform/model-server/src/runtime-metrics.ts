/**
 * Metrics in the vocabulary of the serving runtime being imitated, plus the
 * runtime-independent ModelOps metrics (prediction counts, drift gauges, and
 * per-feature input histograms from which a backend can compute drift itself).
 *
 * - kserve:  KServe model server step histograms (request_*_seconds{model_name}).
 * - triton:  Triton Inference Server per-model counters (nv_inference_*{model,version}).
 * - generic: plain HTTP service metrics (http_request_duration_seconds, http_requests_total).
 */
import type { BinnedReference, DriftMonitor } from './drift.ts';
import { Counter, Gauge, Histogram, Registry } from './prometheus.ts';

export const RUNTIMES = ['kserve', 'triton', 'generic'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export function isRuntime(value: string): value is Runtime {
  return (RUNTIMES as readonly string[]).includes(value);
}

/** Why an inference request failed, mapped to Triton's failure reasons. */
export type FailureKind =
  | 'invalid_request'
  | 'injected_fault'
  | 'rejected'
  | 'internal';

/** What happened during one inference request. Durations are in seconds. */
export interface InferenceObservation {
  readonly method: string;
  readonly statusCode: number;
  /** Number of instances (rows) in the request; 0 if it could not be parsed. */
  readonly batchSize: number;
  /** Body parsing, validation and conversion to the model's input matrix. */
  readonly preprocessSeconds?: number;
  /** Waiting for a free model execution slot. */
  readonly queueSeconds?: number;
  /** Model execution (including any injected latency). */
  readonly predictSeconds?: number;
  /** Building the response payload. */
  readonly postprocessSeconds?: number;
  /** End-to-end handling time. */
  readonly totalSeconds: number;
  readonly failure?: FailureKind;
}

export interface MetricsOptions {
  readonly runtime: Runtime;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly classNames: readonly string[];
  readonly featureNames: readonly string[];
  /** Training reference per feature (featureNames order): its cut points are the input histograms' buckets. */
  readonly featureReference: readonly BinnedReference[];
  readonly drift: DriftMonitor;
  readonly holdoutAccuracy: number;
}

export interface ServingMetrics {
  readonly registry: Registry;
  observeInference(observation: InferenceObservation): void;
  countPredictions(classIndices: readonly number[]): void;
  /** Counts one input row in the per-feature input histograms. */
  observeInputs(row: readonly number[]): void;
}

export function createServingMetrics(options: MetricsOptions): ServingMetrics {
  const registry = new Registry();
  const observeInference = registerRuntimeMetrics(registry, options);
  const modelLabel = { model_name: options.modelName };

  const info = registry.register(
    new Gauge(
      'modelops_model_info',
      'Model served by this process (value is always 1)',
      ['model_name', 'version', 'runtime'],
    ),
  );
  info.set(
    { ...modelLabel, version: options.modelVersion, runtime: options.runtime },
    1,
  );
  registry
    .register(
      new Gauge(
        'modelops_model_holdout_accuracy',
        'Accuracy of the model on its held-out set at training time',
        ['model_name'],
      ),
    )
    .set(modelLabel, options.holdoutAccuracy);

  const predictions = registry.register(
    new Counter(
      'modelops_predictions_total',
      'Predictions made, by predicted class',
      ['model_name', 'class'],
    ),
  );
  for (const className of options.classNames)
    predictions.init({ ...modelLabel, class: className });

  const windowSize = registry.register(
    new Gauge(
      'modelops_drift_window_size',
      'Number of recent inputs in the drift window',
      ['model_name'],
    ),
  );
  const featurePsi = registry.register(
    new Gauge(
      'modelops_feature_psi',
      'Population Stability Index of recent inputs against the training distribution, per feature',
      ['model_name', 'feature'],
    ),
  );
  const predictionPsi = registry.register(
    new Gauge(
      'modelops_prediction_psi',
      'Population Stability Index of recent predicted classes against the predictions on the training data',
      ['model_name'],
    ),
  );
  // Input values per feature, bucketed at the training quantiles, so equal
  // shares per bucket mean "like training" and PSI over the buckets is the
  // usual equal-frequency PSI.
  const edgesOf = new Map(
    options.featureNames.map((name, i) => [
      name,
      options.featureReference[i]?.edges ?? [],
    ]),
  );
  const inputs = registry.register(
    new Histogram(
      'modelops_feature_value',
      'Input values seen, per feature, bucketed at the training quantiles',
      ['model_name', 'feature'],
      labels => edgesOf.get(labels.feature ?? '') ?? [],
    ),
  );
  for (const feature of options.featureNames)
    inputs.init({ ...modelLabel, feature });

  registry.onCollect(() => {
    // PSI series are absent (not 0) until the window holds enough samples to be meaningful.
    const snapshot = options.drift.snapshot();
    windowSize.set(modelLabel, snapshot.windowSize);
    featurePsi.clear();
    snapshot.featurePsi?.forEach((value, i) =>
      featurePsi.set(
        { ...modelLabel, feature: options.featureNames[i] ?? String(i) },
        value,
      ),
    );
    predictionPsi.clear();
    if (snapshot.predictionPsi !== undefined)
      predictionPsi.set(modelLabel, snapshot.predictionPsi);
  });

  return {
    registry,
    observeInference,
    observeInputs(row) {
      row.forEach((value, i) => {
        const feature = options.featureNames[i];
        if (feature !== undefined && Number.isFinite(value))
          inputs.observe({ ...modelLabel, feature }, value);
      });
    },
    countPredictions(classIndices) {
      for (const c of classIndices)
        predictions.inc({
          ...modelLabel,
          class: options.classNames[c] ?? String(c),
        });
    },
  };
}

function registerRuntimeMetrics(
  registry: Registry,
  options: MetricsOptions,
): (o: InferenceObservation) => void {
  switch (options.runtime) {
    case 'kserve':
      return registerKServeMetrics(registry, options.modelName);
    case 'triton':
      return registerTritonMetrics(
        registry,
        options.modelName,
        options.modelVersion,
      );
    case 'generic':
      return registerGenericMetrics(registry);
  }
}

function registerKServeMetrics(
  registry: Registry,
  modelName: string,
): (o: InferenceObservation) => void {
  const labels = { model_name: modelName };
  const preprocess = registry.register(
    new Histogram('request_preprocess_seconds', 'pre-process request latency', [
      'model_name',
    ]),
  );
  const predict = registry.register(
    new Histogram('request_predict_seconds', 'predict request latency', [
      'model_name',
    ]),
  );
  const postprocess = registry.register(
    new Histogram(
      'request_postprocess_seconds',
      'post-process request latency',
      ['model_name'],
    ),
  );
  const requests = registry.register(
    new Counter(
      'modelops_requests_total',
      'Inference requests handled, by HTTP status code',
      ['model_name', 'code'],
    ),
  );
  preprocess.init(labels);
  predict.init(labels);
  postprocess.init(labels);
  return o => {
    // Like KServe, a step is timed only if it was reached (even if it then failed).
    if (o.preprocessSeconds !== undefined)
      preprocess.observe(labels, o.preprocessSeconds);
    if (o.predictSeconds !== undefined)
      predict.observe(labels, o.predictSeconds);
    if (o.postprocessSeconds !== undefined)
      postprocess.observe(labels, o.postprocessSeconds);
    requests.inc({ ...labels, code: String(o.statusCode) });
  };
}

/** Triton's failure reasons for nv_inference_request_failure. */
const TRITON_FAILURE_REASONS = [
  'REJECTED',
  'CANCELED',
  'BACKEND',
  'OTHER',
] as const;

function registerTritonMetrics(
  registry: Registry,
  model: string,
  version: string,
): (o: InferenceObservation) => void {
  const labels = { model, version };
  const counter = (
    name: string,
    help: string,
    labelNames: readonly string[] = ['model', 'version'],
  ): Counter => registry.register(new Counter(name, help, labelNames));

  const success = counter(
    'nv_inference_request_success',
    'Number of successful inference requests, all batch sizes',
  );
  const failure = counter(
    'nv_inference_request_failure',
    'Number of failed inference requests, all batch sizes',
    ['model', 'reason', 'version'],
  );
  const inferences = counter(
    'nv_inference_count',
    'Number of inferences performed (does not include cached requests)',
  );
  const executions = counter(
    'nv_inference_exec_count',
    'Number of model executions performed (does not include cached requests)',
  );
  const requestUs = counter(
    'nv_inference_request_duration_us',
    'Cumulative inference request duration in microseconds (includes cached requests)',
  );
  const queueUs = counter(
    'nv_inference_queue_duration_us',
    'Cumulative inference queuing duration in microseconds (includes cached requests)',
  );
  const inputUs = counter(
    'nv_inference_compute_input_duration_us',
    'Cumulative compute input duration in microseconds (does not include cached requests)',
  );
  const inferUs = counter(
    'nv_inference_compute_infer_duration_us',
    'Cumulative compute inference duration in microseconds (does not include cached requests)',
  );
  const outputUs = counter(
    'nv_inference_compute_output_duration_us',
    'Cumulative inference compute output duration in microseconds (does not include cached requests)',
  );

  for (const c of [
    success,
    inferences,
    executions,
    requestUs,
    queueUs,
    inputUs,
    inferUs,
    outputUs,
  ])
    c.init(labels);
  for (const reason of TRITON_FAILURE_REASONS)
    failure.init({ model, reason, version });

  const us = (seconds: number | undefined): number =>
    Math.round((seconds ?? 0) * 1e6);
  return o => {
    if (o.failure !== undefined) {
      const reason =
        o.failure === 'injected_fault'
          ? 'BACKEND'
          : o.failure === 'rejected'
          ? 'REJECTED'
          : 'OTHER';
      failure.inc({ model, reason, version });
      return;
    }
    // Like Triton, durations and counts accumulate for successful requests only.
    success.inc(labels);
    inferences.inc(labels, o.batchSize);
    executions.inc(labels);
    requestUs.inc(labels, us(o.totalSeconds));
    queueUs.inc(labels, us(o.queueSeconds));
    inputUs.inc(labels, us(o.preprocessSeconds));
    inferUs.inc(labels, us(o.predictSeconds));
    outputUs.inc(labels, us(o.postprocessSeconds));
  };
}

function registerGenericMetrics(
  registry: Registry,
): (o: InferenceObservation) => void {
  const duration = registry.register(
    new Histogram(
      'http_request_duration_seconds',
      'Duration of HTTP inference requests in seconds',
      ['code', 'method'],
    ),
  );
  const requests = registry.register(
    new Counter('http_requests_total', 'Total HTTP inference requests', [
      'code',
      'method',
    ]),
  );
  return o => {
    const labels = { code: String(o.statusCode), method: o.method };
    duration.observe(labels, o.totalSeconds);
    requests.inc(labels);
  };
}
