import { ConfigReader } from '@backstage/config';
import { readModelOpsConfig } from '../config';
import { prometheusClientFor } from './config';

const read = (metrics: object) =>
  readModelOpsConfig(new ConfigReader({ modelops: { metrics } }));

describe('the metrics config', () => {
  it('has no Prometheus client without a Prometheus block', () => {
    expect(prometheusClientFor(read({}).metrics)).toBeUndefined();
  });

  it('reads the URL (without a trailing slash) and the defaults', () => {
    const metrics = read({ prometheus: { url: 'http://p:9090/' } }).metrics;
    expect(prometheusClientFor(metrics)?.url).toBe('http://p:9090');
    expect(metrics).toMatchObject({
      window: '5m',
      slo: {},
      labels: {
        cluster: 'cluster',
        namespace: 'namespace',
        service: 'backstage_io_kubernetes_id',
      },
      prometheus: { timeoutSeconds: 5, maxSeries: 100000 },
    });
  });

  it.each([
    [{ prometheus: { url: 'ftp://p' } }, 'must be an http(s) URL'],
    [{ prometheus: { url: 'http://p', timeoutSeconds: 0 } }, 'timeoutSeconds'],
    [{ window: '5m) or vector(1' }, 'must be a Prometheus duration'],
    [{ slo: { 'error-rate': 2 } }, 'error-rate'],
    [{ slo: { latency: 1 } }, 'latency: unknown key'],
    [{ labels: { service: 'a"b' } }, 'labels.service'],
  ])('refuses %j', (metrics, message) => {
    expect(() => read(metrics)).toThrow(message);
  });
});
