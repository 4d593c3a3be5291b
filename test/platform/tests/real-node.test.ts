/**
 * The real nodes (the default; MODELOPS_REAL_NODES=0 leaves them out): the demo pods run the images built
 * here and answer on their pod IPs, a new version replaces the pods and
 * Prometheus follows, a missing tag and a crashing image fail the way
 * Kubernetes reports them, and the pod network stays on its bridge.
 * Skipped when the platform under test runs kwok only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { demoManifests } from '../lib/documents.ts';
import { podNetwork } from '../lib/network.ts';
import { REGISTRY_PORT } from '../ports.ts';
import {
  hasRealNodes,
  kubectl,
  kubectlOk,
  podsIn,
  status,
  STATE_DIR,
  waitUntil,
  type Status,
} from './helpers.ts';

const st: Status = status();
const enabled = st.up && hasRealNodes(st);

/** Refuses (throws) unless the host's route to `ip` is the cluster's bridge. */
function routedToBridge(cluster: 'dev' | 'prod', ip: string): void {
  const r = spawnSync('ip', ['-o', 'route', 'get', ip], { encoding: 'utf8' });
  const dev = /\bdev (\S+)/.exec(r.stdout)?.[1];
  assert.equal(
    dev,
    podNetwork(cluster).bridge,
    `route to ${ip} must be the platform bridge, is ${r.stdout.trim()}`,
  );
}

async function promQuery(
  q: string,
): Promise<{ metric: Record<string, string> }[]> {
  const u = new URL('/api/v1/query', st.prometheus!.url);
  u.searchParams.set('query', q);
  const body = (await (await fetch(u)).json()) as {
    data: { result: { metric: Record<string, string> }[] };
  };
  return body.data.result;
}

describe(
  'real nodes',
  {
    skip: enabled
      ? false
      : 'the platform runs kwok only (MODELOPS_REAL_NODES=0)',
  },
  () => {
    let dev = '';
    const made: string[] = [];
    before(() => {
      dev = st.clusters.find(c => c.name === 'dev')!.kubeconfig;
    });
    after(() => {
      for (const name of made)
        kubectl(dev, [
          '-n',
          'models',
          'delete',
          'deployment,service',
          name,
          '--ignore-not-found',
          '--wait=false',
        ]);
    });

    test('the demo pods run on the real node and their model server answers on the pod IP', async () => {
      const running = podsIn(dev, 'backstage.io/kubernetes-id=fraud-detector');
      assert.ok(running.length >= 1);
      for (const p of running) {
        assert.equal(p.spec.nodeName, 'node-0');
        const ip = p.status.podIP!;
        routedToBridge('dev', ip);
        const res = await fetch(`http://${ip}:8080/v2/health/ready`, {
          signal: AbortSignal.timeout(5000),
        });
        assert.equal(res.status, 200, `model server on ${ip}`);
        const meta = (await (
          await fetch(`http://${ip}:8080/v2/models/fraud-detector`, {
            signal: AbortSignal.timeout(5000),
          })
        ).json()) as { name: string };
        assert.equal(meta.name, 'fraud-detector');
      }
    });

    test('kubectl logs reaches the kubelet (the API server has a client certificate it trusts)', () => {
      const [pod] = podsIn(dev, 'backstage.io/kubernetes-id=fraud-detector');
      const logs = kubectlOk(dev, [
        '-n',
        'models',
        'logs',
        pod!.metadata.name,
        '-c',
        'model-server',
      ]);
      assert.match(logs, /"listening"/);
    });

    test('a pod reaches the image registry at its bridge address (the registry itself listens on loopback only)', async () => {
      const bridge = `${podNetwork('dev').hostIp}:${REGISTRY_PORT}`;
      const name = `registry-probe-${Date.now().toString(36)}`;
      kubectlOk(
        dev,
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'models' },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'probe',
                image: 'registry.modelops.local/risk/fraud-detector:0.1.0',
                command: [
                  '/usr/local/bin/node',
                  '-e',
                  `fetch('http://${bridge}/v2/_catalog').then(r => r.text()).then(t => console.log(t))`,
                ],
              },
            ],
          },
        }),
      );
      try {
        await waitUntil(
          'the probe pod Succeeded',
          () => {
            const phase = kubectlOk(dev, [
              '-n',
              'models',
              'get',
              'pod',
              name,
              '-o',
              'jsonpath={.status.phase}',
            ]);
            assert.notEqual(phase, 'Failed', 'the probe pod failed');
            return phase === 'Succeeded' || undefined;
          },
          60_000,
          1000,
        );
        const out = kubectlOk(dev, ['-n', 'models', 'logs', name]);
        assert.match(out, /"risk\/fraud-detector"/);
        const listening = spawnSync(
          'ss',
          ['-Hltn', `sport = :${REGISTRY_PORT}`],
          {
            encoding: 'utf8',
          },
        ).stdout;
        for (const line of listening.trim().split('\n')) {
          const local = line.trim().split(/\s+/)[3] ?? '';
          assert.ok(
            local.startsWith('127.') ||
              local.startsWith(podNetwork('dev').hostIp) ||
              local.startsWith(podNetwork('prod').hostIp),
            `port ${REGISTRY_PORT} listens on loopback or a pod bridge only, not ${local}`,
          );
        }
      } finally {
        kubectl(dev, ['-n', 'models', 'delete', 'pod', name, '--wait=false']);
      }
    });

    test('an image of any other registry resolves to the local one, never to the internet', () => {
      // Pulled by ctr in a network namespace of its own with loopback only, so
      // even a broken configuration could not send a packet anywhere.
      const d = path.join(STATE_DIR, 'dev', 'node', 'containerd');
      const r = spawnSync(
        'unshare',
        [
          '--net',
          'sh',
          '-c',
          `ip link set lo up && exec ctr --timeout 15s --address "$1" images pull --hosts-dir "$2" docker.io/library/nginx:1.27`,
          'pull',
          path.join(d, 'containerd.sock'),
          path.join(d, 'certs.d'),
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      const out = `${r.stdout}${r.stderr}`;
      assert.notEqual(r.status, 0);
      assert.match(out, new RegExp(`127\\.0\\.0\\.1:${REGISTRY_PORT}`));
      assert.doesNotMatch(out, /registry-1\.docker\.io/);
    });

    test('the pod network: routes on the bridge, no forwarding, no NAT, pods without a default route', () => {
      assert.equal(
        spawnSync('sysctl', ['-n', 'net.ipv4.ip_forward'], {
          encoding: 'utf8',
        }).stdout.trim(),
        '0',
      );
      const nat = spawnSync('iptables-save', ['-t', 'nat'], {
        encoding: 'utf8',
      }).stdout;
      assert.doesNotMatch(nat, /MASQUERADE|SNAT|DNAT|KUBE-|CNI-/);
      const filter = spawnSync('iptables-save', [], {
        encoding: 'utf8',
      }).stdout;
      assert.doesNotMatch(filter, /KUBE-|CNI-/);
      for (const cluster of ['dev', 'prod'] as const) {
        const netnsDir = path.join(
          STATE_DIR,
          cluster,
          'node',
          'containerd',
          'state',
          'io.containerd.grpc.v1.cri',
          'netns',
        );
        assert.ok(existsSync(netnsDir), `${netnsDir} exists`);
        const namespaces = readdirSync(netnsDir);
        assert.ok(namespaces.length > 0, 'pods have network namespaces');
        for (const ns of namespaces) {
          const routes = spawnSync(
            'nsenter',
            [`--net=${path.join(netnsDir, ns)}`, 'ip', '-4', 'route'],
            { encoding: 'utf8' },
          ).stdout;
          assert.doesNotMatch(
            routes,
            /default/,
            `pod netns ${ns} has no default route`,
          );
          assert.match(
            routes,
            new RegExp(podNetwork(cluster).cidr.replace(/\./g, '\\.')),
          );
        }
      }
    });

    test('a new version replaces the pods and Prometheus shows series for the new pods within two scrape intervals', async () => {
      // A workload of its own, shaped like the demo ones: the demo Deployments'
      // fields belong to ModelOps (field manager backstage-modelops), and a
      // kubectl edit here would make the portal's next deploy a conflict.
      const name = `rollout-probe-${Date.now().toString(36)}`;
      made.push(name);
      /** Applies the workload at `tag` and waits for its rollout. */
      const rollOut = (tag: string) => {
        kubectlOk(
          dev,
          ['apply', '-f', '-'],
          demoManifests([
            {
              id: name,
              runtime: 'kserve',
              image: `registry.modelops.local/risk/fraud-detector:${tag}`,
            },
          ]),
        );
        kubectlOk(dev, [
          '-n',
          'models',
          'rollout',
          'status',
          `deployment/${name}`,
          '--timeout=120s',
        ]);
      };
      rollOut('0.1.0');
      const before = new Set(
        podsIn(dev, `backstage.io/kubernetes-id=${name}`).map(
          p => p.metadata.name,
        ),
      );
      rollOut('0.1.1');
      const fresh = await waitUntil(
        'only new pods, all ready',
        () => {
          const now = podsIn(dev, `backstage.io/kubernetes-id=${name}`);
          return now.length === 2 &&
            now.every(
              p =>
                !before.has(p.metadata.name) &&
                p.status.containerStatuses?.[0]?.ready,
            )
            ? now.map(p => p.metadata.name)
            : undefined;
        },
        60_000,
      );
      const t0 = Date.now();
      await waitUntil(
        'up == 1 for each new pod',
        async () => {
          const r = await promQuery(
            `up{cluster="dev",namespace="models",backstage_io_kubernetes_id="${name}"} == 1`,
          );
          const seen = new Set(r.map(s => s.metric.pod));
          return fresh.every(p => seen.has(p)) ? r : undefined;
        },
        10_000 + 10_000, // two scrape intervals (5 s) after discovery, plus discovery's own refresh
        500,
      );
      const r = await promQuery(
        `up{cluster="dev",backstage_io_kubernetes_id="${name}",pod="${fresh[0]}"}`,
      );
      assert.equal(r[0]!.metric.job, `models/${name}`);
      assert.equal(r[0]!.metric.container, 'model-server');
      assert.ok(Date.now() - t0 < 20_000);
    });

    const oneOff = (name: string, image: string): string =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'models' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'model-server', image }] },
          },
        },
      });

    test('a tag that does not exist: ErrImagePull / ImagePullBackOff', async () => {
      const name = `missing-tag-${Date.now().toString(36)}`;
      made.push(name);
      kubectlOk(
        dev,
        ['apply', '-f', '-'],
        oneOff(name, 'registry.modelops.local/risk/fraud-detector:9.9.9'),
      );
      const reason = await waitUntil(
        'ErrImagePull or ImagePullBackOff',
        () => {
          const r = podsIn(dev, `app=${name}`)[0]?.status.containerStatuses?.[0]
            ?.state.waiting?.reason;
          return r === 'ErrImagePull' || r === 'ImagePullBackOff'
            ? r
            : undefined;
        },
        60_000,
      );
      assert.match(reason, /^(ErrImagePull|ImagePullBackOff)$/);
    });

    test('an image whose server exits: CrashLoopBackOff', async () => {
      const name = `crashing-${Date.now().toString(36)}`;
      made.push(name);
      kubectlOk(
        dev,
        ['apply', '-f', '-'],
        oneOff(name, 'registry.modelops.local/risk/fraud-detector:0.1.4'),
      );
      await waitUntil(
        'CrashLoopBackOff',
        () =>
          podsIn(dev, `app=${name}`)[0]?.status.containerStatuses?.[0]?.state
            .waiting?.reason === 'CrashLoopBackOff',
        90_000,
        1000,
      );
    });
  },
);
