/** The model server per runtime: injected faults and drift (PSI); and its lifecycle (shutdown, queueing). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FEATURE_NAMES } from '../src/dataset.ts';
import { psi } from '../src/drift.ts';
import { RUNTIMES } from '../src/runtime-metrics.ts';
import { sampleValue } from './support/exposition.ts';
import {
  failureCount,
  latencyTotals,
  MODEL,
  ROW,
  rows,
  v1Url,
  v2Body,
  v2Url,
} from './support/fixtures.ts';
import {
  request,
  scrape,
  startServer,
  type RunningServer,
} from './support/harness.ts';

for (const runtime of RUNTIMES) {
  describe(`model server (${runtime})`, () => {
    let s: RunningServer;
    before(async () => {
      s = await startServer({ runtime, modelName: MODEL, driftWindow: 500 });
    });
    after(async () => {
      await s.close();
    });

    it('injects latency and errors, and clears them', async () => {
      assert.deepEqual((await request(`${s.url}/admin/faults`)).body, {
        latencyMs: 0,
        errorRate: 0,
      });
      assert.equal(
        (await request(`${s.url}/admin/faults`, { body: { latencyMs: -1 } }))
          .status,
        400,
      );
      assert.equal(
        (await request(`${s.url}/admin/faults`, { body: { errorRate: 2 } }))
          .status,
        400,
      );
      assert.equal(
        (await request(`${s.url}/admin/faults`, { body: { latency: 5 } }))
          .status,
        400,
      );
      assert.equal(
        (await request(`${s.url}/admin/faults`, { rawBody: '{' })).status,
        400,
      );

      // Latency
      assert.deepEqual(
        (await request(`${s.url}/admin/faults`, { body: { latencyMs: 150 } }))
          .body,
        { latencyMs: 150, errorRate: 0 },
      );
      const before = await latencyTotals(s, runtime);
      const started = performance.now();
      assert.equal(
        (await request(v1Url(s), { body: { instances: [ROW] } })).status,
        200,
      );
      assert.ok(
        performance.now() - started >= 145,
        'request took the injected latency',
      );
      const after = await latencyTotals(s, runtime);
      assert.ok(
        after.seconds - before.seconds >= 0.145,
        `latency metric grew by ${after.seconds - before.seconds}s`,
      );

      // Errors (merged with the latency setting)
      assert.deepEqual(
        (
          await request(`${s.url}/admin/faults`, {
            body: { errorRate: 1, latencyMs: 0 },
          })
        ).body,
        { latencyMs: 0, errorRate: 1 },
      );
      const failuresBefore = await failureCount(s, runtime);
      for (let i = 0; i < 3; i++) {
        const res = await request(v1Url(s), { body: { instances: [ROW] } });
        assert.equal(res.status, 500);
        assert.match((res.body as { error: string }).error, /Injected fault/);
      }
      assert.equal(
        (await request(v2Url(s), { body: v2Body([ROW]) })).status,
        500,
      );
      assert.equal((await failureCount(s, runtime)) - failuresBefore, 4);

      // Clear
      assert.deepEqual(
        (await request(`${s.url}/admin/faults`, { method: 'DELETE' })).body,
        { latencyMs: 0, errorRate: 0 },
      );
      const failuresAfterClear = await failureCount(s, runtime);
      for (let i = 0; i < 5; i++)
        assert.equal(
          (await request(v1Url(s), { body: { instances: [ROW] } })).status,
          200,
        );
      assert.equal(await failureCount(s, runtime), failuresAfterClear);
    });

    it('reports PSI near 0 for in-distribution inputs and above 0.2 after a 1.5 sd shift', async () => {
      const psiOf = async () => {
        const m = await scrape(s.url);
        return {
          window: sampleValue(m, 'modelops_drift_window_size', {
            model_name: MODEL,
          }),
          features: FEATURE_NAMES.map(feature =>
            sampleValue(m, 'modelops_feature_psi', {
              model_name: MODEL,
              feature,
            }),
          ),
          prediction: sampleValue(m, 'modelops_prediction_psi', {
            model_name: MODEL,
          }),
        };
      };
      await request(`${s.url}/admin/drift`, { method: 'DELETE' });
      const empty = await psiOf();
      assert.equal(empty.window, 0);
      assert.deepEqual(
        empty.features,
        [undefined, undefined, undefined, undefined, undefined],
        'no PSI series for an empty window',
      );

      const send = async (data: number[][]) => {
        // v1 for kserve/generic, v2 for triton, in batches of 100.
        for (let i = 0; i < data.length; i += 100) {
          const batch = data.slice(i, i + 100);
          const res =
            runtime === 'triton'
              ? await request(v2Url(s), { body: v2Body(batch) })
              : await request(v1Url(s), { body: { instances: batch } });
          assert.equal(res.status, 200);
        }
      };

      /** Each feature's cumulative input-histogram buckets, by upper bound. */
      const buckets = async () => {
        const m = await scrape(s.url);
        const family = m.get('modelops_feature_value');
        assert.equal(family?.type, 'histogram');
        return FEATURE_NAMES.map(feature =>
          family!.samples
            .filter(
              x =>
                x.name === 'modelops_feature_value_bucket' &&
                x.labels.feature === feature,
            )
            .map(x => x.value),
        );
      };
      /** Shares per bucket of what arrived between two readings. */
      const shares = (before: number[][], after: number[][]) =>
        after.map((cumulative, f) => {
          const delta = cumulative.map((c, i) => c - before[f]![i]!);
          const counts = delta.map((c, i) => (i === 0 ? c : c - delta[i - 1]!));
          const total = delta[delta.length - 1]!;
          return counts.map(c => c / total);
        });

      const beforeStable = await buckets();
      await send(rows(2024, 500));
      const afterStable = await buckets();
      const stable = await psiOf();
      assert.equal(stable.window, 500);
      for (const value of stable.features)
        assert.ok(
          value !== undefined && value < 0.1,
          `in-distribution PSI ${value}`,
        );
      assert.ok(
        stable.prediction !== undefined && stable.prediction < 0.1,
        `prediction PSI ${stable.prediction}`,
      );

      // The input histograms count exactly the rows sent, bucketed at the
      // training quantiles: PSI computed from them (as a backend does for a
      // server without drift gauges) agrees with the server's own gauges.
      const stableShares = shares(beforeStable, afterStable);
      for (const [f, share] of stableShares.entries()) {
        assert.equal(
          afterStable[f]!.at(-1)! - beforeStable[f]!.at(-1)!,
          500,
          'every input counted once',
        );
        assert.ok(share.length >= 5, `${share.length} buckets`);
        const uniform = share.map(() => 1 / share.length);
        assert.ok(
          psi(uniform, share) < 0.1,
          `histogram PSI ${psi(uniform, share)}`,
        );
      }

      await send(rows(2025, 500, 1.5));
      const afterShifted = await buckets();
      for (const share of shares(afterStable, afterShifted)) {
        const uniform = share.map(() => 1 / share.length);
        assert.ok(
          psi(uniform, share) > 0.2,
          `shifted histogram PSI ${psi(uniform, share)}`,
        );
      }
      const shifted = await psiOf();
      for (const value of shifted.features)
        assert.ok(value !== undefined && value > 0.2, `shifted PSI ${value}`);
      const report = (await request(`${s.url}/admin/drift`)).body as {
        featurePsi: Record<string, number>;
      };
      assert.ok(Object.values(report.featurePsi).every(v => v > 0.2));
    });
  });
}

describe('model server lifecycle', () => {
  it('finishes in-flight requests on close and then refuses connections', async () => {
    const s = await startServer({ runtime: 'generic', modelName: MODEL });
    await request(`${s.url}/admin/faults`, { body: { latencyMs: 300 } });
    const inFlight = request(v1Url(s), { body: { instances: [ROW] } });
    await new Promise(resolve => setTimeout(resolve, 50));
    const closed = s.close();
    assert.equal((await inFlight).status, 200);
    await closed;
    await assert.rejects(fetch(`${s.url}/healthz`));
  });

  it('queues requests beyond the concurrency limit and reports queue time (triton)', async () => {
    const s = await startServer({
      runtime: 'triton',
      modelName: MODEL,
      maxConcurrency: 1,
      maxQueue: 1,
    });
    try {
      await request(`${s.url}/admin/faults`, { body: { latencyMs: 200 } });
      const results = await Promise.all(
        [0, 1, 2].map(() => request(v2Url(s), { body: v2Body([ROW]) })),
      );
      assert.deepEqual(results.map(r => r.status).sort(), [200, 200, 503]);
      const m = await scrape(s.url);
      assert.ok(
        (sampleValue(m, 'nv_inference_queue_duration_us', { model: MODEL }) ??
          0) >= 150_000,
      );
      assert.equal(
        sampleValue(m, 'nv_inference_request_failure', {
          model: MODEL,
          reason: 'REJECTED',
        }),
        1,
      );
    } finally {
      await s.close();
    }
  });
});
