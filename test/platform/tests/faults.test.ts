/**
 * `up` fails cleanly: for a taken port, a missing Debian package, a failed build,
 * a component that never becomes ready and one that exits at once, it names the
 * component, its log file and the likely fix, and leaves nothing running.
 * Needs the platform DOWN, so it only runs when asked (MODELOPS_RUN_FAULT_TESTS=1,
 * set by test/platform/run-tests.sh before it brings the platform up).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  CLI,
  cli,
  CLUSTER_PORTS,
  demoServices,
  REPO_ROOT,
  STATE_DIR,
} from './helpers.ts';

const enabled = process.env.MODELOPS_RUN_FAULT_TESTS === '1';

function up(env: Record<string, string>): {
  code: number;
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(process.execPath, [CLI, 'up'], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function assertNothingLeft(): void {
  // our binaries with arguments under .platform/ (a Backstage backend that merely reads
  // .platform/app-config.platform.yaml is someone else's and does not count)
  const r = spawnSync(
    'pgrep',
    [
      '-af',
      `^[^ ]*/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok|prometheus|gitea) .*${STATE_DIR}/`,
    ],
    { encoding: 'utf8' },
  );
  const left = r.stdout
    .split('\n')
    .filter(l => l.trim() && !l.includes('pgrep'));
  assert.deepEqual(left, [], 'processes using .platform still running');
  const ports = Object.values(CLUSTER_PORTS).flatMap(p =>
    demoServices().flatMap((_, i) => [
      p.modelServerBase + i,
      p.trafficControlBase + i,
    ]),
  );
  const m = spawnSync(
    'pgrep',
    ['-af', `--(control-)?port (${ports.join('|')})( |$)`],
    { encoding: 'utf8' },
  );
  assert.deepEqual(
    m.stdout.split('\n').filter(l => l.trim() && !l.includes('pgrep')),
    [],
    'model servers still running',
  );
  assert.equal(cli(['status', '--json']).code, 3, 'status: down');
  assert.equal(
    existsSync(path.join(STATE_DIR, 'app-config.platform.yaml')),
    false,
    'no app-config left',
  );
}

describe(
  'up fails cleanly',
  {
    skip: enabled
      ? false
      : 'needs the platform down: run via test/platform/run-tests.sh (MODELOPS_RUN_FAULT_TESTS=1)',
  },
  () => {
    before(() => {
      assert.equal(
        cli(['status', '--json']).code,
        3,
        'the platform must be down for the fault tests',
      );
    });

    test('a port already taken', async () => {
      const srv = net.createServer();
      const port = CLUSTER_PORTS.dev.apiserver;
      await new Promise<void>(r => srv.listen(port, '127.0.0.1', () => r()));
      try {
        const r = up({});
        assert.equal(r.code, 1);
        assert.match(r.stderr, /up FAILED at component: dev kube-apiserver/);
        assert.ok(
          r.stderr.includes(`port 127.0.0.1:${port} is already taken`),
          r.stderr,
        );
        assert.ok(
          r.stderr.includes(`likely fix: stop whatever listens on ${port}`),
          r.stderr,
        );
      } finally {
        await new Promise(r => srv.close(r));
      }
      assertNothingLeft();
    });

    test('a missing Debian package (prometheus)', () => {
      const r = up({ MODELOPS_PROMETHEUS_BIN: '/nonexistent/prometheus' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /up FAILED at component: prometheus/);
      assert.match(
        r.stderr,
        /the Debian package 'prometheus' is not installed/,
      );
      assert.match(
        r.stderr,
        /likely fix: run `apt-get update && apt-get install -y prometheus`/,
      );
      assertNothingLeft();
    });

    test('a failed build', () => {
      const cache = mkdtempSync(path.join(os.tmpdir(), 'modelops-cache-'));
      try {
        // every compile step "fails": toolexec runs /bin/false instead of the compiler
        const r = up({
          MODELOPS_CACHE: cache,
          GOFLAGS: '-toolexec=/bin/false',
        });
        assert.equal(r.code, 1);
        assert.match(r.stderr, /up FAILED at component: build of etcd/);
        const log = path.join(cache, 'build-logs', 'etcd-v3.6.16.log');
        assert.ok(r.stderr.includes(`log: ${log}`), r.stderr);
        assert.ok(existsSync(log));
        assert.match(r.stderr, /likely fix: .*Go module proxy/);
        assert.match(r.stderr, /\[build\] etcd v3\.6\.16: FAILED/);
        assert.equal(
          existsSync(path.join(cache, 'bin', 'etcd-v3.6.16', 'etcd')),
          false,
          'no half-built binary',
        );
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
      assertNothingLeft();
    });

    test('a component that never becomes ready (kube-apiserver rejecting the admin token) is torn down with the rest', () => {
      // the last --token-auth-file wins: an empty one, so /readyz answers 401 for ever.
      // The bound covers the apiserver's own start as well (about 2 s idle,
      // over 8 s on a machine loaded several times over), so that the 401s,
      // not a slow start, are what the last error shows.
      const r = up({
        MODELOPS_EXTRA_ARGS_KUBE_APISERVER: '--token-auth-file=/dev/null',
        MODELOPS_READY_TIMEOUT_MS: '20000',
      });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /up FAILED at component: (dev|prod)-kube-apiserver/,
      );
      assert.match(r.stderr, /did not become ready within 20s/);
      assert.match(
        r.stderr,
        /last error: GET https:\/\/127\.0\.0\.1:\d+\/readyz answered HTTP 401/,
      );
      assert.match(
        r.stderr,
        new RegExp(`log: ${STATE_DIR}/logs/(dev|prod)-kube-apiserver\\.log`),
      );
      assert.match(r.stderr, /likely fix: /);
      // 2 etcd + 2 API servers, Gitea (set up meanwhile: it is up long before
      // the 20 s run out), and with real nodes the image registry that starts first.
      const started = process.env.MODELOPS_REAL_NODES !== '0' ? 6 : 5;
      assert.match(
        r.stderr,
        new RegExp(`tearing down the ${started} processes this run started`),
      );
      assertNothingLeft();
    });

    test('a component that exits at once (kwok with a bad flag)', () => {
      const r = up({ MODELOPS_EXTRA_ARGS_KWOK: '--no-such-flag' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /up FAILED at component: (dev|prod)-kwok/);
      assert.match(
        r.stderr,
        /exited \(code 1, signal none\) before it became ready/,
      );
      assert.match(
        r.stderr,
        new RegExp(`log: ${STATE_DIR}/logs/(dev|prod)-kwok\\.log`),
      );
      assert.match(r.stderr, /unknown flag: --no-such-flag/);
      assertNothingLeft();
    });
  },
);
