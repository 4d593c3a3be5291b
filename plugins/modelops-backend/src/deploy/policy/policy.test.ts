import { ResourceIndex } from '../../kubernetes/ResourceIndex';
import { ResourceInfo } from '../../kubernetes/types';
import { KubeObject } from '../../kubernetes/types';
import { InputError } from '@backstage/errors';
import { ClusterClient } from '../../kubernetes/ClusterClient';
import { checkObjects, validateObjects } from './policy';

function res(
  apiVersion: string,
  kind: string,
  plural: string,
  namespaced = true,
  preferred = true,
): ResourceInfo {
  const slash = apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : apiVersion.slice(0, slash),
    version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
    apiVersion,
    kind,
    plural,
    namespaced,
    verbs: ['get', 'list', 'patch', 'delete'],
    preferred,
  };
}

const index = new ResourceIndex([
  res('v1', 'ConfigMap', 'configmaps'),
  res('v1', 'Secret', 'secrets'),
  res('v1', 'Service', 'services'),
  res('v1', 'Namespace', 'namespaces', false),
  res('apps/v1', 'Deployment', 'deployments'),
  res('batch/v1', 'Job', 'jobs'),
  res('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers'),
  res(
    'autoscaling/v1',
    'HorizontalPodAutoscaler',
    'horizontalpodautoscalers',
    true,
    false,
  ),
  res('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  res('example.com/v1', 'Deployment', 'deployments'),
  res('serving.kserve.io/v1beta1', 'InferenceService', 'inferenceservices'),
]);

function obj(
  apiVersion: string,
  kind: string,
  name: string,
  namespace = 'models',
): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace } };
}

const opts = { cluster: 'dev', namespace: 'models' };

describe('checkObjects', () => {
  it('resolves allowed kinds with their discovery info', () => {
    const { resolved, problems } = checkObjects(
      [
        obj('apps/v1', 'Deployment', 'd'),
        obj('autoscaling/v1', 'HorizontalPodAutoscaler', 'h'),
        obj('serving.kserve.io/v1beta1', 'InferenceService', 'i'),
      ],
      index,
      opts,
    );
    expect(problems).toEqual([]);
    expect(resolved.map(r => r.resource.plural)).toEqual([
      'deployments',
      'horizontalpodautoscalers',
      'inferenceservices',
    ]);
    expect(resolved[1].resource.version).toBe('v1');
  });

  it('names the group a kind really lives in', () => {
    const { problems } = checkObjects(
      [obj('extensions/v1beta1', 'HorizontalPodAutoscaler', 'h')],
      index,
      opts,
    );
    expect(problems).toEqual([
      'HorizontalPodAutoscaler is not served by extensions/v1beta1 on cluster dev; it is served by autoscaling/v2, autoscaling/v1 (change apiVersion of HorizontalPodAutoscaler "h")',
    ]);
  });

  it('suggests the right case and reports unknown kinds', () => {
    const { problems } = checkObjects(
      [obj('apps/v1', 'deployment', 'a'), obj('acme.io/v1', 'Widget', 'w')],
      index,
      opts,
    );
    expect(problems[0]).toContain('did you mean Deployment (apps/v1)?');
    expect(problems[1]).toContain(
      'acme.io/v1 Widget is not served by cluster dev',
    );
  });

  it('collects every policy problem', () => {
    const { resolved, problems } = checkObjects(
      [
        obj('v1', 'ConfigMap', 'ok'),
        obj('v1', 'Secret', 's'),
        obj('batch/v1', 'Job', 'j'),
        obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'cr'),
        obj('v1', 'Namespace', 'ns'),
        obj('v1', 'ConfigMap', 'ok'),
        obj('example.com/v1', 'Deployment', 'fake'),
      ],
      index,
      opts,
    );
    // Another namespace is refused once, when rendering forces the
    // environment's (render/render.test.ts).
    expect(resolved.map(r => r.object.metadata.name)).toEqual(['ok']);
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/Secret "s" is a Secret/);
    expect(problems.join('\n')).toMatch(
      /Job "j" \(batch\/v1\) is not a kind ModelOps may deploy/,
    );
    expect(problems.join('\n')).toMatch(/ClusterRole "cr" is cluster-scoped/);
    expect(problems.join('\n')).toMatch(/Namespace "ns" is cluster-scoped/);
    expect(problems.join('\n')).toMatch(
      /ConfigMap "ok" appears more than once \(objects 1 and 6\)/,
    );
    expect(problems.join('\n')).toMatch(
      /Deployment "fake" \(example.com\/v1\) is not a kind/,
    );
  });

  it('allows Secrets and extra kinds when configured', () => {
    const { problems } = checkObjects(
      [obj('v1', 'Secret', 's'), obj('batch/v1', 'Job', 'j')],
      index,
      { ...opts, allowSecrets: true, allowedKinds: ['Secret', 'batch/Job'] },
    );
    expect(problems).toEqual([]);
  });

  it('treats the same kind and name in two versions of a group as a duplicate', () => {
    const { problems } = checkObjects(
      [
        obj('autoscaling/v2', 'HorizontalPodAutoscaler', 'h'),
        obj('autoscaling/v1', 'HorizontalPodAutoscaler', 'h'),
      ],
      index,
      opts,
    );
    expect(problems[0]).toMatch(/appears more than once/);
  });

  describe('dangerous fields', () => {
    const withSpec = (o: KubeObject, spec: object): KubeObject => ({
      ...o,
      spec,
    });
    const pod = (extra: object, container: object = {}) => ({
      containers: [{ name: 'model-server', image: 'm:1', ...container }],
      ...extra,
    });

    it('refuses Service external IPs and non-ClusterIP types, naming the field', () => {
      const { resolved, problems } = checkObjects(
        [
          withSpec(obj('v1', 'Service', 'ext'), { externalIPs: ['1.2.3.4'] }),
          withSpec(obj('v1', 'Service', 'np'), { type: 'NodePort' }),
          withSpec(obj('v1', 'Service', 'lb'), { type: 'LoadBalancer' }),
          withSpec(obj('v1', 'Service', 'en'), {
            type: 'ExternalName',
            externalName: 'evil.example.com',
          }),
          withSpec(obj('v1', 'Service', 'ok'), {
            type: 'ClusterIP',
            externalIPs: [],
          }),
        ],
        index,
        opts,
      );
      expect(resolved.map(r => r.object.metadata.name)).toEqual(['ok']);
      expect(problems).toEqual([
        expect.stringMatching(
          /^Service "ext": spec\.externalIPs is not allowed/,
        ),
        expect.stringMatching(
          /^Service "np": spec\.type NodePort is not allowed/,
        ),
        expect.stringMatching(
          /^Service "lb": spec\.type LoadBalancer is not allowed/,
        ),
        expect.stringMatching(
          /^Service "en": spec\.type ExternalName is not allowed/,
        ),
      ]);
    });

    it('allows the Service types and external IPs an environment allows', () => {
      const services = [
        withSpec(obj('v1', 'Service', 'lb'), { type: 'LoadBalancer' }),
        withSpec(obj('v1', 'Service', 'np'), { type: 'NodePort' }),
        withSpec(obj('v1', 'Service', 'plain'), {}),
        withSpec(obj('v1', 'Service', 'ext'), { externalIPs: ['1.2.3.4'] }),
      ];
      const dev = checkObjects(services, index, {
        ...opts,
        environment: 'dev',
        allowedServiceTypes: ['ClusterIP', 'LoadBalancer'],
      });
      expect(dev.resolved.map(r => r.object.metadata.name)).toEqual([
        'lb',
        'plain',
      ]);
      expect(dev.problems).toEqual([
        'Service "np": spec.type NodePort is not allowed (environment "dev" allows ClusterIP, LoadBalancer Services; a platform engineer can allow NodePort with modelops.environments.dev.allowedServiceTypes or modelops.deployments.allowedServiceTypes)',
        expect.stringMatching(
          /^Service "ext": spec\.externalIPs is not allowed .*modelops\.environments\.dev\.allowExternalIPs/,
        ),
      ]);
      const open = checkObjects(services, index, {
        ...opts,
        allowedServiceTypes: ['ClusterIP', 'LoadBalancer', 'NodePort'],
        allowExternalIPs: true,
      });
      expect(open.problems).toEqual([]);
    });

    it('refuses host access and privileged containers in Deployments', () => {
      const { resolved, problems } = checkObjects(
        [
          withSpec(obj('apps/v1', 'Deployment', 'x'), {
            template: {
              spec: {
                ...pod(
                  {
                    hostNetwork: true,
                    hostPID: true,
                    hostIPC: true,
                    volumes: [
                      { name: 'cfg', configMap: { name: 'c' } },
                      { name: 'root', hostPath: { path: '/' } },
                    ],
                    initContainers: [
                      {
                        name: 'init',
                        securityContext: {
                          capabilities: { add: ['NET_BIND_SERVICE', 'ALL'] },
                        },
                      },
                    ],
                  },
                  { securityContext: { privileged: true } },
                ),
              },
            },
          }),
          withSpec(obj('apps/v1', 'Deployment', 'fine'), {
            template: {
              spec: pod(
                { hostNetwork: false },
                {
                  securityContext: {
                    privileged: false,
                    capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                  },
                },
              ),
            },
          }),
        ],
        index,
        opts,
      );
      expect(resolved.map(r => r.object.metadata.name)).toEqual(['fine']);
      expect(problems.map(p => p.split(' is not allowed')[0])).toEqual([
        'Deployment "x": spec.template.spec.hostNetwork',
        'Deployment "x": spec.template.spec.hostPID',
        'Deployment "x": spec.template.spec.hostIPC',
        'Deployment "x": spec.template.spec.volumes[1].hostPath',
        'Deployment "x": spec.template.spec.initContainers[0].securityContext.capabilities.add ALL',
        'Deployment "x": spec.template.spec.containers[0].securityContext.privileged',
      ]);
    });

    it('refuses the same in InferenceService predictors', () => {
      const { problems } = checkObjects(
        [
          withSpec(obj('serving.kserve.io/v1beta1', 'InferenceService', 'i'), {
            predictor: pod(
              { hostNetwork: true, volumes: [{ hostPath: { path: '/var' } }] },
              { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } },
            ),
          }),
          withSpec(obj('serving.kserve.io/v1beta1', 'InferenceService', 'j'), {
            predictor: {
              model: {
                modelFormat: { name: 'sklearn' },
                securityContext: { capabilities: { add: ['NET_ADMIN'] } },
              },
            },
          }),
        ],
        index,
        opts,
      );
      expect(problems.map(p => p.split(' is not allowed')[0])).toEqual([
        'InferenceService "i": spec.predictor.hostNetwork',
        'InferenceService "i": spec.predictor.volumes[0].hostPath',
        'InferenceService "i": spec.predictor.containers[0].securityContext.capabilities.add SYS_ADMIN',
        'InferenceService "j": spec.predictor.model.securityContext.capabilities.add NET_ADMIN',
      ]);
    });

    it('reports them in the single InputError of validateObjects, with the other problems', async () => {
      const client = {
        name: 'dev',
        discover: async () => index,
      } as unknown as ClusterClient;
      const error = await validateObjects(
        [
          obj('v1', 'Secret', 's'),
          withSpec(obj('v1', 'Service', 'lb'), { type: 'LoadBalancer' }),
          withSpec(obj('apps/v1', 'Deployment', 'x'), {
            template: { spec: pod({ hostNetwork: true }) },
          }),
        ],
        { client, namespace: 'models' },
      ).catch(e => e);
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toContain('(1) Secret "s" is a Secret');
      expect(error.message).toContain(
        '(2) Service "lb": spec.type LoadBalancer is not allowed',
      );
      expect(error.message).toContain(
        '(3) Deployment "x": spec.template.spec.hostNetwork is not allowed',
      );
    });
  });
});
