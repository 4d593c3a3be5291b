import { KubeObject } from '../kubernetes/types';
import { canaryReplicas, toCanary } from './canary';

describe('canaryReplicas', () => {
  it.each([
    // stable pods, percent, canary pods: the whole number nearest the share
    [3, 25, 1],
    [2, 25, 1],
    [9, 25, 3],
    [10, 10, 1],
    [4, 50, 4],
    [1, 5, 1],
  ])(
    '%i stable pods at %i %% get %i canary pod(s)',
    (stable, percent, want) => {
      expect(canaryReplicas(stable, percent)).toBe(want);
    },
  );

  it('keeps a 25 % canary next to 3 stable pods at 25 % of the pods', () => {
    const c = canaryReplicas(3, 25);
    expect(c / (c + 3)).toBe(0.25);
  });
});

describe('toCanary', () => {
  const stable: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'fraud-detector',
      namespace: 'models',
      labels: { 'backstage.io/kubernetes-id': 'fraud-detector' },
    },
    spec: {
      replicas: 3,
      selector: {
        matchLabels: { 'backstage.io/kubernetes-id': 'fraud-detector' },
      },
      template: {
        metadata: {
          labels: { 'backstage.io/kubernetes-id': 'fraud-detector' },
        },
        spec: { containers: [{ name: 'model-server', image: 'r/m:2' }] },
      },
    },
  };

  it('renames it, labels it, its selector and its pods as the canary, and sizes it', () => {
    const canary = toCanary(stable, 1) as any;
    expect(canary.metadata.name).toBe('fraud-detector-canary');
    expect(canary.metadata.labels).toEqual({
      'backstage.io/kubernetes-id': 'fraud-detector',
      'modelops/track': 'canary',
    });
    expect(canary.spec.replicas).toBe(1);
    expect(canary.spec.selector.matchLabels).toEqual({
      'backstage.io/kubernetes-id': 'fraud-detector',
      'modelops/track': 'canary',
    });
    // The stable Service's selector (the kubernetes-id) still selects its pods.
    expect(canary.spec.template.metadata.labels).toMatchObject({
      'backstage.io/kubernetes-id': 'fraud-detector',
      'modelops/track': 'canary',
    });
    expect(canary.spec.template.spec).toEqual(
      (stable.spec as any).template.spec,
    );
  });

  it('leaves the stable Deployment as it was', () => {
    const before = structuredClone(stable);
    toCanary(stable, 1);
    expect(stable).toEqual(before);
  });
});
