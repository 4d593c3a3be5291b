import { ConfigReader } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { readModelOpsConfig } from '../config';
import { toModelServiceTarget } from '../service/entities';
import { HealthService } from './HealthService';

function service(name: string, runtime: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      annotations: {
        'backstage.io/kubernetes-id': name,
        'modelops/runtime': runtime,
      },
    },
    spec: { type: 'model-service', owner: 'team-a', lifecycle: 'production' },
  };
}

describe('HealthService.query', () => {
  it('says why a service can be monitored in none of its environments, also when no other service shares its runtime', async () => {
    // Every environment of the Seldon service is in error (an unknown
    // cluster): nothing is read for it, and no query is asked for its
    // runtime. The cluster and metrics source are never reached.
    const unreachable = () => {
      throw new Error('not reached');
    };
    const health = new HealthService({
      config: readModelOpsConfig(new ConfigReader({})),
      environments: {
        resolve: ({ target }: any) => ({
          entityRef: target.ref,
          environments: ['dev', 'prod'].map(name => ({
            name,
            cluster: `${name}-cluster`,
            namespace: 'models',
            namespaceSource: 'environment',
            error: {
              reason: 'UnknownCluster',
              message: `cluster ${name}-cluster is not configured`,
            },
          })),
        }),
      } as any,
      deployments: { status: unreachable } as any,
      clusters: { get: unreachable } as any,
      store: {} as any,
      references: {} as any,
      source: { instant: unreachable, range: unreachable } as any,
    });
    const answer = await health.query({
      targets: [toModelServiceTarget(service('seldon-only', 'seldon'))],
    });
    expect(answer.items).toEqual([
      expect.objectContaining({
        entityRef: 'component:default/seldon-only',
        runtime: 'seldon',
        status: 'unknown',
        environments: [
          {
            environment: 'dev',
            cluster: 'dev-cluster',
            namespace: 'models',
            status: 'unknown',
            reason: 'cluster dev-cluster is not configured',
            values: {},
          },
          {
            environment: 'prod',
            cluster: 'prod-cluster',
            namespace: 'models',
            status: 'unknown',
            reason: 'cluster prod-cluster is not configured',
            values: {},
          },
        ],
      }),
    ]);
  });
});
