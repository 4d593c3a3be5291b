/**
 * Destructive, so it runs last and only when asked (MODELOPS_RUN_DOWN_TEST=1,
 * which test/platform/run-tests.sh sets): a component killed by hand shows up in
 * `status`, then `down` leaves no process of the platform behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { podNetwork } from '../lib/network.ts';
import {
  cli,
  kubectlOk,
  CLUSTER_PORTS,
  hasRealNodes,
  ON_KWOK,
  demoServices,
  requireUp,
  status,
  STATE_DIR,
  sleep,
  waitUntil,
} from './helpers.ts';

const enabled = process.env.MODELOPS_RUN_DOWN_TEST === '1';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const st = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], {
      encoding: 'utf8',
    }).stdout.trim();
    return st !== '' && !st.startsWith('Z');
  } catch {
    return false;
  }
}

function pgrep(pattern: string): string[] {
  const r = spawnSync('pgrep', ['-af', pattern], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(l => l.trim() !== '' && !l.includes('pgrep'));
}

/** The model server (or traffic control) ports of the three demo services in both clusters, as a regex alternation. */
function serverPorts(base: 'modelServerBase' | 'trafficControlBase'): string {
  return Object.values(CLUSTER_PORTS)
    .flatMap(p => demoServices().map((_, i) => p[base] + i))
    .join('|');
}

let tokenBefore = '';

/** A workload deployed the way the portal does (managed-by label, one replica), beside the demo ones. */
const USER_DEPLOYMENT = 'user-model';
let userUid = '';

function devKubeconfig(): string {
  return status().clusters.find(c => c.name === 'dev')!.kubeconfig;
}

describe(
  'down',
  {
    skip: enabled
      ? false
      : 'destructive: run via test/platform/run-tests.sh (MODELOPS_RUN_DOWN_TEST=1)',
  },
  () => {
    test('a component killed by hand shows as running:false and status exits non-zero', async () => {
      const st = requireUp();
      const victim = st.modelServers.find(
        m => m.service === 'image-classifier' && m.environment === 'prod',
      )!;
      process.kill(victim.pid, 'SIGKILL');
      await sleep(500);
      const r = cli(['status', '--json']);
      assert.notEqual(
        r.code,
        0,
        'status must exit non-zero when something is down',
      );
      const s = JSON.parse(r.stdout);
      assert.equal(s.up, false);
      assert.equal(
        s.modelServers.find((m: any) => m.pid === victim.pid).running,
        false,
      );
      const human = cli(['status']);
      assert.notEqual(human.code, 0);
      // With real nodes the host runs only the traffic generator of each demo service.
      assert.match(
        human.stdout,
        /DOWN\s+prod-(model-server|traffic)-image-classifier/,
      );
    });

    test("a user's own workload sits beside the demo ones before down", async () => {
      const dev = devKubeconfig();
      kubectlOk(
        dev,
        [
          '-n',
          'models',
          'apply',
          '--server-side',
          '--field-manager=backstage-modelops',
          '-f',
          '-',
        ],
        JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {
            name: USER_DEPLOYMENT,
            namespace: 'models',
            labels: { 'app.kubernetes.io/managed-by': 'backstage-modelops' },
          },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: USER_DEPLOYMENT } },
            template: {
              metadata: { labels: { app: USER_DEPLOYMENT } },
              // A release that never becomes ready (the tag does not exist): it must not hold up `up`.
              spec: {
                containers: [
                  {
                    name: 'model-server',
                    image: 'registry.modelops.local/risk/fraud-detector:0.2.0',
                  },
                ],
              },
            },
          },
        }),
      );
      userUid = kubectlOk(dev, [
        '-n',
        'models',
        'get',
        'deployment',
        USER_DEPLOYMENT,
        '-o',
        'jsonpath={.metadata.uid}',
      ]);
      assert.ok(userUid, 'the user Deployment exists');
    });

    test('down stops every recorded process and nothing of the platform is left', async () => {
      const before = JSON.parse(cli(['status', '--json']).stdout);
      tokenBefore = readFileSync(
        path.join(STATE_DIR, 'app-config.platform.yaml'),
        'utf8',
      );
      const pids: number[] = before.components.map((c: any) => c.pid);
      const real = hasRealNodes(before);
      const hostSettings = real
        ? (JSON.parse(
            readFileSync(path.join(STATE_DIR, 'host-settings.json'), 'utf8'),
          ) as { sysctls: Record<string, string> })
        : undefined;
      assert.ok(
        pids.length >= (real ? 22 : 23),
        `expected the whole platform recorded, got ${pids.length}`,
      );
      const r = cli(['down']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const survivors = pids.filter(alive);
      assert.deepEqual(survivors, [], 'recorded pids still alive');
      for (const name of [
        'etcd',
        'kube-apiserver',
        'kube-controller-manager',
        'kube-scheduler',
        'kwok',
        'prometheus',
      ]) {
        const left = pgrep(`^[^ ]*/${name} .*${STATE_DIR}/`);
        assert.deepEqual(
          left,
          [],
          `${name} processes using ${STATE_DIR} still running`,
        );
      }
      assert.deepEqual(
        pgrep(`--port (${serverPorts('modelServerBase')}) --host 127.0.0.1`),
        [],
        'model servers on the platform ports',
      );
      assert.deepEqual(
        pgrep(`--control-port (${serverPorts('trafficControlBase')})( |$)`),
        [],
        'traffic generators on the platform ports',
      );
      if (hostSettings) {
        // The kernel settings the kubelet changed are back to what up found.
        for (const [k, v] of Object.entries(hostSettings.sysctls))
          assert.equal(
            readFileSync(path.join('/proc/sys', k), 'utf8').trim(),
            v,
            `${k} restored`,
          );
        for (const name of ['kubelet', 'containerd'])
          assert.deepEqual(
            pgrep(`^[^ ]*/${name} .*${STATE_DIR}/`),
            [],
            `${name} processes using ${STATE_DIR} still running`,
          );
        assert.deepEqual(
          pgrep(`containerd-shim.* -address ${STATE_DIR}/`),
          [],
          'containerd shims of the platform',
        );
        const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
          .split('\n')
          .filter(l => l.includes(` ${STATE_DIR}/`));
        assert.deepEqual(mounts, [], 'mounts under the platform dir');
        for (const c of ['dev', 'prod'] as const) {
          const r = spawnSync('ip', ['link', 'show', podNetwork(c).bridge]);
          assert.notEqual(
            r.status,
            0,
            `bridge ${podNetwork(c).bridge} removed`,
          );
        }
        assert.equal(
          readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
          '0',
        );
      }
      const st = cli(['status', '--json']);
      assert.equal(st.code, 3);
      assert.equal(JSON.parse(st.stdout).up, false);
    });

    test('up again reuses the clusters (same CA and token for Backstage) and they work; then down again', async () => {
      const r = cli(['up']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      try {
        const cfg = readFileSync(
          path.join(STATE_DIR, 'app-config.platform.yaml'),
          'utf8',
        );
        assert.equal(
          cfg,
          tokenBefore,
          'app-config.platform.yaml (tokens, CA data) unchanged across down/up',
        );
        const st = requireUp();
        const dev = st.clusters.find(c => c.name === 'dev')!.kubeconfig;
        // The user's workload did not hold up back and is still theirs: same object, one replica.
        const user = JSON.parse(
          kubectlOk(dev, [
            '-n',
            'models',
            'get',
            'deployment',
            USER_DEPLOYMENT,
            '-o',
            'json',
          ]),
        );
        assert.equal(
          user.metadata.uid,
          userUid,
          'the user Deployment survived the restart as the same object',
        );
        assert.equal(
          user.spec.replicas,
          1,
          'up left the user Deployment as it was',
        );
        kubectlOk(dev, [
          '-n',
          'models',
          'delete',
          'deployment',
          USER_DEPLOYMENT,
        ]);
        const name = `after-restart-${Date.now().toString(36)}`;
        kubectlOk(
          dev,
          ['-n', 'models', 'apply', '-f', '-'],
          JSON.stringify({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name },
            spec: {
              replicas: 2,
              selector: { matchLabels: { app: name } },
              template: {
                metadata: { labels: { app: name } },
                spec: {
                  ...ON_KWOK,
                  containers: [{ name: 'x', image: 'example.invalid/x:1' }],
                },
              },
            },
          }),
        );
        try {
          await waitUntil(
            '2 ready replicas after restart',
            () =>
              kubectlOk(dev, [
                '-n',
                'models',
                'get',
                'deployment',
                name,
                '-o',
                'jsonpath={.status.readyReplicas}',
              ]) === '2',
            30_000,
          );
        } finally {
          kubectlOk(dev, ['-n', 'models', 'delete', 'deployment', name]);
        }
      } finally {
        const d = cli(['down']);
        assert.equal(d.code, 0, d.stdout + d.stderr);
      }
    });
  },
);
