import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/types';
import {
  isModelService,
  parseSlo,
  readModelServiceContract,
} from './annotations';

function entity(
  annotations: Record<string, string>,
  spec: JsonObject = { type: 'model-service' },
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'fraud-detector', annotations },
    spec,
  };
}

describe('isModelService', () => {
  it('accepts components of type model-service only', () => {
    expect(isModelService(entity({}))).toBe(true);
    expect(isModelService(entity({}, { type: 'Model-Service' }))).toBe(true);
    expect(isModelService(entity({}, { type: 'service' }))).toBe(false);
    expect(isModelService({ ...entity({}), kind: 'Resource' } as Entity)).toBe(
      false,
    );
  });
});

describe('readModelServiceContract', () => {
  it('reads a complete contract and applies defaults', () => {
    const contract = readModelServiceContract(
      entity({
        'backstage.io/kubernetes-id': 'fraud-detector',
        'modelops/image': 'registry.local:5000/risk/fraud-detector',
        'backstage.io/source-location': 'url:https://example.com/repo',
        'modelops/runtime': 'kserve',
        'modelops/slo': 'latency-p95-ms=250, error-rate=0.01',
      }),
    );
    expect(contract).toEqual({
      kubernetesId: 'fraud-detector',
      namespaceOverride: undefined,
      image: 'registry.local:5000/risk/fraud-detector',
      buildContext: 'url:https://example.com/repo',
      manifests: 'builtin:deployment',
      metricsSelector: undefined,
      metricsMatchers: [],
      runtime: 'kserve',
      slo: { 'latency-p95-ms': 250, 'error-rate': 0.01 },
      problems: [],
    });
  });

  it('parses modelops/metrics-selector into matchers', () => {
    const contract = readModelServiceContract(
      entity({
        'backstage.io/kubernetes-id': 'fraud-detector',
        'modelops/metrics-selector': 'team="risk", shadow!="true"',
      }),
    );
    expect(contract.problems).toEqual([]);
    expect(contract.metricsMatchers).toEqual([
      { name: 'team', op: '=', value: 'risk' },
      { name: 'shadow', op: '!=', value: 'true' },
    ]);
  });

  it.each([
    'team="risk"} or vector(1) or {a="',
    'team=~".*"',
    'team="risk"\nor up',
  ])('reports a metrics selector that is not plain matchers: %j', selector => {
    const contract = readModelServiceContract(
      entity({
        'backstage.io/kubernetes-id': 'fraud-detector',
        'modelops/metrics-selector': selector,
      }),
    );
    expect(contract.metricsMatchers).toEqual([]);
    expect(contract.problems).toEqual([
      {
        annotation: 'modelops/metrics-selector',
        message: expect.stringContaining('is not a list of label matchers'),
      },
    ]);
  });

  it('reports a missing kubernetes-id', () => {
    const { problems } = readModelServiceContract(entity({}));
    expect(problems).toEqual([
      expect.objectContaining({ annotation: 'backstage.io/kubernetes-id' }),
    ]);
  });

  it.each([
    ['backstage.io/kubernetes-id', 'bad id with spaces'],
    ['backstage.io/kubernetes-id', 'x'.repeat(64)],
    ['backstage.io/kubernetes-namespace', 'Models_Prod'],
    ['modelops/image', 'Registry/UPPER:tag'],
    ['modelops/manifests', 'builtin:statefulset'],
    ['modelops/runtime', 'tensorflow'],
    ['modelops/slo', 'latency-p95-ms=fast'],
  ])('reports a malformed %s (%s)', (annotation, value) => {
    const { problems } = readModelServiceContract(
      entity({ 'backstage.io/kubernetes-id': 'svc', [annotation]: value }),
    );
    expect(problems.map(p => p.annotation)).toContain(annotation);
    expect(problems.find(p => p.annotation === annotation)!.message).toMatch(
      /\S/,
    );
  });
});

describe('parseSlo', () => {
  it('parses known keys and reports the rest', () => {
    expect(
      parseSlo('latency-p95-ms=250,error-rate=0.01,drift-psi=0.2,foo=1,bar'),
    ).toEqual({
      slo: { 'latency-p95-ms': 250, 'error-rate': 0.01, 'drift-psi': 0.2 },
      errors: [
        expect.stringContaining('unknown key "foo"'),
        '"bar" is not key=value',
      ],
    });
  });

  it('refuses negative, empty and non-finite values', () => {
    expect(
      parseSlo('error-rate=-1,drift-psi=,latency-p99-ms=Infinity').errors,
    ).toHaveLength(3);
  });
});
