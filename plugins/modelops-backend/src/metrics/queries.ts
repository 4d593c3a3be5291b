/**
 * The PromQL behind each health signal, per model-server runtime.
 *
 * A query set is a template per signal with three placeholders, filled in by
 * `renderQuery` and never by string concatenation of user input:
 *
 * - `$matchers`: the service's label matchers (from its contract, escaped),
 *   comma-separated, to go inside `{...}` next to fixed matchers;
 * - `$window`: the rate window, a Prometheus duration such as `5m`;
 * - `$by`: the labels results are grouped by (service, cluster, namespace),
 *   so one query answers for every service at once.
 *
 * Operators may replace any template in config (`modelops.metrics.querySets`);
 * entity annotations never carry PromQL.
 */
import { formatSelector, LabelMatcher } from '@modelops/plugin-modelops-common';

/** The signals a model service is judged on. */
export const SIGNALS = [
  'requestRate',
  'errorRate',
  'latencyP50',
  'latencyP95',
  'latencyP99',
  'latencyMean',
  'predictionsByClass',
  'featureDrift',
  'predictionDrift',
  'featureHistogram',
  'replicas',
] as const;
export type Signal = (typeof SIGNALS)[number];

/** A template, or why the runtime cannot answer this signal. */
export type SignalQuery = string | { unavailable: string };
export type QuerySet = Record<Signal, SignalQuery>;

/** Per-runtime query sets; `generic` is what a runtime without its own falls back to. */
export type Runtime = 'kserve' | 'triton' | 'seldon' | 'generic';

/**
 * Failed over all requests of a counter with a status-code label. A service
 * with no failures has no series for them at all, so the failures fall back
 * to zero times the total (same labels): the ratio is then 0, not absent.
 */
const errorRatio = (counter: string, failed: string) =>
  `(sum by ($by) (rate(${counter}{$matchers,${failed}}[$window])) or 0 * sum by ($by) (rate(${counter}{$matchers}[$window]))) / sum by ($by) (rate(${counter}{$matchers}[$window]))`;

const quantile = (q: number, histogram: string) =>
  `histogram_quantile(${q}, sum by ($by, le) (rate(${histogram}_bucket{$matchers}[$window])))`;

/** Drift gauges the ModelOps model server (and anything that adopts them) exports. */
const DRIFT: Pick<QuerySet, 'featureDrift' | 'predictionDrift'> = {
  featureDrift: 'max by ($by, feature) (modelops_feature_psi{$matchers})',
  predictionDrift: 'max by ($by) (modelops_prediction_psi{$matchers})',
};
/**
 * Per-feature input histograms, for servers without drift gauges: the
 * backend computes PSI from the buckets' increase over the current window
 * and over the reference window (see psi.ts).
 */
const FEATURE_HISTOGRAM =
  'sum by ($by, feature, le) (increase(modelops_feature_value_bucket{$matchers}[$window]))';
/**
 * Pods over time, as the scrapes see them: the targets of the service that
 * answered. (Health judges readiness from the cluster instead; this is the
 * history the cluster does not keep.)
 */
const REPLICAS = 'count by ($by) (up{$matchers} == 1)';
const PREDICTIONS =
  'sum by ($by, class) (rate(modelops_predictions_total{$matchers}[$window]))';

const NO_MEAN = {
  unavailable:
    'percentiles are available for this runtime; the mean is not computed',
};

const TRITON_NO_PERCENTILES = {
  unavailable:
    'Triton exports no latency percentiles unless its summaries are enabled (--metrics-config summary_latencies=true); the mean is shown instead',
};

export const DEFAULT_QUERY_SETS: Record<Runtime, QuerySet> = {
  // KServe's model server: request_{preprocess,predict,postprocess}_seconds
  // histograms by model_name; it counts no errors, so error rate comes from a
  // request counter by status code where the server exports one.
  kserve: {
    requestRate:
      'sum by ($by) (rate(request_predict_seconds_count{$matchers}[$window]))',
    errorRate: errorRatio('modelops_requests_total', 'code=~"5.."'),
    latencyP50: quantile(0.5, 'request_predict_seconds'),
    latencyP95: quantile(0.95, 'request_predict_seconds'),
    latencyP99: quantile(0.99, 'request_predict_seconds'),
    latencyMean: NO_MEAN,
    predictionsByClass: PREDICTIONS,
    ...DRIFT,
    featureHistogram: FEATURE_HISTOGRAM,
    replicas: REPLICAS,
  },
  // Triton: cumulative counters, durations in microseconds. Latency is the
  // mean over the window (Δduration / Δrequests); Triton has no latency
  // histogram, and its summaries are off by default, so no percentiles.
  triton: {
    requestRate:
      'sum by ($by) (rate(nv_inference_request_success{$matchers}[$window])) + sum by ($by) (rate(nv_inference_request_failure{$matchers}[$window]))',
    errorRate:
      'sum by ($by) (rate(nv_inference_request_failure{$matchers}[$window])) / (sum by ($by) (rate(nv_inference_request_success{$matchers}[$window])) + sum by ($by) (rate(nv_inference_request_failure{$matchers}[$window])))',
    latencyP50: TRITON_NO_PERCENTILES,
    latencyP95: TRITON_NO_PERCENTILES,
    latencyP99: TRITON_NO_PERCENTILES,
    latencyMean:
      'sum by ($by) (rate(nv_inference_request_duration_us{$matchers}[$window])) / sum by ($by) (rate(nv_inference_request_success{$matchers}[$window])) / 1e6',
    predictionsByClass: PREDICTIONS,
    ...DRIFT,
    featureHistogram: FEATURE_HISTOGRAM,
    replicas: REPLICAS,
  },
  // Seldon Core v2's agent: seldon_model_infer_api_seconds histogram and
  // seldon_model_infer_total by code.
  seldon: {
    requestRate:
      'sum by ($by) (rate(seldon_model_infer_total{$matchers}[$window]))',
    errorRate: errorRatio('seldon_model_infer_total', 'code!~"2.."'),
    latencyP50: quantile(0.5, 'seldon_model_infer_api_seconds'),
    latencyP95: quantile(0.95, 'seldon_model_infer_api_seconds'),
    latencyP99: quantile(0.99, 'seldon_model_infer_api_seconds'),
    latencyMean: NO_MEAN,
    predictionsByClass: PREDICTIONS,
    ...DRIFT,
    featureHistogram: FEATURE_HISTOGRAM,
    replicas: REPLICAS,
  },
  // Any HTTP server instrumented the usual way.
  generic: {
    requestRate: 'sum by ($by) (rate(http_requests_total{$matchers}[$window]))',
    errorRate: errorRatio('http_requests_total', 'code=~"5.."'),
    latencyP50: quantile(0.5, 'http_request_duration_seconds'),
    latencyP95: quantile(0.95, 'http_request_duration_seconds'),
    latencyP99: quantile(0.99, 'http_request_duration_seconds'),
    latencyMean: NO_MEAN,
    predictionsByClass: PREDICTIONS,
    ...DRIFT,
    featureHistogram: FEATURE_HISTOGRAM,
    replicas: REPLICAS,
  },
};

const DURATION = /^[1-9][0-9]{0,7}(ms|s|m|h|d)$/;
const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

/** Seconds in a Prometheus duration such as `5m` (one unit, as config allows). */
export function durationSeconds(duration: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(duration);
  if (!m) throw new Error(`invalid duration ${JSON.stringify(duration)}`);
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!;
}
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface RenderOptions {
  matchers: readonly LabelMatcher[];
  /** Rate window, e.g. `5m`. */
  window: string;
  /** Labels to group by. */
  by: readonly string[];
}

/**
 * Fills a template's placeholders. The matchers are printed by
 * `formatSelector` (which refuses anything unescapable); the window and the
 * group-by labels are checked against their grammars. Throws on a template
 * that uses none of `$matchers` (it would select every series).
 */
export function renderQuery(template: string, options: RenderOptions): string {
  if (!template.includes('$matchers'))
    throw new Error(`query template selects no service: ${template}`);
  if (!DURATION.test(options.window))
    throw new Error(`invalid rate window ${JSON.stringify(options.window)}`);
  for (const l of options.by)
    if (!LABEL.test(l))
      throw new Error(`invalid group-by label ${JSON.stringify(l)}`);
  if (!options.by.length) throw new Error('no group-by labels');
  if (!options.matchers.length)
    throw new Error('no matchers: a query must select one service');
  const matchers = formatSelector(options.matchers).slice(1, -1);
  return template
    .replaceAll('$matchers', matchers)
    .replaceAll('$window', options.window)
    .replaceAll('$by', options.by.join(', '));
}

/** The query set of a runtime, with config overrides applied per signal. */
export function querySetFor(
  runtime: Runtime,
  overrides?: Partial<Record<Runtime, Partial<QuerySet>>>,
): QuerySet {
  return { ...DEFAULT_QUERY_SETS[runtime], ...(overrides?.[runtime] ?? {}) };
}
