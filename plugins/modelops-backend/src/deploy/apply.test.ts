import { ConflictError } from '@backstage/errors';
import { errorFromResponse } from '../kubernetes/errors';
import { ResourceInfo } from '../kubernetes/types';
import { parseApplyConflict, sortForApply } from './apply';

const r = (kind: string, name = kind.toLowerCase()) => ({
  object: { apiVersion: 'v1', kind, metadata: { name, namespace: 'models' } },
  resource: { kind } as ResourceInfo,
});

describe('sortForApply', () => {
  it('puts dependencies first and keeps the order otherwise', () => {
    const sorted = sortForApply([
      r('PodDisruptionBudget'),
      r('HorizontalPodAutoscaler'),
      r('Deployment', 'b'),
      r('Widget'),
      r('Deployment', 'a'),
      r('Service'),
      r('ConfigMap'),
      r('ServiceAccount'),
      r('InferenceService'),
    ]);
    expect(
      sorted.map(x => `${x.object.kind}/${x.object.metadata.name}`),
    ).toEqual([
      'ServiceAccount/serviceaccount',
      'ConfigMap/configmap',
      'Service/service',
      'Deployment/b',
      'Deployment/a',
      'InferenceService/inferenceservice',
      'Widget/widget',
      'HorizontalPodAutoscaler/horizontalpodautoscaler',
      'PodDisruptionBudget/poddisruptionbudget',
    ]);
  });
});

describe('parseApplyConflict', () => {
  it('reads managers and fields from the Status causes', () => {
    const status = {
      kind: 'Status',
      code: 409,
      reason: 'Conflict',
      message:
        'Apply failed with 2 conflicts: conflicts with "someone-else" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="model-server"].image',
      details: {
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "someone-else" using apps/v1',
            field: '.spec.replicas',
          },
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "kubectl-edit" using apps/v1',
            field: '.spec.template.spec.containers[name="model-server"].image',
          },
        ],
      },
    };
    const error = errorFromResponse({
      cluster: 'dev',
      action: 'apply Deployment models/d',
      httpStatus: 409,
      body: status,
    });
    expect(error).toBeInstanceOf(ConflictError);
    expect(parseApplyConflict(error)).toEqual({
      managers: ['someone-else', 'kubectl-edit'],
      fields: [
        '.spec.replicas',
        '.spec.template.spec.containers[name="model-server"].image',
      ],
    });
  });

  it('copes with a conflict without details', () => {
    expect(parseApplyConflict(new ConflictError('x'))).toEqual({
      managers: [],
      fields: [],
    });
  });
});
