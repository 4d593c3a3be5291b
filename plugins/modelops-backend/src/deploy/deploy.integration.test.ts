/*
 * Integration tests against the real local platform (two kube-apiservers with
 * kwok). They use the namespace-scoped `modelops` service account exactly as
 * the backend does, and check the cluster itself with the admin kubeconfig.
 */
import { ConflictError } from '@backstage/errors';
import { ClusterClient } from '../kubernetes/ClusterClient';
import { applyObjects } from './apply/apply';
import { validateObjects } from './policy/policy';
import { renderManifests } from './render/render';
import { builtinManifests } from './render/templates';
import { parseManifests } from './source/yaml';
import { waitForRollout } from './status/status';
import {
  CLUSTER,
  ENTITY_REF,
  EngineHarness,
  NS,
  REPO,
} from './testUtils/engine';
import {
  explainSkip,
  kubectl,
  kubectlGet,
  platformAvailable,
} from './testUtils/platform';

const available = platformAvailable();
if (!available) explainSkip('deploy.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

jest.setTimeout(120_000);

describeIfPlatform('deploy engine against the local platform', () => {
  const engine = new EngineHarness('it');
  const deploy = engine.deploy.bind(engine);
  const newId = engine.newId.bind(engine);
  let client: ClusterClient;

  function builtin(id: string) {
    return builtinManifests('deployment', {
      kubernetesId: id,
      namespace: NS,
      runtime: 'kserve',
    });
  }

  beforeAll(() => {
    engine.open();
    client = engine.client;
  });
  afterAll(() => engine.close());

  it('applies the builtin deployment template and the rollout becomes Available with 2 ready pods', async () => {
    const id = newId('app');
    const t0 = Date.now();
    const applied = await deploy(builtin(id), { id, image: `${REPO}:0.1.0` });
    const applyMs = Date.now() - t0;
    expect(applied.map(a => [a.ref.kind, a.diff.operation])).toEqual([
      ['Service', 'create'],
      ['Deployment', 'create'],
      ['HorizontalPodAutoscaler', 'create'],
    ]);

    // The cluster itself, through the admin identity.
    const dep = await kubectlGet(CLUSTER, NS, 'deployment', id);
    expect(dep.spec.template.spec.containers[0].image).toBe(`${REPO}:0.1.0`);
    expect(dep.metadata.labels).toMatchObject({
      'backstage.io/kubernetes-id': id,
      'app.kubernetes.io/managed-by': 'backstage-modelops',
    });
    expect(
      dep.spec.template.metadata.labels['backstage.io/kubernetes-id'],
    ).toBe(id);
    expect(dep.metadata.annotations['modelops/revision']).toBe('1');
    expect(dep.metadata.managedFields.map((m: any) => m.manager)).toContain(
      'backstage-modelops',
    );
    expect(await kubectlGet(CLUSTER, NS, 'service', id)).toBeTruthy();
    expect(
      await kubectlGet(CLUSTER, NS, 'horizontalpodautoscaler', id),
    ).toBeTruthy();

    const status = await waitForRollout(client, {
      namespace: NS,
      kubernetesId: id,
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    const totalMs = Date.now() - t0;
    expect(status.timedOut).toBe(false);
    expect(status.phase).toBe('Available');
    expect(status.image).toBe(`${REPO}:0.1.0`);
    expect(status.revision).toBe(1);
    expect(status.replicas).toMatchObject({ desired: 2, ready: 2 });
    expect(status.problems).toEqual([]);

    const pods = await kubectl(CLUSTER, [
      'get',
      'pods',
      '-n',
      NS,
      '-l',
      `backstage.io/kubernetes-id=${id}`,
      '-o',
      'json',
    ]);
    const ready = JSON.parse(pods.stdout).items.filter((p: any) =>
      p.status.conditions?.some(
        (c: any) => c.type === 'Ready' && c.status === 'True',
      ),
    );
    expect(ready).toHaveLength(2);
    // eslint-disable-next-line no-console
    console.log(
      `builtin apply (validate + get + dry-run + apply of 3 objects): ${applyMs} ms; Available after ${totalMs} ms`,
    );

    // Re-applying the same thing changes nothing but the revision annotation.
    const again = await deploy(builtin(id), {
      id,
      image: `${REPO}:0.1.0`,
      revision: 1,
      dryRun: true,
    });
    expect(again.map(a => a.diff.operation)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
    ]);

    // A dry run with a new image applies nothing and names the field.
    const t1 = Date.now();
    const dry = await deploy(builtin(id), {
      id,
      image: `${REPO}:0.1.1`,
      revision: 2,
      dryRun: true,
    });
    const dryMs = Date.now() - t1;
    const depDiff = dry.find(a => a.ref.kind === 'Deployment')!.diff;
    expect(depDiff.operation).toBe('update');
    expect(depDiff.changes).toContainEqual({
      path: 'spec.template.spec.containers[0].image',
      before: `${REPO}:0.1.0`,
      after: `${REPO}:0.1.1`,
    });
    expect(depDiff.changes).toContainEqual({
      path: 'metadata.annotations["modelops/revision"]',
      before: '1',
      after: '2',
    });
    const after = await kubectlGet(CLUSTER, NS, 'deployment', id);
    expect(after.spec.template.spec.containers[0].image).toBe(`${REPO}:0.1.0`);
    expect(after.metadata.annotations['modelops/revision']).toBe('1');
    expect(after.metadata.generation).toBe(dep.metadata.generation);
    // eslint-disable-next-line no-console
    console.log(`dry run of 3 objects: ${dryMs} ms`);

    // Someone else takes the image field: a 409 naming them, then force wins.
    const other = await kubectl(
      CLUSTER,
      [
        'apply',
        '--server-side',
        '--field-manager=someone-else',
        '--force-conflicts',
        '-f',
        '-',
      ],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: id, namespace: NS },
        spec: {
          template: {
            spec: {
              containers: [{ name: 'model-server', image: `${REPO}:0.1.3` }],
            },
          },
        },
      }),
    );
    expect(other.stderr).toBe('');
    const conflict = await deploy(builtin(id), {
      id,
      image: `${REPO}:0.1.1`,
      revision: 2,
    }).catch(e => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict.message).toContain('"someone-else"');
    expect(conflict.message).toContain('.image');
    expect(conflict.message).toContain('force: true');
    expect(conflict.message).not.toMatch(/caused by/);
    expect(
      (await kubectlGet(CLUSTER, NS, 'deployment', id)).spec.template.spec
        .containers[0].image,
    ).toBe(`${REPO}:0.1.3`);

    const forced = await deploy(builtin(id), {
      id,
      image: `${REPO}:0.1.1`,
      revision: 2,
      force: true,
    });
    expect(
      forced.find(a => a.ref.kind === 'Deployment')!.diff.changes,
    ).toContainEqual({
      path: 'spec.template.spec.containers[0].image',
      before: `${REPO}:0.1.3`,
      after: `${REPO}:0.1.1`,
    });
    const taken = await kubectlGet(CLUSTER, NS, 'deployment', id);
    expect(taken.spec.template.spec.containers[0].image).toBe(`${REPO}:0.1.1`);
    expect(taken.metadata.annotations['modelops/revision']).toBe('2');
    const done = await waitForRollout(client, {
      namespace: NS,
      kubernetesId: id,
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    expect(done.phase).toBe('Available');
    expect(done.image).toBe(`${REPO}:0.1.1`);

    // The autoscaler (here: kubectl scale) owns the replica count: a deploy
    // neither conflicts with it nor resets it.
    const scaled = await kubectl(CLUSTER, [
      'scale',
      '-n',
      NS,
      `deployment/${id}`,
      '--replicas=3',
    ]);
    expect(scaled.code).toBe(0);
    const redeploy = await deploy(builtin(id), {
      id,
      image: `${REPO}:0.1.2`,
      revision: 3,
    });
    expect(
      redeploy
        .find(a => a.ref.kind === 'Deployment')!
        .diff.changes.map(c => c.path),
    ).not.toContain('spec.replicas');
    expect(
      (await kubectlGet(CLUSTER, NS, 'deployment', id)).spec.replicas,
    ).toBe(3);
    const three = await waitForRollout(client, {
      namespace: NS,
      kubernetesId: id,
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    expect(three).toMatchObject({
      phase: 'Available',
      image: `${REPO}:0.1.2`,
      revision: 3,
      replicas: { desired: 3, ready: 3 },
    });
  });

  it("adopts an object not created by ModelOps only with force, and never touches another entity's", async () => {
    const id = newId('owner');
    // Created by hand (kubectl), without the ModelOps entity annotation.
    const created = await kubectl(
      CLUSTER,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: `${id}-settings`,
          namespace: NS,
          labels: { 'backstage.io/kubernetes-id': id },
        },
        data: { threshold: 'handmade' },
      }),
    );
    expect(created.code).toBe(0);
    const manifest = () =>
      parseManifests(
        `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${id}-settings }\ndata: { threshold: "0.5" }\n`,
      );

    const refused = await deploy(manifest(), { id }).catch(e => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.message).toContain(
      `ConfigMap "${id}-settings" in ${NS} already exists on cluster dev but was not created by ModelOps`,
    );
    expect(refused.message).toContain('force: true');
    expect(refused.message).not.toContain('handmade');
    expect(
      (await kubectlGet(CLUSTER, NS, 'configmap', `${id}-settings`)).data,
    ).toEqual({ threshold: 'handmade' });

    await deploy(manifest(), { id, force: true });
    const adopted = await kubectlGet(
      CLUSTER,
      NS,
      'configmap',
      `${id}-settings`,
    );
    expect(adopted.data).toEqual({ threshold: '0.5' });
    expect(adopted.metadata.annotations['modelops/entity-ref']).toBe(
      ENTITY_REF,
    );

    // Now it belongs to ENTITY_REF: another service may not take it over.
    const other = 'component:default/someone-elses-model';
    for (const force of [false, true]) {
      const rendered = renderManifests(manifest(), {
        namespace: NS,
        kubernetesId: id,
        revision: 1,
        entityRef: other,
      });
      const resolved = await validateObjects(rendered, {
        client,
        namespace: NS,
      });
      const error = await applyObjects(client, resolved, {
        dryRun: true,
        force,
      }).catch(e => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.message).toContain(
        `ConfigMap "${id}-settings" in ${NS} belongs to ${ENTITY_REF}; ModelOps will not change another service's objects`,
      );
      expect(error.message).not.toContain('0.5');
    }
    expect(
      (await kubectlGet(CLUSTER, NS, 'configmap', `${id}-settings`)).metadata
        .annotations['modelops/entity-ref'],
    ).toBe(ENTITY_REF);
  });
});
