/*
 * Rollout status read back from the real local platform: failed rollouts
 * with pod problems, InferenceServices, nothing deployed.
 */
import { builtinManifests } from './render/templates';
import { readRolloutStatus, waitForRollout } from './status/status';
import { CLUSTER, EngineHarness, NS, REPO } from './testUtils/engine';
import {
  explainSkip,
  kubectl,
  kubectlGet,
  platformAvailable,
} from './testUtils/platform';

const available = platformAvailable();
if (!available) explainSkip('rollout.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

jest.setTimeout(120_000);

describeIfPlatform('rollout status against the local platform', () => {
  const engine = new EngineHarness('rollou');

  beforeAll(() => engine.open());
  afterAll(() => engine.close());

  it('reports a failed rollout at once, with the pod problem and its fix, when the release crashes at start', async () => {
    const id = engine.newId('crash');
    const objects = builtinManifests('deployment', {
      kubernetesId: id,
      namespace: NS,
      runtime: 'kserve',
    });
    await engine.deploy(objects, { id, image: `${REPO}:0.1.4` });
    const status = await waitForRollout(engine.client, {
      namespace: NS,
      kubernetesId: id,
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    // Long before the Deployment's 10-minute progress deadline.
    expect(status.timedOut).toBe(false);
    expect(status.phase).toBe('Failed');
    expect(status.problems.length).toBeGreaterThan(0);
    expect(status.problems.some(p => p.kind === 'Pod')).toBe(true);
    expect(
      status.problems.some(p =>
        /CrashLoopBackOff|restarted|back-off/i.test(p.message),
      ),
    ).toBe(true);
    const crash = status.problems.find(p => p.fix);
    expect(crash?.fix?.actions.length).toBeGreaterThan(0);
  });

  it('reports a failed rollout with ImagePullBackOff and its fix when the tag does not exist, while the pods before it keep serving', async () => {
    const id = engine.newId('pull');
    const objects = builtinManifests('deployment', {
      kubernetesId: id,
      namespace: NS,
      runtime: 'kserve',
    });
    await engine.deploy(objects, { id, image: `${REPO}:0.1.0` });
    const first = await waitForRollout(engine.client, {
      namespace: NS,
      kubernetesId: id,
      timeoutMs: 90_000,
    });
    expect(first.phase).toBe('Available');

    await engine.deploy(objects, { id, image: `${REPO}:0.2.0`, revision: 2 });
    const status = await waitForRollout(engine.client, {
      namespace: NS,
      kubernetesId: id,
      timeoutMs: 90_000,
    });
    expect(status).toMatchObject({ phase: 'Failed', timedOut: false });
    expect(status.image).toBe(`${REPO}:0.2.0`);
    const pull = status.problems.find(p => p.message.includes('pulling image'));
    expect(pull).toMatchObject({
      kind: 'Pod',
      fix: {
        // The Kubernetes plugin's explanation of ImagePullBackOff.
        explanation: expect.stringMatching(/could not be found/),
        actions: expect.arrayContaining(['Ensure the image name is correct']),
      },
    });
    expect(pull!.message).toContain(`${REPO}:0.2.0`);
    // The rolling update keeps the earlier release's pods until a new one is ready.
    expect(status.replicas?.available).toBeGreaterThanOrEqual(1);
  });

  it('applies the builtin kserve template (InferenceService) and reads it back', async () => {
    const id = engine.newId('isvc');
    const objects = builtinManifests('kserve', {
      kubernetesId: id,
      namespace: NS,
      runtime: 'kserve',
    });
    const applied = await engine.deploy(objects, {
      id,
      image: `${REPO}:0.1.1`,
    });
    expect(applied.map(a => [a.ref.kind, a.diff.operation])).toEqual([
      ['InferenceService', 'create'],
    ]);
    const isvc = await kubectlGet(CLUSTER, NS, 'inferenceservice', id);
    expect(isvc.spec.predictor.containers[0].image).toBe(`${REPO}:0.1.1`);
    const status = await readRolloutStatus(engine.client, {
      namespace: NS,
      kubernetesId: id,
    });
    // Nothing reconciles InferenceServices here, so it never becomes Ready.
    expect(status.phase).toBe('Progressing');
    expect(status.image).toBe(`${REPO}:0.1.1`);

    // Play KServe's controller: a failing revision makes the rollout Failed,
    // a ready one Available.
    const setReady = (ready: object) =>
      kubectl(CLUSTER, [
        'patch',
        '-n',
        NS,
        'inferenceservice',
        id,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            conditions: [
              { type: 'PredictorReady', ...ready },
              { type: 'Ready', ...ready },
            ],
          },
        }),
      ]);
    expect(
      (
        await setReady({
          status: 'False',
          reason: 'RevisionFailed',
          message: 'model failed to load',
        })
      ).code,
    ).toBe(0);
    const failed = await readRolloutStatus(engine.client, {
      namespace: NS,
      kubernetesId: id,
    });
    expect(failed.phase).toBe('Failed');
    expect(failed.conditions).toContainEqual({
      type: 'Ready',
      status: 'False',
      reason: 'RevisionFailed',
      message: 'model failed to load',
    });
    expect((await setReady({ status: 'True' })).code).toBe(0);
    expect(
      (
        await readRolloutStatus(engine.client, {
          namespace: NS,
          kubernetesId: id,
        })
      ).phase,
    ).toBe('Available');
  });

  it('reports NotDeployed for an id with nothing in the namespace', async () => {
    const status = await readRolloutStatus(engine.client, {
      namespace: NS,
      kubernetesId: engine.newId('nothing'),
    });
    expect(status).toEqual({
      phase: 'NotDeployed',
      conditions: [],
      problems: [],
    });
  });
});
