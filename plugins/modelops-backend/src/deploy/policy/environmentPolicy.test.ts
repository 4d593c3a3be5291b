import { ConfigReader } from '@backstage/config';
import { readModelOpsConfig } from '../../config';
import { environmentPolicy } from './environmentPolicy';

function config(modelops: object) {
  return readModelOpsConfig(new ConfigReader({ modelops }));
}

describe('environmentPolicy', () => {
  it('is ClusterIP only, no inline manifests and no external IPs by default', () => {
    const c = config({
      environments: { dev: { cluster: 'dev', namespace: 'models' } },
    });
    expect(environmentPolicy(c, 'dev')).toEqual({
      environment: 'dev',
      allowInlineManifests: false,
      allowedServiceTypes: ['ClusterIP'],
      allowExternalIPs: false,
    });
  });

  it('lets an environment override modelops.deployments', () => {
    const c = config({
      environments: {
        dev: {
          cluster: 'dev',
          namespace: 'models',
          allowInlineManifests: true,
          allowedServiceTypes: ['ClusterIP', 'LoadBalancer'],
        },
        prod: { cluster: 'prod', namespace: 'models' },
      },
      deployments: { allowExternalIPs: true },
    });
    expect(environmentPolicy(c, 'dev')).toMatchObject({
      allowInlineManifests: true,
      allowedServiceTypes: ['ClusterIP', 'LoadBalancer'],
      allowExternalIPs: true,
    });
    expect(environmentPolicy(c, 'prod')).toMatchObject({
      allowInlineManifests: false,
      allowedServiceTypes: ['ClusterIP'],
    });
  });

  it('refuses unknown Service types, naming the key', () => {
    expect(() =>
      config({
        environments: {
          dev: {
            cluster: 'dev',
            namespace: 'models',
            allowedServiceTypes: ['Ingress'],
          },
        },
      }),
    ).toThrow(
      /modelops\.environments\.dev\.allowedServiceTypes\.0: Invalid enum value/,
    );
    expect(() => config({ deployments: { allowedServiceTypes: [] } })).toThrow(
      'modelops.deployments.allowedServiceTypes: must list at least one Service type',
    );
  });
});
