import { NotAllowedError } from '@backstage/errors';
import { ClusterClient } from '../../kubernetes/ClusterClient';
import { ResourceIndex } from '../../kubernetes/ResourceIndex';
import { KubeObject, ResourceInfo } from '../../kubernetes/types';
import { findPruneCandidates, pruneObjects } from './prune';

const SET = 'applyset-abc-v1';
const ENTITY = 'component:default/fraud-detector';

function res(apiVersion: string, kind: string, plural: string): ResourceInfo {
  const [group, version] = apiVersion.includes('/')
    ? apiVersion.split('/')
    : ['', apiVersion];
  return {
    group,
    version,
    apiVersion,
    kind,
    plural,
    namespaced: true,
    verbs: ['get', 'list', 'patch', 'delete'],
    preferred: true,
  };
}

const resources = [
  res('v1', 'ConfigMap', 'configmaps'),
  res('v1', 'Secret', 'secrets'),
  res('apps/v1', 'Deployment', 'deployments'),
  res('batch/v1', 'Job', 'jobs'),
  res('serving.kserve.io/v1beta1', 'InferenceService', 'inferenceservices'),
];

function member(
  kind: string,
  name: string,
  extra: { entityRef?: string; set?: string; owned?: boolean } = {},
): KubeObject {
  return {
    apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
    kind,
    metadata: {
      name,
      namespace: 'models',
      labels: { 'applyset.kubernetes.io/part-of': extra.set ?? SET },
      annotations: { 'modelops/entity-ref': extra.entityRef ?? ENTITY },
      ...(extra.owned
        ? { ownerReferences: [{ kind: 'Deployment', controller: true }] }
        : {}),
    },
  };
}

/** A cluster of listed objects; answers label selectors like the API server. */
function cluster(objects: Record<string, KubeObject[]>) {
  const listed: string[] = [];
  const deleted: string[] = [];
  const client = {
    name: 'dev',
    discover: async () => new ResourceIndex(resources),
    list: async (
      r: ResourceInfo,
      _ns: string,
      o: { labelSelector: string },
    ) => {
      listed.push(r.kind);
      if (r.kind === 'InferenceService') {
        throw new NotAllowedError('no grant');
      }
      const [key, value] = o.labelSelector.split('=');
      return (objects[r.kind] ?? []).filter(
        x => x.metadata.labels?.[key] === value,
      );
    },
    delete: async (r: ResourceInfo, _ns: string, name: string) => {
      deleted.push(`${r.kind}/${name}`);
      return true;
    },
  };
  return { client: client as unknown as ClusterClient, listed, deleted };
}

describe('findPruneCandidates', () => {
  it("finds the set's members the manifests dropped, and nothing else", async () => {
    const { client, listed } = cluster({
      ConfigMap: [
        member('ConfigMap', 'kept'),
        member('ConfigMap', 'dropped'),
        member('ConfigMap', 'other-set', { set: 'applyset-other-v1' }),
        member('ConfigMap', 'forged', { entityRef: 'component:default/x' }),
      ],
      Deployment: [
        member('Deployment', 'old-model'),
        member('Deployment', 'controlled', { owned: true }),
      ],
      Secret: [member('Secret', 'never')],
      Job: [member('Job', 'never')],
    });
    const candidates = await findPruneCandidates(client, {
      namespace: 'models',
      setId: SET,
      entityRef: ENTITY,
      keep: [member('ConfigMap', 'kept')],
    });
    // Dependents first: the Deployment before its ConfigMap.
    expect(
      candidates.map(c => `${c.object.kind}/${c.object.metadata.name}`),
    ).toEqual(['Deployment/old-model', 'ConfigMap/dropped']);
    // Only allowlisted kinds are searched: no Secrets, no Jobs.
    expect(listed.sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'InferenceService',
    ]);
  });

  it('deletes the candidates and says what was deleted when one fails', async () => {
    const { client, deleted } = cluster({});
    const candidates = [
      { object: member('Deployment', 'a'), resource: resources[2] },
      { object: member('ConfigMap', 'b'), resource: resources[0] },
    ];
    expect(await pruneObjects(client, candidates, 'models')).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'a',
        operation: 'delete',
        changes: [],
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'b',
        operation: 'delete',
        changes: [],
      },
    ]);
    expect(deleted).toEqual(['Deployment/a', 'ConfigMap/b']);

    (client as any).delete = async (
      _r: ResourceInfo,
      _ns: string,
      n: string,
    ) => {
      if (n === 'b') throw new NotAllowedError('Cluster dev refused');
      return true;
    };
    const error = await pruneObjects(client, candidates, 'models').catch(
      e => e,
    );
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(error.message).toBe(
      'The manifests were applied, but pruning stopped at ConfigMap "b" after deleting Deployment "a": Cluster dev refused',
    );
  });
});
