/**
 * Prometheus scrapes every demo model server in both environments, with the
 * labels a PodMonitor would give them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CLUSTER_PORTS,
  HOST,
  demoServices,
  hasRealNodes,
  podsIn,
  requireUp,
  waitUntil,
  type Status,
} from './helpers.ts';

let st: Status;

before(() => {
  st = requireUp();
});

async function query(
  q: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const u = new URL('/api/v1/query', st.prometheus!.url);
  u.searchParams.set('query', q);
  u.searchParams.set('time', String(Date.now() / 1000));
  const res = await fetch(u);
  assert.equal(res.status, 200, `query ${q}`);
  const body = (await res.json()) as {
    status: string;
    data: {
      result: { metric: Record<string, string>; value: [number, string] }[];
    };
  };
  assert.equal(body.status, 'success');
  return body.data.result;
}

/** The ready pods of a demo service, by name and IP. */
function demoPods(env: string, id: string): { name: string; ip: string }[] {
  const kc = st.clusters.find(c => c.name === env)!.kubeconfig;
  return podsIn(kc, `backstage.io/kubernetes-id=${id}`)
    .filter(p =>
      p.status.conditions?.some(c => c.type === 'Ready' && c.status === 'True'),
    )
    .map(p => ({ name: p.metadata.name, ip: p.status.podIP ?? '' }));
}

describe('prometheus', () => {
  test('is ready', async () => {
    const res = await fetch(new URL('/-/ready', st.prometheus!.url));
    assert.equal(res.status, 200);
  });

  for (const svc of demoServices()) {
    for (const env of ['dev', 'prod']) {
      test(`${svc.id} (${env}): target up and model metrics present with PodMonitor labels`, async () => {
        const sel = `backstage_io_kubernetes_id="${svc.id}",cluster="${env}",namespace="models"`;
        const up = await waitUntil(
          `up{${sel}} == 1`,
          async () => {
            const r = await query(`up{${sel}}`);
            if (!hasRealNodes(st)) {
              // The host model server's static target (series from a run with real nodes
              // can still be inside Prometheus' lookback).
              const port =
                CLUSTER_PORTS[env as 'dev' | 'prod'].modelServerBase +
                demoServices().findIndex(d => d.id === svc.id);
              const own = r.filter(
                x => x.metric.instance === `${HOST}:${port}`,
              );
              return own.length === 1 && own[0]!.value[1] === '1'
                ? own
                : undefined;
            }
            // Real nodes: one target per demo pod, named and addressed like the pod. Series of
            // pods (or pod IPs) from before a restart stay visible for Prometheus' lookback.
            const current = demoPods(env, svc.id);
            const hits = r.filter(
              x =>
                x.value[1] === '1' &&
                current.some(
                  p =>
                    p.name === x.metric.pod &&
                    `${p.ip}:8080` === x.metric.instance,
                ),
            );
            return current.length === 2 && hits.length === 2 ? hits : undefined;
          },
          30_000,
          1000,
        );
        assert.match(up[0]!.metric.pod!, new RegExp(`^${svc.id}-`));
        assert.equal(up[0]!.metric.job, `models/${svc.id}`);
        const series = await waitUntil(
          `model series for ${svc.id}/${env}`,
          async () => {
            const r = await query(`{${sel},__name__!~"up|scrape_.*"}`);
            return r.length > 0 ? r : undefined;
          },
          30_000,
          1000,
        );
        assert.ok(series.length > 0);
        for (const s of series) {
          assert.equal(s.metric.backstage_io_kubernetes_id, svc.id);
          assert.equal(s.metric.cluster, env);
          assert.ok(s.metric.pod, 'pod label');
        }
      });
    }
  }

  test('the model servers are serving traffic (prediction counters increase)', async () => {
    // modelops_predictions_total is common to every runtime flavour; 5 rps of traffic moves it.
    await waitUntil(
      'increasing prediction counters for every service',
      async () => {
        const r = await query(
          'sum by (backstage_io_kubernetes_id, cluster) (rate(modelops_predictions_total{namespace="models"}[30s]))',
        );
        const moving = r.filter(x => Number(x.value[1]) > 0);
        return moving.length >= demoServices().length * 2 ? moving : undefined;
      },
      45_000,
      2000,
    );
  });
});
