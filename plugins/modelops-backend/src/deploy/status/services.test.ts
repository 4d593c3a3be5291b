import { KubeObject } from '../../kubernetes/types';
import { LOAD_BALANCER_GRACE_MS, serviceStatuses } from './services';

const now = Date.parse('2026-12-01T12:00:00Z');

function service(
  name: string,
  spec: object,
  status: object = {},
  ageMs = 10 * LOAD_BALANCER_GRACE_MS,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      creationTimestamp: new Date(now - ageMs).toISOString(),
    },
    spec,
    status,
  };
}

describe('serviceStatuses', () => {
  it('shows a LoadBalancer address once assigned', () => {
    expect(
      serviceStatuses(
        [
          service(
            'web',
            { type: 'LoadBalancer' },
            {
              loadBalancer: {
                ingress: [{ ip: '10.1.2.3' }, { hostname: 'lb.example' }],
              },
            },
          ),
          service('internal', {}),
        ],
        { cluster: 'dev', now },
      ),
    ).toEqual([
      { name: 'internal', type: 'ClusterIP', addresses: [] },
      {
        name: 'web',
        type: 'LoadBalancer',
        addresses: ['10.1.2.3', 'lb.example'],
      },
    ]);
  });

  it('says why a LoadBalancer is pending', () => {
    const [young] = serviceStatuses(
      [service('web', { type: 'LoadBalancer' }, {}, 1000)],
      { cluster: 'dev', now },
    );
    expect(young.pending).toBe(
      'Waiting for a load-balancer controller to assign an address',
    );
    const [old] = serviceStatuses(
      [service('web', { type: 'LoadBalancer' }, { loadBalancer: {} })],
      { cluster: 'dev', now },
    );
    expect(old.addresses).toEqual([]);
    expect(old.pending).toContain(
      'no load-balancer controller seems to run on cluster dev',
    );
  });
});
