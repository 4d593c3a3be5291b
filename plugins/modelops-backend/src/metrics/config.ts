import { ModelOpsConfig } from '../config';
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
  });
}
