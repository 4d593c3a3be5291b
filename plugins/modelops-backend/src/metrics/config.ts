import { ModelOpsConfig } from '../config';
import { ModelOpsMetricsSource } from '@modelops/plugin-modelops-node';
import { PrometheusClient } from './PrometheusClient';

/** The Prometheus client `modelops.metrics.prometheus` describes, or undefined when it is not configured. */
export function prometheusClientFor(
  metrics: ModelOpsConfig['metrics'],
): PrometheusClient | undefined {
  const p = metrics.prometheus;
  if (!p) return undefined;
  return new PrometheusClient({
    url: p.url,
    token: p.bearerToken,
    timeoutMs: p.timeoutSeconds * 1000,
    maxSeries: p.maxSeries,
    maxResponseBytes: p.maxResponseBytes,
    compressed: p.compressed,
  });
}

/**
 * The metrics source `modelops.metrics.source` names: the configured
 * Prometheus (`prometheus`, the default) or one a module added. Undefined
 * when it is `prometheus` and none is configured (signals then say so).
 * Throws, stopping the backend with the reason, on a name nothing provides.
 */
export function selectMetricsSource(
  metrics: ModelOpsConfig['metrics'],
  sources: ReadonlyMap<string, ModelOpsMetricsSource>,
): ModelOpsMetricsSource | undefined {
  const chosen = sources.get(metrics.source);
  if (chosen || metrics.source === 'prometheus') return chosen;
  throw new Error(
    `modelops.metrics.source is ${JSON.stringify(
      metrics.source,
    )}, but no installed module provides a metrics source of that type (available: ${
      [...sources.keys()].join(', ') || 'none'
    })`,
  );
}
