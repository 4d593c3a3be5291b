import { ResourceIndex } from '../kubernetes/ResourceIndex';
import { ResourceInfo } from '../kubernetes/types';
import { KubeObject } from '../kubernetes/types';
import { checkObjects } from './validate';

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
        obj('v1', 'ConfigMap', 'elsewhere', 'kube-system'),
        obj('v1', 'ConfigMap', 'ok'),
        obj('example.com/v1', 'Deployment', 'fake'),
      ],
      index,
      opts,
    );
    expect(resolved.map(r => r.object.metadata.name)).toEqual([
      'ok',
      'elsewhere',
    ]);
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).toMatch(/Secret "s" is a Secret/);
    expect(problems.join('\n')).toMatch(
      /Job "j" \(batch\/v1\) is not a kind ModelOps may deploy/,
    );
    expect(problems.join('\n')).toMatch(/ClusterRole "cr" is cluster-scoped/);
    expect(problems.join('\n')).toMatch(/Namespace "ns" is cluster-scoped/);
    expect(problems.join('\n')).toMatch(/names namespace "kube-system"/);
    expect(problems.join('\n')).toMatch(
      /ConfigMap "ok" appears more than once \(objects 1 and 7\)/,
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
});
