/**
 * End-to-end: the three command-line tools as separate processes, talking
 * over loopback HTTP on ephemeral ports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FEATURE_NAMES } from '../src/dataset.ts';
import { sampleValue } from './support/exposition.ts';
import {
  request,
  runCli,
  scrape,
  startCli,
  waitFor,
  type Cli,
} from './support/harness.ts';

const MODEL = 'churn-e2e';

describe('server, traffic generator and control CLI', () => {
  let server: Cli;
  let traffic: Cli;
  let serverUrl: string;
  let controlUrl: string;

  before(async () => {
    server = startCli('server.ts', [
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--model',
      MODEL,
      '--runtime',
      'triton',
    ]);
    serverUrl = String((await server.waitForEvent('listening'))['url']);
    traffic = startCli('traffic.ts', [
      '--target',
      serverUrl,
      '--model',
      MODEL,
      '--runtime',
      'triton',
      '--rps',
      '40',
      '--batch',
      '5',
      '--control-port',
      '0',
      '--duration',
      '60',
    ]);
    controlUrl = String(
      (await traffic.waitForEvent('traffic_started'))['control'],
    );
  });

  after(async () => {
    await traffic?.stop();
    await server?.stop();
  });

  const control = (...args: string[]) =>
    runCli('control.ts', [
      '--server',
      serverUrl,
      '--traffic',
      controlUrl,
      ...args,
    ]);

  const featurePsi = async (): Promise<number[] | undefined> => {
    const m = await scrape(serverUrl);
    const values = FEATURE_NAMES.map(feature =>
      sampleValue(m, 'modelops_feature_psi', { model_name: MODEL, feature }),
    );
    if (
      (sampleValue(m, 'modelops_drift_window_size', { model_name: MODEL }) ??
        0) < 500
    )
      return undefined;
    return values.every(v => v !== undefined)
      ? (values as number[])
      : undefined;
  };

  it('sends v2 traffic that the server counts with Triton metrics', async () => {
    await waitFor(
      async () => {
        const m = await scrape(serverUrl);
        const success =
          sampleValue(m, 'nv_inference_request_success', {
            model: MODEL,
            version: '1',
          }) ?? 0;
        return success >= 20 ? success : undefined;
      },
      15_000,
      'successful inferences',
    );
    const state = (await request(`${controlUrl}/state`)).body as {
      protocol: string;
      succeeded: number;
      failed: number;
    };
    assert.equal(state.protocol, 'v2');
    assert.ok(state.succeeded > 0);
    assert.equal(state.failed, 0);
  });

  it('keeps PSI low without a shift and raises it above 0.2 after "shift 1.5"', async () => {
    const stable = await waitFor(featurePsi, 20_000, 'a full drift window');
    for (const v of stable) assert.ok(v < 0.1, `in-distribution PSI ${v}`);

    const shifted = await control('shift', '1.5');
    assert.equal(shifted.code, 0, shifted.stderr);
    assert.equal(
      (
        JSON.parse(shifted.stdout) as {
          traffic: { shift: { magnitude: number } };
        }
      ).traffic.shift.magnitude,
      1.5,
    );

    await waitFor(
      async () => {
        const values = await featurePsi();
        return values?.every(v => v > 0.2) ? values : undefined;
      },
      20_000,
      'PSI above 0.2 on every feature',
    );

    const cleared = await control('clear');
    assert.equal(cleared.code, 0, cleared.stderr);
    const state = JSON.parse(cleared.stdout) as {
      server: unknown;
      traffic: { shift: { magnitude: number } };
    };
    assert.deepEqual(state.server, { latencyMs: 0, errorRate: 0 });
    assert.equal(state.traffic.shift.magnitude, 0);
  });

  it('moves latency and failure counters with "latency" and "errors", and "clear" restores', async () => {
    const totals = async () => {
      const m = await scrape(serverUrl);
      return {
        success:
          sampleValue(m, 'nv_inference_request_success', { model: MODEL }) ?? 0,
        inferUs:
          sampleValue(m, 'nv_inference_compute_infer_duration_us', {
            model: MODEL,
          }) ?? 0,
        failures:
          sampleValue(m, 'nv_inference_request_failure', {
            model: MODEL,
            reason: 'BACKEND',
          }) ?? 0,
      };
    };
    const averageInferUs = async (windowMs: number): Promise<number> => {
      const a = await totals();
      await new Promise(resolve => setTimeout(resolve, windowMs));
      const b = await totals();
      return (b.inferUs - a.inferUs) / Math.max(1, b.success - a.success);
    };

    assert.equal((await control('latency', '100')).code, 0);
    const slow = await averageInferUs(1500);
    assert.ok(
      slow >= 90_000,
      `average compute time with 100 ms injected latency: ${slow} us`,
    );

    assert.equal((await control('errors', '0.5')).code, 0);
    const failuresBefore = (await totals()).failures;
    await waitFor(
      async () =>
        (await totals()).failures - failuresBefore >= 5 ? true : undefined,
      15_000,
      'failures',
    );

    const status = await control('status');
    assert.equal(status.code, 0);
    assert.deepEqual(
      (JSON.parse(status.stdout) as { faults: unknown }).faults,
      { latencyMs: 100, errorRate: 0.5 },
    );

    assert.equal((await control('clear')).code, 0);
    await new Promise(resolve => setTimeout(resolve, 500)); // let requests started before "clear" finish
    const after = await totals();
    const fast = await averageInferUs(1000);
    assert.ok(fast < 50_000, `average compute time after clear: ${fast} us`);
    assert.equal(
      (await totals()).failures,
      after.failures,
      'no failures after clear',
    );
  });

  it('rejects usage errors with exit code 2', async () => {
    assert.equal(
      (await runCli('control.ts', ['--server', serverUrl, 'errors', '3'])).code,
      2,
    );
    assert.equal(
      (await runCli('control.ts', ['--server', serverUrl, 'explode'])).code,
      2,
    );
    assert.equal(
      (await runCli('control.ts', ['shift', '1'])).code,
      2,
      'shift needs --traffic',
    );
    assert.equal(
      (await runCli('server.ts', ['--runtime', 'tfserving', '--port', '0']))
        .code,
      2,
    );
    const remote = await runCli('traffic.ts', [
      '--target',
      'http://192.0.2.1:8080',
      '--control-port',
      '0',
      '--duration',
      '1',
    ]);
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /loopback/);
  });

  it('stops gracefully on SIGTERM', async () => {
    const trafficCode = await traffic.stop();
    assert.equal(trafficCode, 0, traffic.stderr());
    assert.ok(traffic.events.some(e => e['event'] === 'traffic_stopped'));
    const serverCode = await server.stop();
    assert.equal(serverCode, 0, server.stderr());
    assert.match(server.stderr(), /"event":"stopped"/);
  });
});

describe('a release built to crash (MODEL_START_FAILURE)', () => {
  it('exits 1 at start with the message, before it listens', async () => {
    const r = await runCli(
      'server.ts',
      ['--port', '0', '--host', '127.0.0.1'],
      {
        MODEL_START_FAILURE: 'a defect in this release',
      },
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /this release does not start: a defect in this release/,
    );
    assert.doesNotMatch(r.stdout, /listening/);
  });
});
