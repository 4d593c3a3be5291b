// Real workloads through the ModelOps API: a deploy changes what serves
// traffic (new pods on the cluster's real node, new series in Prometheus), and
// a release that cannot run is reported failed, with the reason and a fix,
// while the pods before it keep serving; a slower release shows in its health
// against the SLO, and a rollback brings the earlier one back. Leaves
// fraud-detector in dev on the demo's own release.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  kubectlOk,
  requireUp,
  waitUntil,
  type Status,
} from '../platform/tests/helpers.ts';
import {
  BACKEND_URL,
  getJson,
  postJson,
  signInWhenCatalogReady,
} from './support.ts';

const ENTITY_REF = 'component:default/fraud-detector';
const REPO = 'registry.modelops.local/risk/fraud-detector';
/** The demo's own release, and a newer one that behaves the same (test/platform/demo-images.json). */
const DEMO = `${REPO}:0.1.0`;
const NEWER = `${REPO}:0.1.1`;
/** 300 ms slower on every inference: over fraud-detector's latency-p95-ms=250. */
const SLOW = `${REPO}:0.1.2`;

describe('real workloads through the ModelOps API (fraud-detector in dev)', () => {
  let token: string;
  let platform: Status;
  let devKubeconfig: string;

  const deploy = async (image: string) => {
    const { status, body } = await postJson(
      `${BACKEND_URL}/api/modelops/deployments`,
      token,
      { entityRef: ENTITY_REF, environment: 'dev', image },
    );
    assert.equal(status, 201, JSON.stringify(body));
    return body.deployment as { revision: number; image: string };
  };

  /** The dev environment's status once it is `phase` for `image`. */
  const settled = (phase: string, image: string) =>
    waitUntil(
      `dev ${phase} with ${image}`,
      async () => {
        const { body } = await getJson(
          `${BACKEND_URL}/api/modelops/deployments/status?entityRef=${ENTITY_REF}`,
          token,
        );
        const dev = body.environments.find((e: any) => e.environment === 'dev');
        return dev?.phase === phase && dev.image === image ? dev : undefined;
      },
      120_000,
      1000,
    );

  /** Ready pods of fraud-detector in dev running `image`. */
  const readyPods = (image: string): string[] => {
    const list = JSON.parse(
      kubectlOk(devKubeconfig, [
        '-n',
        'models',
        'get',
        'pods',
        '-l',
        'backstage.io/kubernetes-id=fraud-detector',
        '-o',
        'json',
      ]),
    ) as { items: any[] };
    return list.items
      .filter(
        p =>
          !p.metadata.deletionTimestamp &&
          p.spec.containers.some((c: any) => c.image === image) &&
          p.status.containerStatuses?.every((c: any) => c.ready),
      )
      .map(p => p.metadata.name as string);
  };

  const seriesFor = async (pods: string[]): Promise<Set<string>> => {
    const u = new URL('/api/v1/query', platform.prometheus!.url);
    u.searchParams.set(
      'query',
      `up{cluster="dev",namespace="models",backstage_io_kubernetes_id="fraud-detector"} == 1`,
    );
    const body = (await (await fetch(u)).json()) as any;
    const seen = new Set<string>(
      body.data.result.map((r: any) => r.metric.pod as string),
    );
    return new Set(pods.filter(p => seen.has(p)));
  };

  before(async () => {
    platform = requireUp();
    devKubeconfig = platform.clusters.find(c => c.name === 'dev')!.kubeconfig;
    token = await signInWhenCatalogReady();
    // Start from the demo's own release (the portal test may have deployed another).
    await deploy(DEMO);
    await settled('Available', DEMO);
  });

  after(async () => {
    // Back to the demo's own release, whatever happened above.
    await deploy(DEMO);
    await settled('Available', DEMO);
  });

  it('a new release replaces the pods, and Prometheus shows the new pods within two scrape intervals', async () => {
    const before = new Set(
      await waitUntil(
        'two ready pods of the demo release',
        () => (readyPods(DEMO).length === 2 ? readyPods(DEMO) : undefined),
        60_000,
      ),
    );
    await deploy(NEWER);
    const status = await settled('Available', NEWER);
    assert.equal(status.replicas.ready, 2);
    const fresh = await waitUntil(
      'two ready pods of the new release, none of them from before',
      () => {
        const pods = readyPods(NEWER);
        return pods.length === 2 && pods.every(p => !before.has(p))
          ? pods
          : undefined;
      },
      60_000,
    );
    // Scraped every 5 s; discovery follows the pods' watch events.
    const t0 = Date.now();
    await waitUntil(
      'up == 1 for each new pod',
      async () => (await seriesFor(fresh)).size === fresh.length,
      20_000,
      500,
    );
    assert.ok(Date.now() - t0 < 20_000);
    // Each pod answers on its own address, on the node's bridge.
    const ip = kubectlOk(devKubeconfig, [
      '-n',
      'models',
      'get',
      'pod',
      fresh[0]!,
      '-o',
      'jsonpath={.status.podIP}',
    ]);
    const meta = (await (
      await fetch(`http://${ip}:8080/v2/models/fraud-detector`, {
        signal: AbortSignal.timeout(5000),
      })
    ).json()) as { name: string; versions?: string[] };
    assert.equal(meta.name, 'fraud-detector');
  });

  it('a tag that does not exist is reported Failed with ImagePullBackOff and a fix, and the release before it keeps serving', async () => {
    const missing = `${REPO}:0.2.0`;
    const serving = readyPods(NEWER);
    assert.equal(serving.length, 2);
    await deploy(missing);
    const status = await settled('Failed', missing);
    const pull = status.problems.find((p: any) =>
      String(p.message).includes(missing),
    );
    assert.ok(pull, JSON.stringify(status.problems));
    assert.equal(pull.kind, 'Pod');
    assert.match(pull.fix.explanation, /could not be found/);
    assert.ok(pull.fix.actions.includes('Ensure the image name is correct'));
    // maxUnavailable 0: the earlier pods stay until a new one is ready.
    assert.deepEqual(readyPods(NEWER).sort(), serving.sort());
  });

  it('a slower release turns p95 latency critical against the SLO, and a rollback brings the earlier release back', async () => {
    const health = async () => {
      const { status, body } = await getJson(
        `${BACKEND_URL}/api/modelops/health?entityRef=${ENTITY_REF}`,
        token,
      );
      assert.equal(status, 200);
      const dev = body.environments.find((e: any) => e.environment === 'dev');
      return dev.signals.find((s: any) => s.signal === 'latencyP95');
    };
    const good = await deploy(DEMO);
    await settled('Available', DEMO);

    await deploy(SLOW);
    await settled('Available', SLOW);
    // Traffic follows the new pods; the 5m window fills with slow samples.
    const p95 = await waitUntil(
      'p95 latency critical',
      async () => {
        const s = await health();
        return s.status === 'critical' ? s : undefined;
      },
      120_000,
      2000,
    );
    assert.ok(p95.value > 0.25);
    assert.equal(p95.critical, 0.25);

    const history = await getJson(
      `${BACKEND_URL}/api/modelops/deployments?entityRef=${ENTITY_REF}&environment=dev&limit=5`,
      token,
    );
    const record = history.body.items.find(
      (d: any) => d.revision === good.revision,
    );
    assert.ok(record, 'the good revision is in the history');
    const res = await postJson(
      `${BACKEND_URL}/api/modelops/deployments/${record.id}/rollback`,
      token,
      {},
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await settled('Available', DEMO);
    await waitUntil(
      'two ready pods of the earlier release',
      () => readyPods(DEMO).length === 2,
      60_000,
    );
  });
});
