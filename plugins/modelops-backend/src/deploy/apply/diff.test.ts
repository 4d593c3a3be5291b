import { diffObjects, normalizeForDiff } from './diff';

describe('diffObjects', () => {
  const live = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'd',
      uid: 'u1',
      resourceVersion: '10',
      generation: 3,
      creationTimestamp: '2026-01-01T00:00:00Z',
      managedFields: [{ manager: 'x' }],
      labels: { 'app.kubernetes.io/name': 'd' },
      annotations: { 'modelops/revision': '1' },
    },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            {
              name: 'model-server',
              image: 'a/b:1',
              ports: [{ containerPort: 8080 }],
            },
          ],
        },
      },
    },
    status: { readyReplicas: 2 },
  };

  it('reports nothing for the same object with other server-owned fields', () => {
    const result = structuredClone(live);
    result.metadata.resourceVersion = '11';
    result.metadata.generation = 4;
    result.metadata.managedFields = [{ manager: 'y' }];
    result.status = { readyReplicas: 0 };
    expect(diffObjects(live, result)).toEqual([]);
  });

  it('names changed leaves with dotted paths and array indexes', () => {
    const result = structuredClone(live);
    result.spec.template.spec.containers[0].image = 'a/b:2';
    result.metadata.annotations['modelops/revision'] = '2';
    expect(diffObjects(live, result)).toEqual([
      {
        path: 'metadata.annotations["modelops/revision"]',
        before: '1',
        after: '2',
      },
      {
        path: 'spec.template.spec.containers[0].image',
        before: 'a/b:1',
        after: 'a/b:2',
      },
    ]);
  });

  it('lists the leaves of added and removed subtrees', () => {
    const result = structuredClone(live) as any;
    result.spec.template.spec.containers.push({
      name: 'sidecar',
      image: 'e:1',
    });
    delete result.spec.replicas;
    result.metadata.labels.team = 'x';
    expect(diffObjects(live, result)).toEqual([
      { path: 'metadata.labels.team', after: 'x' },
      { path: 'spec.replicas', before: 2 },
      { path: 'spec.template.spec.containers[1].image', after: 'e:1' },
      { path: 'spec.template.spec.containers[1].name', after: 'sidecar' },
    ]);
  });

  it('reports empty containers and type changes as one change', () => {
    expect(diffObjects({ a: {} }, {})).toEqual([{ path: 'a', before: {} }]);
    expect(diffObjects({ a: 1 }, { a: { b: 1 } })).toEqual([
      { path: 'a', before: 1, after: { b: 1 } },
    ]);
  });

  it('never mutates its input', () => {
    const copy = structuredClone(live);
    normalizeForDiff(live);
    diffObjects(live, {});
    expect(live).toEqual(copy);
  });
});
