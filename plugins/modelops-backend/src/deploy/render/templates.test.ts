import { InputError } from '@backstage/errors';
import { renderManifests } from './render';
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
const image = 'registry.local/models/fraud-detector:1.2.3';
const renderOptions = {
  namespace: 'models',
  kubernetesId: 'fraud-detector',
  entityRef: 'component:default/fraud-detector',
  image,
};

describe('builtinManifests', () => {
  it('builds Deployment, Service and HPA for the deployment template', () => {
    const [dep, svc, hpa] = renderManifests(
      builtinManifests('deployment', ctx),
      renderOptions,
    ) as any[];
    expect(dep.kind).toBe('Deployment');
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.selector.matchLabels).toEqual({
      'backstage.io/kubernetes-id': 'fraud-detector',
    });
    const container = dep.spec.template.spec.containers[0];
    expect(container.name).toBe('model-server');
    expect(container.image).toBe(image);
    expect(container.ports[0].containerPort).toBe(8080);
    expect(container.readinessProbe.httpGet.path).toBe('/v2/health/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/v2/health/live');
    expect(container.resources.requests.cpu).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    expect(container.env).toContainEqual({
      name: 'MODEL_RUNTIME',
      value: 'kserve',
    });
    expect(dep.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/metrics',
    });
    expect(svc.spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
    ]);
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 5,
      scaleTargetRef: { kind: 'Deployment', name: 'fraud-detector' },
    });
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(70);
  });

  it('builds one InferenceService for the kserve template', () => {
    const objects = renderManifests(
      builtinManifests('kserve', ctx),
      renderOptions,
    ) as any[];
    expect(objects).toHaveLength(1);
    expect(objects[0].apiVersion).toBe('serving.kserve.io/v1beta1');
    expect(objects[0].spec.predictor.containers[0]).toMatchObject({
      name: 'kserve-container',
      image,
    });
  });

  it('validates the image', () => {
    expect(
      thrown(() =>
        renderManifests(builtinManifests('deployment', ctx), {
          ...renderOptions,
          image: 'bad image',
        }),
      ),
    ).toBeInstanceOf(InputError);
  });

  it('has no image of its own: a deploy must bring one', () => {
    const [dep] = builtinManifests('deployment', ctx) as any[];
    expect(dep.spec.template.spec.containers[0].image).toBeUndefined();
    const error = thrown(() =>
      renderManifests(builtinManifests('deployment', ctx), {
        ...renderOptions,
        image: undefined,
      }),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(
      'An image is required: Deployment "fraud-detector" (object 1): container "model-server" names no image of its own; pass image',
    );
  });
});
