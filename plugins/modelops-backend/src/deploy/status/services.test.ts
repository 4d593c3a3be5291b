import { KubeObject } from '../../kubernetes/types';
import { serviceStatuses } from './services';

function service(name: string, spec: object, status: object = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
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
        { cluster: 'dev' },
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
    const [pending] = serviceStatuses(
      [
        service(
          'web',
          { type: 'LoadBalancer', loadBalancerClass: 'metallb' },
          { loadBalancer: {} },
        ),
      ],
      { cluster: 'dev' },
    );
    expect(pending.addresses).toEqual([]);
    expect(pending.pending).toContain(
      'No address yet: no load-balancer controller of class "metallb" on cluster dev has assigned one',
    );
  });
});
