import { InputError } from '@backstage/errors';
import { parseManifests } from '../source/yaml';
import { modelImageOf, renderManifests, stampRevision } from './render';
import { builtinManifests } from './templates';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

const ctx = {
  kubernetesId: 'fraud-detector',
  namespace: 'models',
  runtime: 'kserve',
};

describe('renderManifests', () => {
  const base = {
    namespace: 'models',
    kubernetesId: 'fraud-detector',
    revision: 7,
    entityRef: 'component:default/fraud-detector',
  };

  it('stamps namespace, labels and annotations without mutating the input', () => {
    const input = parseManifests(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: d, labels: { team: a } }
spec:
  selector: { matchLabels: { app: d } }
  template:
    metadata: { labels: { app: d } }
    spec: { containers: [{ name: c, image: "x/y:1" }] }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: c, namespace: models }
`);
    const snapshot = structuredClone(input);
    const [dep, cm] = renderManifests(input, base) as any[];
    expect(input).toEqual(snapshot);
    expect(dep.metadata.namespace).toBe('models');
    expect(dep.metadata.labels).toEqual({
      team: 'a',
      'backstage.io/kubernetes-id': 'fraud-detector',
      'app.kubernetes.io/managed-by': 'backstage-modelops',
    });
    expect(dep.metadata.annotations).toEqual({
      'modelops/revision': '7',
      'modelops/entity-ref': 'component:default/fraud-detector',
    });
    expect(dep.spec.template.metadata.labels).toEqual({
      app: 'd',
      'backstage.io/kubernetes-id': 'fraud-detector',
      'app.kubernetes.io/managed-by': 'backstage-modelops',
    });
    expect(dep.spec.selector).toEqual({ matchLabels: { app: 'd' } });
    expect(dep.spec.template.spec.containers[0].image).toBe('x/y:1');
    expect(cm.metadata.labels['backstage.io/kubernetes-id']).toBe(
      'fraud-detector',
    );
  });

  it('refuses an object that names another namespace', () => {
    const input = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: kube-system }\n',
    );
    const error = thrown(() => renderManifests(input, base));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('"kube-system"');
  });

  it('sets the image on the container of the entity repository, else the first', () => {
    const input = parseManifests(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: d }
spec:
  template:
    spec:
      containers:
      - { name: sidecar, image: "envoy:1" }
      - { name: model, image: "registry.local/models/fraud:1" }
`);
    const [byRepo] = renderManifests(input, {
      ...base,
      image: 'registry.local/models/fraud:2',
      imageRepository: 'registry.local/models/fraud',
    }) as any[];
    expect(
      byRepo.spec.template.spec.containers.map((c: any) => c.image),
    ).toEqual(['envoy:1', 'registry.local/models/fraud:2']);
    const [first] = renderManifests(input, {
      ...base,
      image: 'registry.local/models/fraud:3',
    }) as any[];
    expect(first.spec.template.spec.containers[0].image).toBe(
      'registry.local/models/fraud:3',
    );
  });

  it('sets the predictor image of an InferenceService', () => {
    const [isvc] = renderManifests(builtinManifests('kserve', ctx), {
      ...base,
      image: 'registry.local/models/fraud-detector:9',
    }) as any[];
    expect(isvc.spec.predictor.containers[0].image).toBe(
      'registry.local/models/fraud-detector:9',
    );
    const noPredictor = parseManifests(
      'apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: { name: i }\nspec: {}\n',
    );
    expect(
      thrown(() => renderManifests(noPredictor, { ...base, image: 'a/b:1' }))
        .message,
    ).toContain('no predictor container');
  });

  it('refuses image references with quotes or newlines', () => {
    const input = builtinManifests('deployment', ctx);
    for (const image of ['a/b:1"', 'a/b:1\nx', 'a b']) {
      expect(
        thrown(() => renderManifests(input, { ...base, image })),
      ).toBeInstanceOf(InputError);
    }
  });

  it('labels every object as a member of the entity and environment set', () => {
    const input = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n',
    );
    const [dev] = renderManifests(input, { ...base, environment: 'dev' });
    const [prod] = renderManifests(input, { ...base, environment: 'prod' });
    const [other] = renderManifests(input, {
      ...base,
      entityRef: 'component:default/other',
      environment: 'dev',
    });
    const setOf = (o: any) =>
      o.metadata.labels['applyset.kubernetes.io/part-of'];
    expect(setOf(dev)).toMatch(/^applyset-[A-Za-z0-9_-]{43}-v1$/);
    expect(new Set([setOf(dev), setOf(prod), setOf(other)]).size).toBe(3);
    expect(dev.metadata.annotations!['modelops/environment']).toBe('dev');
  });

  it('keeps the images of manifests that name their own, without an image option', () => {
    const input = parseManifests(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      containers:
      - { name: nginx, image: "nginx:1.27" }
`);
    const [dep] = renderManifests(input, base) as any[];
    expect(dep.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(modelImageOf([dep], undefined)).toBe('nginx:1.27');
  });

  it('refuses a workload container without an image when no image is given', () => {
    const input = parseManifests(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      containers:
      - { name: nginx, image: "nginx:1.27" }
      - { name: sidecar }
`);
    const error = thrown(() => renderManifests(input, base));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(
      'An image is required: Deployment "web" (object 1): container "sidecar" names no image of its own',
    );
  });

  it('picks the container a built-in template names before the first one', () => {
    const input = parseManifests(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: d }
spec:
  template:
    spec:
      containers:
      - { name: proxy, image: "envoy:1" }
      - { name: model-server, image: "old/model:1" }
`);
    const [dep] = renderManifests(input, { ...base, image: 'new/model:2' });
    expect(
      (dep.spec as any).template.spec.containers.map((c: any) => c.image),
    ).toEqual(['envoy:1', 'new/model:2']);
  });

  it('stamps a revision on copies', () => {
    const input = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n',
    );
    const rendered = renderManifests(input, { ...base, revision: undefined });
    expect(rendered[0].metadata.annotations!['modelops/revision']).toBe(
      undefined,
    );
    const [stamped] = stampRevision(rendered, 3);
    expect(stamped.metadata.annotations!['modelops/revision']).toBe('3');
    expect(rendered[0].metadata.annotations!['modelops/revision']).toBe(
      undefined,
    );
  });
});
