import { ServiceUnavailableError } from '@backstage/errors';
import { ConflictError } from '@backstage/errors';
import { ApplyOptions, ClusterClient } from '../../kubernetes/ClusterClient';
import { errorFromResponse } from '../../kubernetes/errors';
import { KubeObject, ResourceInfo } from '../../kubernetes/types';
import {
  applyObjects,
  checkOwnership,
  parseApplyConflict,
  sortForApply,
} from './apply';
import { ANNOTATION_ENTITY_REF } from '../labels';

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

describe('applyObjects ownership', () => {
  const ENTITY = 'component:default/fraud-detector';
  const OTHER = 'component:default/other';
  const deployment = { kind: 'Deployment', group: 'apps' } as ResourceInfo;
  const configMap = { kind: 'ConfigMap', group: '' } as ResourceInfo;

  function desired(kind: string, name: string, entityRef = ENTITY) {
    return {
      apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
      kind,
      metadata: {
        name,
        namespace: 'models',
        annotations: { [ANNOTATION_ENTITY_REF]: entityRef },
      },
      spec: { replicas: 1 },
    } as KubeObject;
  }

  function fakeClient(live: Record<string, KubeObject>) {
    const applied: Array<{ name: string; dryRun: boolean; force: boolean }> =
      [];
    const client = {
      name: 'dev',
      get: jest.fn(async (_r: ResourceInfo, _ns: string, name: string) =>
        live[name] ? structuredClone(live[name]) : undefined,
      ),
      apply: jest.fn(
        async (_r: ResourceInfo, object: KubeObject, o: ApplyOptions) => {
          applied.push({
            name: object.metadata.name,
            dryRun: o.dryRun,
            force: o.force,
          });
          return structuredClone(object);
        },
      ),
    };
    return { client: client as unknown as ClusterClient, applied };
  }

  const secretish = 'live-value-of-the-other-service';
  const foreignLive = {
    ...desired('Deployment', 'shared', OTHER),
    spec: { replicas: 7, template: { metadata: { labels: { x: secretish } } } },
  } as KubeObject;
  const unmanagedLive = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'models' },
    data: { threshold: secretish },
  } as KubeObject;

  it.each([false, true])(
    'never changes (nor diffs) an object of another entity, force=%s',
    async force => {
      const { client, applied } = fakeClient({ shared: foreignLive });
      const error = await applyObjects(
        client,
        [
          { object: desired('ConfigMap', 'mine'), resource: configMap },
          { object: desired('Deployment', 'shared'), resource: deployment },
        ],
        { dryRun: true, force },
      ).catch(e => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.message).toContain(
        `Deployment "shared" in models belongs to ${OTHER}; ModelOps will not change another service's objects`,
      );
      expect(error.message).not.toContain(secretish);
      expect(error.message).not.toContain('7');
      expect(applied).toEqual([]); // not even a dry run
    },
  );

  it('refuses an object not created by ModelOps unless force adopts it', async () => {
    const { client, applied } = fakeClient({ settings: unmanagedLive });
    const resolved = [
      { object: desired('ConfigMap', 'settings'), resource: configMap },
    ];
    const error = await applyObjects(client, resolved, {
      dryRun: false,
    }).catch(e => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain(
      'ConfigMap "settings" in models already exists on cluster dev but was not created by ModelOps',
    );
    expect(error.message).toContain('force: true');
    expect(error.message).not.toContain(secretish);
    expect(applied).toEqual([]);

    const adopted = await applyObjects(client, resolved, {
      dryRun: false,
      force: true,
    });
    expect(applied).toEqual([
      { name: 'settings', dryRun: true, force: true },
      { name: 'settings', dryRun: false, force: true },
    ]);
    expect(adopted[0].diff.operation).toBe('update');
  });

  it('applies over objects of the same entity and creates new ones', async () => {
    const { client, applied } = fakeClient({
      d: desired('Deployment', 'd'),
    });
    const result = await applyObjects(
      client,
      [
        { object: desired('Deployment', 'd'), resource: deployment },
        { object: desired('ConfigMap', 'c'), resource: configMap },
      ],
      { dryRun: true },
    );
    expect(result.map(a => [a.ref.name, a.diff.operation])).toEqual([
      ['c', 'create'],
      ['d', 'unchanged'],
    ]);
    expect(applied.every(a => a.dryRun)).toBe(true);
  });

  it('lists every foreign object in one error', () => {
    expect(() =>
      checkOwnership(
        [
          { desired: desired('ConfigMap', 'a'), live: unmanagedLive },
          { desired: desired('ConfigMap', 'b'), live: unmanagedLive },
          { desired: desired('ConfigMap', 'c'), live: undefined },
        ],
        { force: false, cluster: 'dev' },
      ),
    ).toThrow(
      /^ConfigMap "a" in models, ConfigMap "b" in models already exist on cluster dev but were not created by ModelOps/,
    );
  });

  it('calls beforeWrite once, after every dry run and before the first write', async () => {
    const { client, applied } = fakeClient({});
    const seen: number[] = [];
    const beforeWrite = jest.fn(async () => {
      seen.push(applied.length);
    });
    const resolved = [
      { object: desired('ConfigMap', 'c'), resource: configMap },
      { object: desired('Deployment', 'd'), resource: deployment },
    ];
    await applyObjects(client, resolved, { dryRun: true, beforeWrite });
    expect(beforeWrite).not.toHaveBeenCalled();
    applied.length = 0;
    await applyObjects(client, resolved, { dryRun: false, beforeWrite });
    expect(beforeWrite).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([2]); // both dry runs done, nothing written yet
    expect(applied.map(a => a.dryRun)).toEqual([true, true, false, false]);
  });

  it('names what was applied when a write fails after the dry runs, keeping the cause and its status', async () => {
    const { client } = fakeClient({});
    const apply = client.apply as jest.Mock;
    const unreachable = new ServiceUnavailableError(
      'Cluster dev at https://127.0.0.1:16443 is unreachable',
    );
    apply
      .mockImplementationOnce(async (_r, object) => object)
      .mockImplementationOnce(async (_r, object) => object)
      .mockImplementationOnce(async (_r, object) => object)
      .mockRejectedValueOnce(unreachable);
    const error = await applyObjects(
      client,
      [
        { object: desired('ConfigMap', 'c'), resource: configMap },
        { object: desired('Deployment', 'd'), resource: deployment },
      ],
      { dryRun: false },
    ).catch(e => e);
    // The name decides the HTTP status (503 here), the cause is kept.
    expect(error.name).toBe('ServiceUnavailableError');
    expect(error.cause).toBe(unreachable);
    expect(error.message).toContain(
      'Deploy stopped at Deployment "d" after applying ConfigMap "c"',
    );
    expect(error.message).toContain('is unreachable');
  });
});
