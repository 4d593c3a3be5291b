/** `status` reports the running platform in the agreed JSON shape and as text. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cli, demoServices, requireUp } from './helpers.ts';

describe('status', () => {
  test('--json has clusters, prometheus and 6 running model servers; exit code 0', () => {
    requireUp();
    const r = cli(['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(
      s.clusters.map((c: any) => c.name),
      ['dev', 'prod'],
    );
    for (const c of s.clusters) {
      assert.match(c.server, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(typeof c.kubeconfig, 'string');
    }
    assert.match(s.prometheus.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.modelServers.length, demoServices().length * 2);
    for (const m of s.modelServers) {
      assert.deepEqual(Object.keys(m).slice(0, 5), [
        'service',
        'environment',
        'url',
        'pid',
        'running',
      ]);
      assert.equal(m.running, true);
      assert.ok(['dev', 'prod'].includes(m.environment));
    }
  });

  test('human output lists every process as running', () => {
    const r = cli(['status']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /UP/);
    assert.doesNotMatch(r.stdout, /DOWN/);
  });

  test('up again is a no-op while up', () => {
    const before = cli(['status', '--json']).stdout;
    const r = cli(['up']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already up/);
    const pidsBefore = JSON.parse(before).components.map((c: any) => c.pid);
    const pidsAfter = JSON.parse(
      cli(['status', '--json']).stdout,
    ).components.map((c: any) => c.pid);
    assert.deepEqual(pidsAfter, pidsBefore);
  });
});
