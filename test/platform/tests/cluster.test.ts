/**
 * The two clusters behave like Kubernetes: Deployments get Ready pods (here on
 * kwok's node, which these pods tolerate), Jobs complete, dev and prod are separate, the chaos label works.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  hasRealNodes,
  ON_KWOK,
  kubectl,
  kubectlOk,
  requireUp,
  testNamespace,
  waitUntil,
  type Status,
} from './helpers.ts';

let st: Status;
let dev: string;
let prod: string;
let ns: string;

function deployment(
  name: string,
  replicas: number,
  extraPodLabels: Record<string, string> = {},
): string {
  const podLabels = { app: name, ...extraPodLabels };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: podLabels },
        spec: {
          ...ON_KWOK,
          containers: [{ name: 'main', image: 'example.invalid/test:1' }],
        },
      },
    },
  });
}

function readyPods(
  kubeconfig: string,
  namespace: string,
  selector: string,
): { name: string; ready: boolean; phase: string; waiting: string }[] {
  const out = kubectlOk(kubeconfig, [
    '-n',
    namespace,
    'get',
    'pods',
    '-l',
    selector,
    '-o',
    'json',
  ]);
  const items = (JSON.parse(out) as { items: any[] }).items;
  return items.map(p => ({
    name: p.metadata.name as string,
    phase: p.status?.phase as string,
    ready: (p.status?.conditions ?? []).some(
      (c: any) => c.type === 'Ready' && c.status === 'True',
    ),
    waiting: (p.status?.containerStatuses ?? [])
      .map((c: any) => c.state?.waiting?.reason ?? '')
      .join(','),
  }));
}

before(async () => {
  st = requireUp();
  dev = st.clusters.find(c => c.name === 'dev')!.kubeconfig;
  prod = st.clusters.find(c => c.name === 'prod')!.kubeconfig;
  ns = await testNamespace(dev, 'platform-test');
});

after(() => {
  if (ns) kubectl(dev, ['delete', 'namespace', ns, '--wait=false']);
});

describe('clusters', () => {
  test('both API servers answer, with the pinned version and distinct addresses', () => {
    const devV = JSON.parse(kubectlOk(dev, ['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    const prodV = JSON.parse(kubectlOk(prod, ['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    assert.match(devV.serverVersion.gitVersion, /^v1\.3[67]\.\d+$/);
    assert.equal(prodV.serverVersion.gitVersion, devV.serverVersion.gitVersion);
    assert.notEqual(st.clusters[0]!.server, st.clusters[1]!.server);
  });

  test('each cluster has one Ready fake node (and its real node) and the product namespaces', () => {
    const real = hasRealNodes(st);
    for (const kc of [dev, prod]) {
      const nodes = JSON.parse(
        kubectlOk(kc, ['get', 'nodes', '-o', 'json']),
      ) as { items: any[] };
      assert.equal(nodes.items.length, real ? 2 : 1);
      const ready = (n: any): boolean =>
        n.status.conditions.some(
          (c: any) => c.type === 'Ready' && c.status === 'True',
        );
      const node = nodes.items.find(n => n.metadata.name === 'kwok-node-0');
      assert.equal(node.metadata.annotations['kwok.x-k8s.io/node'], 'fake');
      assert.ok(ready(node), 'node Ready');
      const taints = (node.spec.taints ?? []) as any[];
      if (real) {
        // Only pods that tolerate kwok land on it; everything else runs for real.
        assert.ok(
          taints.some(
            t => t.key === 'kwok.x-k8s.io/node' && t.effect === 'NoExecute',
          ),
          'kwok node tainted',
        );
        const realNode = nodes.items.find(n => n.metadata.name === 'node-0');
        assert.ok(realNode && ready(realNode), 'real node Ready');
        assert.match(realNode.status.nodeInfo.kubeletVersion, /^v1\.3\d\.\d+$/);
        assert.match(
          realNode.status.nodeInfo.containerRuntimeVersion,
          /^containerd:\/\//,
        );
      } else {
        assert.ok(
          !taints.some((t: any) => t.effect === 'NoSchedule'),
          'node has no NoSchedule taint',
        );
      }
      for (const n of ['models', 'modelops-builds', 'modelops-system'])
        kubectlOk(kc, ['get', 'namespace', n]);
      kubectlOk(kc, ['get', 'crd', 'inferenceservices.serving.kserve.io']);
    }
  });

  test('the demo Deployments run 2 Ready replicas in models in both clusters', () => {
    for (const kc of [dev, prod]) {
      const out = JSON.parse(
        kubectlOk(kc, [
          '-n',
          'models',
          'get',
          'deployments',
          '-l',
          'app.kubernetes.io/managed-by=backstage-modelops',
          '-o',
          'json',
        ]),
      ) as { items: any[] };
      const ids = out.items
        .map(d => d.metadata.labels['backstage.io/kubernetes-id'])
        .sort();
      assert.deepEqual(ids, [
        'churn-predictor',
        'fraud-detector',
        'image-classifier',
      ]);
      for (const d of out.items)
        assert.equal(
          d.status.readyReplicas,
          2,
          `${d.metadata.name} ready replicas`,
        );
    }
  });

  test('a 2-replica Deployment applied with kubectl has 2 Ready pods within 30 s', async () => {
    const t0 = Date.now();
    kubectlOk(dev, ['-n', ns, 'apply', '-f', '-'], deployment('web', 2));
    const pods = await waitUntil(
      '2 Ready pods',
      () => {
        const p = readyPods(dev, ns, 'app=web');
        return p.length === 2 && p.every(x => x.ready && x.phase === 'Running')
          ? p
          : undefined;
      },
      30_000,
    );
    assert.equal(pods.length, 2);
    const d = JSON.parse(
      kubectlOk(dev, ['-n', ns, 'get', 'deployment', 'web', '-o', 'json']),
    ) as any;
    await waitUntil(
      'deployment status readyReplicas=2',
      () =>
        (
          JSON.parse(
            kubectlOk(dev, [
              '-n',
              ns,
              'get',
              'deployment',
              'web',
              '-o',
              'json',
            ]),
          ) as any
        ).status.readyReplicas === 2,
      30_000 - (Date.now() - t0),
    );
    assert.equal(d.spec.replicas, 2);
  });

  test('a Job completes (its pod ends Succeeded)', async () => {
    kubectlOk(
      dev,
      ['-n', ns, 'apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'build-1' },
        spec: {
          template: {
            spec: {
              ...ON_KWOK,
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'build-1',
                  image: 'example.invalid/kaniko:1',
                  command: ['/kaniko/executor'],
                },
              ],
            },
          },
        },
      }),
    );
    const r = kubectl(dev, [
      '-n',
      ns,
      'wait',
      '--for=condition=Complete',
      '--timeout=30s',
      'job/build-1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const pods = JSON.parse(
      kubectlOk(dev, [
        '-n',
        ns,
        'get',
        'pods',
        '-l',
        'job-name=build-1',
        '-o',
        'json',
      ]),
    ) as { items: any[] };
    assert.ok(pods.items.length >= 1);
    assert.equal(pods.items[0].status.phase, 'Succeeded');
    assert.equal(
      pods.items[0].status.containerStatuses[0].state.terminated.exitCode,
      0,
    );
  });

  test('prod is a separate cluster: an object created in dev is not in prod', () => {
    const name = `only-in-dev-${Date.now().toString(36)}`;
    kubectlOk(dev, [
      '-n',
      'models',
      'create',
      'configmap',
      name,
      '--from-literal=k=v',
    ]);
    try {
      assert.equal(
        kubectl(dev, ['-n', 'models', 'get', 'configmap', name]).code,
        0,
      );
      const inProd = kubectl(prod, ['-n', 'models', 'get', 'configmap', name]);
      assert.notEqual(inProd.code, 0);
      assert.match(inProd.stderr, /NotFound|not found/);
      assert.notEqual(
        kubectl(prod, ['get', 'namespace', ns]).code,
        0,
        'test namespace must not exist in prod',
      );
      const devUid = kubectlOk(dev, [
        'get',
        'namespace',
        'models',
        '-o',
        'jsonpath={.metadata.uid}',
      ]);
      const prodUid = kubectlOk(prod, [
        'get',
        'namespace',
        'models',
        '-o',
        'jsonpath={.metadata.uid}',
      ]);
      assert.notEqual(devUid, prodUid);
    } finally {
      kubectl(dev, ['-n', 'models', 'delete', 'configmap', name]);
    }
  });

  test('chaos label on the pod template: pods never become Ready (CrashLoopBackOff)', async () => {
    kubectlOk(
      dev,
      ['-n', ns, 'apply', '-f', '-'],
      deployment('broken', 2, { 'modelops-test/chaos': 'fail' }),
    );
    const pods = await waitUntil(
      '2 chaos pods in CrashLoopBackOff',
      () => {
        const p = readyPods(dev, ns, 'app=broken');
        return p.length === 2 &&
          p.every(x => x.waiting.includes('CrashLoopBackOff'))
          ? p
          : undefined;
      },
      30_000,
    );
    await new Promise(r => setTimeout(r, 5000));
    const later = readyPods(dev, ns, 'app=broken');
    assert.ok(later.length >= 2);
    assert.ok(
      later.every(p => !p.ready),
      `no chaos pod may be Ready: ${JSON.stringify(later)}`,
    );
    const d = JSON.parse(
      kubectlOk(dev, ['-n', ns, 'get', 'deployment', 'broken', '-o', 'json']),
    ) as any;
    assert.ok(!d.status.readyReplicas, 'deployment has no ready replicas');
    assert.equal(pods.length, 2);
  });

  test('chaos label on a running pod: it stops being Ready, and recovers when the label is removed', async () => {
    kubectlOk(dev, ['-n', ns, 'apply', '-f', '-'], deployment('flaky', 1));
    const [pod] = await waitUntil(
      '1 Ready pod',
      () => {
        const p = readyPods(dev, ns, 'app=flaky');
        return p.length === 1 && p[0]!.ready ? p : undefined;
      },
      30_000,
    );
    kubectlOk(dev, [
      '-n',
      ns,
      'label',
      'pod',
      pod!.name,
      'modelops-test/chaos=fail',
    ]);
    await waitUntil(
      'labelled pod not Ready',
      () => {
        const p = readyPods(dev, ns, 'app=flaky').find(
          x => x.name === pod!.name,
        );
        return p && !p.ready && p.waiting.includes('CrashLoopBackOff');
      },
      30_000,
    );
    // and it recovers when the label goes
    kubectlOk(dev, [
      '-n',
      ns,
      'label',
      'pod',
      pod!.name,
      'modelops-test/chaos-',
    ]);
    await waitUntil(
      'pod Ready again after removing the chaos label',
      () => {
        const p = readyPods(dev, ns, 'app=flaky').find(
          x => x.name === pod!.name,
        );
        return p && p.ready;
      },
      30_000,
    );
  });

  test('a chaos-labelled Job fails', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'build-broken' },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { 'modelops-test/chaos': 'fail' } },
          spec: {
            ...ON_KWOK,
            restartPolicy: 'Never',
            containers: [{ name: 'build', image: 'example.invalid/kaniko:1' }],
          },
        },
      },
    };
    kubectlOk(dev, ['-n', ns, 'apply', '-f', '-'], JSON.stringify(job));
    const r = kubectl(dev, [
      '-n',
      ns,
      'wait',
      '--for=condition=Failed',
      '--timeout=30s',
      'job/build-broken',
    ]);
    assert.equal(r.code, 0, r.stderr);
  });
});
