/*
 * Integration tests against the real local platform (two kube-apiservers with
 * kwok). They use the namespace-scoped `modelops` service account exactly as
 * the backend does, and check the cluster itself with the admin kubeconfig.
 */
import {
  ConflictError,
  InputError,
  NotAllowedError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { ConfigReader } from '@backstage/config';
import { ClusterClient } from '../kubernetes/ClusterClient';
import { ClusterClients } from '../kubernetes/ClusterClients';
import { KubeObject } from '../kubernetes/types';
import { applyObjects } from './apply/apply';
import { validateObjects } from './policy/policy';
import { renderManifests } from './render/render';
import { builtinManifests } from './render/templates';
import { parseManifests } from './source/yaml';
import { readRolloutStatus, waitForRollout } from './status/status';
import {
  explainSkip,
  kubectl,
  kubectlGet,
  platformAvailable,
  platformClusters,
  platformConfig,
  uniqueId,
} from './testUtils/platform';

function platformClusterConfigs() {
  return platformConfig()
    .getConfigArray('kubernetes.clusterLocatorMethods')[0]
    .getConfigArray('clusters');
}

const available = platformAvailable();
if (!available) explainSkip('deploy.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

const CLUSTER = 'dev';
const NS = 'models';
const ENTITY_REF = 'component:default/integration-test';
const REPO = 'registry.local/modelops-it/model';

jest.setTimeout(120_000);

describeIfPlatform('deploy engine against the local platform', () => {
  let clusters: ClusterClients;
  let client: ClusterClient;
  const runId = uniqueId('it');
  const ids: string[] = [];
  const extraNames: Array<[string, string, string]> = []; // [ns, resource, name]

  function newId(suffix: string): string {
    const id = `${runId}-${suffix}`;
    ids.push(id);
    return id;
  }

  async function deploy(
    objects: KubeObject[],
    opts: {
      id: string;
      image?: string;
      revision?: number;
      dryRun?: boolean;
      force?: boolean;
    },
  ) {
    const rendered = renderManifests(objects, {
      namespace: NS,
      kubernetesId: opts.id,
      image: opts.image,
      revision: opts.revision ?? 1,
      entityRef: ENTITY_REF,
      imageRepository: REPO,
    });
    const resolved = await validateObjects(rendered, {
      client,
      namespace: NS,
    });
    return applyObjects(client, resolved, {
      dryRun: opts.dryRun ?? false,
      force: opts.force ?? false,
    });
  }

  function builtin(id: string) {
    return builtinManifests('deployment', {
      kubernetesId: id,
      namespace: NS,
      runtime: 'kserve',
    });
  }

  beforeAll(() => {
    clusters = platformClusters();
    client = clusters.get(CLUSTER);
  });

  afterAll(async () => {
    for (const id of ids) {
      await kubectl(CLUSTER, [
        'delete',
        '-n',
        NS,
        'deployments,services,horizontalpodautoscalers,configmaps,inferenceservices,poddisruptionbudgets,serviceaccounts',
        '-l',
        `backstage.io/kubernetes-id=${id}`,
        '--ignore-not-found',
        '--wait=false',
      ]);
    }
    for (const [ns, resource, name] of extraNames) {
      await kubectl(CLUSTER, [
        'delete',
        '-n',
        ns,
        resource,
        name,
        '--ignore-not-found',
        '--wait=false',
      ]);
    }
    clusters?.close();
  });

  it('discovers core, group and CRD kinds, and caches discovery', async () => {
    const t0 = Date.now();
    const index = await client.discover({ refresh: true });
    const first = Date.now() - t0;
    expect(index.lookup('apps/v1', 'Deployment')).toMatchObject({
      group: 'apps',
      plural: 'deployments',
      namespaced: true,
    });
    expect(index.lookup('v1', 'Service')?.plural).toBe('services');
    expect(
      index.lookup('autoscaling/v2', 'HorizontalPodAutoscaler'),
    ).toBeTruthy();
    expect(
      index.lookup('serving.kserve.io/v1beta1', 'InferenceService'),
    ).toMatchObject({ plural: 'inferenceservices', namespaced: true });
    expect(
      index.lookup('rbac.authorization.k8s.io/v1', 'ClusterRole'),
    ).toMatchObject({ namespaced: false });
    expect(index.groupsWithKind('Deployment')).toEqual(['apps']);
    const prod = await clusters.get('prod').discover();
    expect(prod.lookup('apps/v1', 'Deployment')).toBeTruthy();
    const t1 = Date.now();
    expect(await client.discover()).toBe(index);
    const cached = Date.now() - t1;
    expect(cached).toBeLessThan(5);
    // eslint-disable-next-line no-console
    console.log(`discovery: ${first} ms fresh, ${cached} ms cached`);
  });

  it('applies the builtin deployment template and the rollout becomes Available with 2 ready pods', async () => {
    const id = newId('app');
    const t0 = Date.now();
    const applied = await deploy(builtin(id), { id, image: `${REPO}:1.0.0` });
    const applyMs = Date.now() - t0;
    expect(applied.map(a => [a.ref.kind, a.diff.operation])).toEqual([
      ['Service', 'create'],
      ['Deployment', 'create'],
      ['HorizontalPodAutoscaler', 'create'],
    ]);

    // The cluster itself, through the admin identity.
    const dep = await kubectlGet(CLUSTER, NS, 'deployment', id);
    expect(dep.spec.template.spec.containers[0].image).toBe(`${REPO}:1.0.0`);
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
    expect(status.image).toBe(`${REPO}:1.0.0`);
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
      image: `${REPO}:1.0.0`,
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
      image: `${REPO}:2.0.0`,
      revision: 2,
      dryRun: true,
    });
    const dryMs = Date.now() - t1;
    const depDiff = dry.find(a => a.ref.kind === 'Deployment')!.diff;
    expect(depDiff.operation).toBe('update');
    expect(depDiff.changes).toContainEqual({
      path: 'spec.template.spec.containers[0].image',
      before: `${REPO}:1.0.0`,
      after: `${REPO}:2.0.0`,
    });
    expect(depDiff.changes).toContainEqual({
      path: 'metadata.annotations["modelops/revision"]',
      before: '1',
      after: '2',
    });
    const after = await kubectlGet(CLUSTER, NS, 'deployment', id);
    expect(after.spec.template.spec.containers[0].image).toBe(`${REPO}:1.0.0`);
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
              containers: [{ name: 'model-server', image: `${REPO}:hotfix` }],
            },
          },
        },
      }),
    );
    expect(other.stderr).toBe('');
    const conflict = await deploy(builtin(id), {
      id,
      image: `${REPO}:2.0.0`,
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
    ).toBe(`${REPO}:hotfix`);

    const forced = await deploy(builtin(id), {
      id,
      image: `${REPO}:2.0.0`,
      revision: 2,
      force: true,
    });
    expect(
      forced.find(a => a.ref.kind === 'Deployment')!.diff.changes,
    ).toContainEqual({
      path: 'spec.template.spec.containers[0].image',
      before: `${REPO}:hotfix`,
      after: `${REPO}:2.0.0`,
    });
    const taken = await kubectlGet(CLUSTER, NS, 'deployment', id);
    expect(taken.spec.template.spec.containers[0].image).toBe(`${REPO}:2.0.0`);
    expect(taken.metadata.annotations['modelops/revision']).toBe('2');
    const done = await waitForRollout(client, {
      namespace: NS,
      kubernetesId: id,
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    expect(done.phase).toBe('Available');
    expect(done.image).toBe(`${REPO}:2.0.0`);

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
      image: `${REPO}:3.0.0`,
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
      image: `${REPO}:3.0.0`,
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

  it('refuses a kind named with the wrong group, naming the right one, and applies nothing', async () => {
    const id = newId('wrong');
    const objects = parseManifests(`
apiVersion: v1
kind: ConfigMap
metadata: { name: ${id}-settings }
data: { threshold: "0.5" }
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: { name: ${id} }
spec: {}
`);
    const error = await deploy(objects, { id }).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(
      'Deployment is not served by extensions/v1beta1 on cluster dev; it is served by apps/v1',
    );
    expect(await kubectlGet(CLUSTER, NS, 'configmap', `${id}-settings`)).toBe(
      undefined,
    );
    expect(await kubectlGet(CLUSTER, NS, 'deployment', id)).toBe(undefined);
  });

  it('refuses kinds outside the allowlist, Secrets, other namespaces and cluster-scoped kinds, all at once', async () => {
    const id = newId('policy');
    const objects = parseManifests(`
apiVersion: v1
kind: ConfigMap
metadata: { name: ${id}-ok }
---
apiVersion: batch/v1
kind: Job
metadata: { name: ${id}-job }
spec: { template: { spec: { restartPolicy: Never, containers: [{ name: x, image: busybox }] } } }
---
apiVersion: v1
kind: Secret
metadata: { name: ${id}-secret }
stringData: { password: hunter2 }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ${id}-admin }
rules: []
`);
    const error = await deploy(objects, { id }).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(`Job "${id}-job" (batch/v1) is not a kind`);
    expect(error.message).toContain(`Secret "${id}-secret" is a Secret`);
    expect(error.message).toContain(
      `ClusterRole "${id}-admin" is cluster-scoped`,
    );

    const otherNs = await deploy(
      parseManifests(
        `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${id}-elsewhere, namespace: modelops-builds }\n`,
      ),
      { id },
    ).catch(e => e);
    expect(otherNs).toBeInstanceOf(InputError);
    expect(otherNs.message).toContain('"modelops-builds"');

    expect(await kubectlGet(CLUSTER, NS, 'configmap', `${id}-ok`)).toBe(
      undefined,
    );
    expect(await kubectlGet(CLUSTER, NS, 'job', `${id}-job`)).toBe(undefined);
    expect(await kubectlGet(CLUSTER, NS, 'secret', `${id}-secret`)).toBe(
      undefined,
    );
    const cr = await kubectl(CLUSTER, [
      'get',
      'clusterrole',
      `${id}-admin`,
      '--ignore-not-found',
    ]);
    expect(cr.stdout.trim()).toBe('');
    expect(
      await kubectlGet(
        CLUSTER,
        'modelops-builds',
        'configmap',
        `${id}-elsewhere`,
      ),
    ).toBe(undefined);
  });

  it('turns an API-server validation error into a 400 and applies none of the objects', async () => {
    const id = newId('invalid');
    const objects = parseManifests(`
apiVersion: v1
kind: ConfigMap
metadata: { name: ${id}-first }
---
apiVersion: v1
kind: Service
metadata: { name: ${id} }
spec: { portz: [] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${id} }
spec:
  replicas: -3
  selector: { matchLabels: { app: ${id} } }
  template:
    metadata: { labels: { app: ${id} } }
    spec: { containers: [{ name: model-server, image: "${REPO}:1" }] }
`);
    const error = await deploy(objects, { id }).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('nothing was applied');
    expect(error.message).toMatch(/spec\.replicas/);
    expect(error.message).toMatch(/portz/);
    expect(error.message).not.toMatch(/caused by/);
    expect(await kubectlGet(CLUSTER, NS, 'configmap', `${id}-first`)).toBe(
      undefined,
    );
    expect(await kubectlGet(CLUSTER, NS, 'deployment', id)).toBe(undefined);
    expect(await kubectlGet(CLUSTER, NS, 'service', id)).toBe(undefined);
  });

  it('reports a failed rollout with pod problems when pods crash (kwok chaos stage)', async () => {
    const id = newId('chaos');
    const objects = parseManifests(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${id} }
spec:
  replicas: 1
  progressDeadlineSeconds: 5
  selector: { matchLabels: { app: ${id} } }
  template:
    metadata:
      labels: { app: ${id}, modelops-test/chaos: fail }
    spec:
      containers: [{ name: model-server, image: "${REPO}:1" }]
`);
    await deploy(objects, { id, image: `${REPO}:broken` });
    const status = await waitForRollout(client, {
      namespace: NS,
      kubernetesId: id,
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    expect(status.phase).toBe('Failed');
    expect(status.conditions).toContainEqual(
      expect.objectContaining({
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
      }),
    );
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

  it('applies the builtin kserve template (InferenceService) and reads it back', async () => {
    const id = newId('isvc');
    const objects = builtinManifests('kserve', {
      kubernetesId: id,
      namespace: NS,
      runtime: 'kserve',
    });
    const applied = await deploy(objects, { id, image: `${REPO}:1.1.0` });
    expect(applied.map(a => [a.ref.kind, a.diff.operation])).toEqual([
      ['InferenceService', 'create'],
    ]);
    const isvc = await kubectlGet(CLUSTER, NS, 'inferenceservice', id);
    expect(isvc.spec.predictor.containers[0].image).toBe(`${REPO}:1.1.0`);
    const status = await readRolloutStatus(client, {
      namespace: NS,
      kubernetesId: id,
    });
    // Nothing reconciles InferenceServices here, so it never becomes Ready.
    expect(status.phase).toBe('Progressing');
    expect(status.image).toBe(`${REPO}:1.1.0`);

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
    const failed = await readRolloutStatus(client, {
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
      (await readRolloutStatus(client, { namespace: NS, kubernetesId: id }))
        .phase,
    ).toBe('Available');
  });

  it('reports NotDeployed for an id with nothing in the namespace', async () => {
    const status = await readRolloutStatus(client, {
      namespace: NS,
      kubernetesId: `${runId}-nothing`,
    });
    expect(status).toEqual({
      phase: 'NotDeployed',
      conditions: [],
      problems: [],
    });
  });

  it('cannot write outside the namespaces the modelops service account is bound in', async () => {
    const index = await client.discover();
    const cm = index.lookup('v1', 'ConfigMap')!;
    const name = `${runId}-outside`;
    extraNames.push(['modelops-system', 'configmap', name]);
    extraNames.push(['default', 'configmap', name]);
    for (const namespace of ['modelops-system', 'default']) {
      const error = await client
        .apply(
          cm,
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name, namespace },
          },
          { fieldManager: 'backstage-modelops', force: false, dryRun: false },
        )
        .catch(e => e);
      expect(error).toBeInstanceOf(NotAllowedError);
      expect(error.message).toContain('Cluster dev refused');
      expect(await kubectlGet(CLUSTER, namespace, 'configmap', name)).toBe(
        undefined,
      );
    }
  });

  it('names the cluster and URL, never the token, when a cluster is unreachable', async () => {
    const token = platformClusterConfigs()[0].getString('serviceAccountToken');
    const broken = ClusterClients.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'gone',
                  url: 'https://127.0.0.1:1',
                  authProvider: 'serviceAccount',
                  serviceAccountToken: token,
                },
              ],
            },
          ],
        },
      }),
    );
    const error = await broken
      .get('gone')
      .discover()
      .catch(e => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toContain('Cluster gone at https://127.0.0.1:1');
    expect(error.message).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
    broken.close();
  });

  it('does not trust a cluster whose certificate is not from the configured CA', async () => {
    const [devCluster, prodCluster] = platformClusterConfigs();
    const prodCa = prodCluster.getString('caData');
    const wrongCa = ClusterClients.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'dev',
                  url: devCluster.getString('url'),
                  authProvider: 'serviceAccount',
                  serviceAccountToken: devCluster.getString(
                    'serviceAccountToken',
                  ),
                  caData: prodCa,
                },
              ],
            },
          ],
        },
      }),
    );
    const error = await wrongCa
      .get('dev')
      .discover()
      .catch(e => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toMatch(/not trusted/);
    wrongCa.close();
  });
});
