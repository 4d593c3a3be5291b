import { ConfigReader } from '@backstage/config';
import { readModelOpsConfig } from './config';

describe('readModelOpsConfig', () => {
  it('applies defaults to an empty block', () => {
    expect(readModelOpsConfig(new ConfigReader({}))).toEqual({
      environments: {},
      builds: {
        builder: 'buildkit',
        namespace: 'modelops-builds',
        allowedBuildArgs: [],
        reuseSucceeded: true,
        buildkit: {
          mode: 'rootless',
          pushRegistries: {},
          gitHosts: {},
          activeDeadlineSeconds: 1800,
          ttlSecondsAfterFinished: 3600,
          resources: {
            requests: { cpu: '500m', memory: '512Mi' },
            limits: { memory: '4Gi' },
          },
        },
      },
      metrics: {
        source: 'prometheus',
        window: '5m',
        cacheSeconds: 30,
        entityCacheSeconds: 10,
        driftReferenceHours: 24,
        querySets: {},
        slo: {},
        labels: {
          cluster: 'cluster',
          namespace: 'namespace',
          service: 'backstage_io_kubernetes_id',
          pod: 'pod',
        },
      },
      deployments: {
        allowInlineManifests: false,
        allowedServiceTypes: ['ClusterIP'],
        allowExternalIPs: false,
      },
    });
  });

  it('reads environments and prometheus', () => {
    const config = readModelOpsConfig(
      new ConfigReader({
        modelops: {
          environments: {
            dev: { cluster: 'dev', namespace: 'models' },
            prod: { cluster: 'prod', namespace: 'models' },
          },
          builds: { environment: 'dev' },
          metrics: { prometheus: { url: 'http://127.0.0.1:9390' } },
        },
      }),
    );
    expect(Object.keys(config.environments)).toEqual(['dev', 'prod']);
    expect(
      readModelOpsConfig(
        new ConfigReader({
          modelops: {
            metrics: {
              querySets: {
                kserve: {
                  requestRate:
                    'sum by ($by) (rate(my_requests{$matchers}[$window]))',
                },
              },
            },
          },
        }),
      ).metrics.querySets,
    ).toEqual({
      kserve: {
        requestRate: 'sum by ($by) (rate(my_requests{$matchers}[$window]))',
      },
    });
    expect(config.metrics.prometheus).toEqual({
      url: 'http://127.0.0.1:9390',
      timeoutSeconds: 5,
      maxSeries: 100_000,
      maxResponseBytes: 16 * 1024 * 1024,
      compressed: false,
    });
  });

  it("leaves the GitHub Actions builder's block to its module", () => {
    const githubActions = { workflow: 'build.yml', repository: 'acme/images' };
    expect(
      readModelOpsConfig(
        new ConfigReader({ modelops: { builds: { githubActions } } }),
      ).builds.githubActions,
    ).toEqual(githubActions);
  });

  it.each([
    [
      {
        environments: {
          dev: { cluster: 'dev', namespace: 'models', clustr: 'x' },
        },
      },
      'modelops.environments.dev.clustr: unknown key',
    ],
    [{ enviroments: {} }, 'modelops.enviroments: unknown key'],
    [
      { environments: { Dev: { cluster: 'dev', namespace: 'models' } } },
      'modelops.environments.Dev',
    ],
    [
      { environments: { dev: { cluster: 'dev', namespace: 'Models!' } } },
      'modelops.environments.dev.namespace: must be a lowercase RFC 1123 label',
    ],
    [
      { metrics: { prometheus: { url: 'not a url' } } },
      'modelops.metrics.prometheus.url',
    ],
    [
      { environments: {}, builds: { environment: 'dev' } },
      'modelops.builds.environment: "dev" is not one of modelops.environments',
    ],
    [
      {
        metrics: { querySets: { generic: { errorRate: 'sum(rate(x[5m]))' } } },
      },
      'modelops.metrics.querySets.generic.errorRate: must select the service with $matchers',
    ],
    [
      { metrics: { querySets: { generic: { errorRatio: 'x{$matchers}' } } } },
      'modelops.metrics.querySets.generic.errorRatio: unknown key',
    ],
    [
      { metrics: { querySets: { tensorflow: {} } } },
      'modelops.metrics.querySets.tensorflow: unknown key',
    ],
    [
      { deployments: { allowInlineManifests: 'yes' } },
      'modelops.deployments.allowInlineManifests',
    ],
  ])('refuses %j naming the key', (modelops, message) => {
    expect(() => readModelOpsConfig(new ConfigReader({ modelops }))).toThrow(
      message,
    );
  });
});
