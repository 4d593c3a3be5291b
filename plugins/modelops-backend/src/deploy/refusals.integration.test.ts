/*
 * What the policy and the API server refuse, against the real local platform:
 * every problem at once, and nothing applied.
 */
import { InputError } from '@backstage/errors';
import { parseManifests } from './source/yaml';
import { CLUSTER, EngineHarness, NS, REPO } from './testUtils/engine';
import {
  explainSkip,
  kubectl,
  kubectlGet,
  platformAvailable,
} from './testUtils/platform';

const available = platformAvailable();
if (!available) explainSkip('refusals.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

jest.setTimeout(120_000);

describeIfPlatform('deploy refusals against the local platform', () => {
  const engine = new EngineHarness('refusa');

  beforeAll(() => engine.open());
  afterAll(() => engine.close());

  it('refuses a kind named with the wrong group, naming the right one, and applies nothing', async () => {
    const id = engine.newId('wrong');
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
    const error = await engine.deploy(objects, { id }).catch(e => e);
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
    const id = engine.newId('policy');
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
    const error = await engine.deploy(objects, { id }).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(`Job "${id}-job" (batch/v1) is not a kind`);
    expect(error.message).toContain(`Secret "${id}-secret" is a Secret`);
    expect(error.message).toContain(
      `ClusterRole "${id}-admin" is cluster-scoped`,
    );

    const otherNs = await engine
      .deploy(
        parseManifests(
          `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${id}-elsewhere, namespace: modelops-builds }\n`,
        ),
        { id },
      )
      .catch(e => e);
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
    const id = engine.newId('invalid');
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
    spec: { containers: [{ name: model-server, image: "${REPO}:0.1.0" }] }
`);
    const error = await engine.deploy(objects, { id }).catch(e => e);
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
});
