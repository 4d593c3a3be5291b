import { KubeObject } from '../../kubernetes/types';
import { toCanary } from '../../analysis/canary';
import {
  computeRolloutStatus,
  detectWorkloadProblems,
  slimDeployment,
} from './status';

function deployment(overrides: {
  replicas?: number;
  generation?: number;
  status?: Record<string, unknown>;
  revision?: string;
}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'd',
      namespace: 'models',
      generation: overrides.generation ?? 2,
      annotations: overrides.revision
        ? { 'modelops/revision': overrides.revision }
        : {},
    },
    spec: {
      replicas: overrides.replicas ?? 2,
      template: {
        spec: {
          containers: [
            { name: 'proxy', image: 'envoy:1' },
            { name: 'model-server', image: 'registry.local/m/d:3' },
          ],
        },
      },
    },
    status: overrides.status ?? {},
  };
}

const healthy = {
  observedGeneration: 2,
  replicas: 2,
  updatedReplicas: 2,
  readyReplicas: 2,
  availableReplicas: 2,
  conditions: [
    { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
    { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
  ],
};

describe('computeRolloutStatus', () => {
  it('is NotDeployed without workloads', () => {
    expect(computeRolloutStatus([], [], [])).toEqual({
      phase: 'NotDeployed',
      conditions: [],
      problems: [],
    });
  });

  it('is Available when everything is updated and ready', () => {
    const status = computeRolloutStatus(
      [deployment({ status: healthy, revision: '4' })],
      [],
      [],
    );
    expect(status).toMatchObject({
      phase: 'Available',
      image: 'registry.local/m/d:3',
      revision: 4,
      replicas: { desired: 2, updated: 2, ready: 2, available: 2 },
      generation: 2,
      observedGeneration: 2,
    });
    expect(status.conditions.map(c => c.type)).toEqual([
      'Available',
      'Progressing',
    ]);
  });

  it('reports a canary on its own: the phase, image and revision are the stable ones', () => {
    const stable = deployment({ status: healthy, revision: '4' });
    const canary = toCanary(
      {
        ...deployment({ status: {}, revision: '5' }),
        spec: {
          replicas: 2,
          template: {
            spec: {
              containers: [
                { name: 'model-server', image: 'registry.local/m/d:4' },
              ],
            },
          },
        },
      },
      1,
    );
    const status = computeRolloutStatus([stable, canary], [], []);
    expect(status).toMatchObject({
      phase: 'Available',
      image: 'registry.local/m/d:3',
      revision: 4,
      replicas: { desired: 2, ready: 2 },
      canary: {
        deployments: ['d-canary'],
        phase: 'Progressing',
        image: 'registry.local/m/d:4',
        revision: 5,
        replicas: { desired: 1, ready: 0 },
      },
    });
  });

  it('reads the same status from a slim Deployment as from the whole one', () => {
    const whole = [
      {
        ...deployment({ status: healthy, revision: '4' }),
        metadata: {
          ...deployment({ revision: '4' }).metadata,
          managedFields: [{ manager: 'kubectl' }],
          annotations: {
            'modelops/revision': '4',
            'kubectl.kubernetes.io/last-applied-configuration': '{}',
          },
        },
      },
      deployment({ status: { observedGeneration: 1 }, generation: 2 }),
    ];
    const slim = whole.map(slimDeployment);
    expect(slim[0].metadata).not.toHaveProperty('managedFields');
    expect(slim[0].metadata.annotations).toEqual({ 'modelops/revision': '4' });
    for (const repo of [undefined, 'registry.local/m/d'])
      expect(computeRolloutStatus(slim, [], [], repo)).toEqual(
        computeRolloutStatus(whole, [], [], repo),
      );
  });

  it('picks the image of the entity repository when given', () => {
    const status = computeRolloutStatus(
      [deployment({ status: healthy })],
      [],
      [],
      'envoy',
    );
    expect(status.image).toBe('envoy:1');
  });

  it('is Progressing while not observed or not ready', () => {
    expect(
      computeRolloutStatus(
        [deployment({ generation: 3, status: healthy })],
        [],
        [],
      ).phase,
    ).toBe('Progressing');
    expect(
      computeRolloutStatus(
        [deployment({ status: { ...healthy, readyReplicas: 1 } })],
        [],
        [],
      ).phase,
    ).toBe('Progressing');
    expect(
      computeRolloutStatus(
        [deployment({ status: { ...healthy, replicas: 3 } })],
        [],
        [],
      ).phase,
    ).toBe('Progressing');
  });

  it('is Failed when the progress deadline is exceeded', () => {
    const status = computeRolloutStatus(
      [
        deployment({
          status: {
            ...healthy,
            readyReplicas: 0,
            conditions: [
              {
                type: 'Progressing',
                status: 'False',
                reason: 'ProgressDeadlineExceeded',
                message: 'ReplicaSet "d-1" has timed out progressing.',
              },
            ],
          },
        }),
      ],
      [],
      [],
    );
    expect(status.phase).toBe('Failed');
  });

  describe('a pod of the current release that cannot start', () => {
    const rollingOut = {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 1,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [
        { type: 'Available', status: 'True' },
        { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' },
      ],
    };
    const pod = (image: string, reason: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p-${reason}`, namespace: 'models' },
      spec: { containers: [{ name: 'model-server', image }] },
      status: {
        containerStatuses: [
          { name: 'model-server', state: { waiting: { reason } } },
        ],
      },
    });

    it.each(['ImagePullBackOff', 'CrashLoopBackOff', 'InvalidImageName'])(
      'fails the rollout at once when it is in %s',
      reason => {
        const status = computeRolloutStatus(
          [deployment({ status: rollingOut })],
          [],
          [],
          undefined,
          [pod('registry.local/m/d:3', reason)],
        );
        expect(status.phase).toBe('Failed');
      },
    );

    it('keeps it Progressing on a first pull error (ErrImagePull is retried)', () => {
      const status = computeRolloutStatus(
        [deployment({ status: rollingOut })],
        [],
        [],
        undefined,
        [pod('registry.local/m/d:3', 'ErrImagePull')],
      );
      expect(status.phase).toBe('Progressing');
    });

    it('ignores stuck pods of an earlier image', () => {
      const status = computeRolloutStatus(
        [deployment({ status: rollingOut })],
        [],
        [],
        undefined,
        [pod('registry.local/m/d:2', 'CrashLoopBackOff')],
      );
      expect(status.phase).toBe('Progressing');
    });

    it('ignores them once the rollout is complete', () => {
      const status = computeRolloutStatus(
        [deployment({ status: healthy })],
        [],
        [],
        undefined,
        [pod('registry.local/m/d:3', 'CrashLoopBackOff')],
      );
      expect(status.phase).toBe('Available');
    });
  });

  it('follows InferenceService Ready conditions', () => {
    const isvc = (ready: Record<string, string>): KubeObject => ({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', annotations: { 'modelops/revision': '2' } },
      spec: { predictor: { containers: [{ image: 'r/i:2' }] } },
      status: {
        conditions: [
          { type: 'PredictorReady', ...ready },
          { type: 'Ready', ...ready },
          { type: 'Other', status: 'True' },
        ],
      },
    });
    const ok = computeRolloutStatus([], [isvc({ status: 'True' })], []);
    expect(ok).toMatchObject({
      phase: 'Available',
      image: 'r/i:2',
      revision: 2,
    });
    expect(ok.conditions.map(c => c.type)).toEqual(['PredictorReady', 'Ready']);
    expect(
      computeRolloutStatus([], [isvc({ status: 'Unknown' })], []).phase,
    ).toBe('Progressing');
    expect(
      computeRolloutStatus(
        [],
        [isvc({ status: 'False', reason: 'RevisionFailed' })],
        [],
      ).phase,
    ).toBe('Failed');
  });
});

describe('detectWorkloadProblems', () => {
  it('maps the Kubernetes plugin error detection to WorkloadProblems', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'd-abc', namespace: 'models' },
      spec: { containers: [{ name: 'model-server', image: 'r/d:1' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: 'model-server',
            ready: false,
            restartCount: 5,
            image: 'r/d:1',
            imageID: '',
            lastState: { terminated: { exitCode: 1, reason: 'Error' } },
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: 'back-off restarting failed container',
              },
            },
          },
        ],
      },
    } as unknown as KubeObject;
    const problems = detectWorkloadProblems('dev', [pod], []);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].kind).toBe('Pod');
    expect(problems[0].name).toBe('d-abc');
    const withFix = problems.find(p => p.fix);
    expect(withFix?.fix?.actions.length).toBeGreaterThan(0);
    expect(typeof withFix?.fix?.explanation).toBe('string');
    // sorted by severity
    for (let i = 1; i < problems.length; i++) {
      expect(problems[i - 1].severity).toBeGreaterThanOrEqual(
        problems[i].severity,
      );
    }
  });
});
