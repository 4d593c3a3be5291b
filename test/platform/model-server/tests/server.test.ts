import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CLASS_NAMES,
  FEATURE_NAMES,
  marginalStats,
  sampleClass,
  sampleRow,
} from '../src/dataset.ts';
import { createRng } from '../src/rng.ts';
import { RUNTIMES, type Runtime } from '../src/runtime-metrics.ts';
import { sampleValue } from './support/exposition.ts';
import {
  request,
  scrape,
  startServer,
  type RunningServer,
} from './support/harness.ts';

const MODEL = 'churn-test';
const ROW = [30, 60, 1.5, 11, 0.1];

function rows(seed: number, count: number, shift = 0): number[][] {
  const rng = createRng(seed);
  const stds = marginalStats().map(m => m.std);
  return Array.from({ length: count }, () =>
    sampleRow(rng, sampleClass(rng)).map((v, f) => v + shift * stds[f]!),
  );
}

const v1Url = (s: RunningServer): string =>
  `${s.url}/v1/models/${MODEL}:predict`;
const v2Url = (s: RunningServer): string => `${s.url}/v2/models/${MODEL}/infer`;
const v2Body = (data: number[][]) => ({
  inputs: [
    {
      name: 'input-0',
      shape: [data.length, FEATURE_NAMES.length],
      datatype: 'FP32',
      data: data.flat(),
    },
  ],
});

/** Runtime-specific view of "how many inference requests were timed, and for how long in total". */
async function latencyTotals(
  s: RunningServer,
  runtime: Runtime,
): Promise<{ count: number; seconds: number }> {
  const m = await scrape(s.url);
  switch (runtime) {
    case 'kserve':
      return {
        count:
          sampleValue(m, 'request_predict_seconds_count', {
            model_name: MODEL,
          }) ?? 0,
        seconds:
          sampleValue(m, 'request_predict_seconds_sum', {
            model_name: MODEL,
          }) ?? 0,
      };
    case 'triton':
      return {
        count:
          sampleValue(m, 'nv_inference_exec_count', {
            model: MODEL,
            version: '1',
          }) ?? 0,
        seconds:
          (sampleValue(m, 'nv_inference_compute_infer_duration_us', {
            model: MODEL,
            version: '1',
          }) ?? 0) / 1e6,
      };
    case 'generic': {
      let count = 0;
      let seconds = 0;
      for (const fam of m.values()) {
        for (const sample of fam.samples) {
          if (sample.name === 'http_request_duration_seconds_count')
            count += sample.value;
          if (sample.name === 'http_request_duration_seconds_sum')
            seconds += sample.value;
        }
      }
      return { count, seconds };
    }
  }
}

async function failureCount(
  s: RunningServer,
  runtime: Runtime,
): Promise<number> {
  const m = await scrape(s.url);
  switch (runtime) {
    case 'kserve':
      return (
        sampleValue(m, 'modelops_requests_total', {
          model_name: MODEL,
          code: '500',
        }) ?? 0
      );
    case 'triton':
      return (
        sampleValue(m, 'nv_inference_request_failure', {
          model: MODEL,
          reason: 'BACKEND',
          version: '1',
        }) ?? 0
      );
    case 'generic':
      return (
        sampleValue(m, 'http_requests_total', {
          code: '500',
          method: 'POST',
        }) ?? 0
      );
  }
}

const EXPECTED_METRICS: Record<Runtime, readonly string[]> = {
  kserve: [
    'request_preprocess_seconds',
    'request_predict_seconds',
    'request_postprocess_seconds',
    'modelops_requests_total',
  ],
  triton: [
    'nv_inference_request_success',
    'nv_inference_request_failure',
    'nv_inference_count',
    'nv_inference_exec_count',
    'nv_inference_request_duration_us',
    'nv_inference_queue_duration_us',
    'nv_inference_compute_input_duration_us',
    'nv_inference_compute_infer_duration_us',
    'nv_inference_compute_output_duration_us',
  ],
  generic: ['http_request_duration_seconds', 'http_requests_total'],
};

for (const runtime of RUNTIMES) {
  describe(`model server (${runtime})`, () => {
    let s: RunningServer;
    before(async () => {
      s = await startServer({ runtime, modelName: MODEL, driftWindow: 500 });
    });
    after(async () => {
      await s.close();
    });

    it('reports health and readiness', async () => {
      assert.equal((await request(`${s.url}/healthz`)).status, 200);
      assert.equal((await request(`${s.url}/v2/health/live`)).status, 200);
      assert.deepEqual((await request(`${s.url}/v2/health/ready`)).body, {
        ready: true,
      });
      assert.deepEqual((await request(`${s.url}/v1/models/${MODEL}`)).body, {
        name: MODEL,
        ready: true,
      });
      assert.deepEqual(
        (await request(`${s.url}/v2/models/${MODEL}/ready`)).body,
        { name: MODEL, ready: true },
      );
      assert.equal(
        (await request(`${s.url}/v2/models/${MODEL}/versions/1/ready`)).status,
        200,
      );
      const metadata = await request(`${s.url}/v2/models/${MODEL}`);
      assert.equal(metadata.status, 200);
      assert.deepEqual((metadata.body as { inputs: unknown }).inputs, [
        {
          name: 'input-0',
          datatype: 'FP32',
          shape: [-1, FEATURE_NAMES.length],
        },
      ]);
    });

    it('answers KServe v1 predict with one class label per instance', async () => {
      const named = Object.fromEntries(
        FEATURE_NAMES.map((f, i) => [f, ROW[i]]),
      );
      const res = await request(v1Url(s), {
        body: { instances: [ROW, named, [6, 90, 5.5, 2, 0.01]] },
      });
      assert.equal(res.status, 200);
      const { predictions } = res.body as { predictions: string[] };
      assert.equal(predictions.length, 3);
      assert.equal(
        predictions[0],
        predictions[1],
        'array and object instances give the same prediction',
      );
      assert.equal(predictions[2], 'churn');
      for (const p of predictions) assert.ok(CLASS_NAMES.includes(p));
    });

    it('answers Open Inference Protocol v2 infer with class and probability tensors', async () => {
      const data = rows(11, 4);
      const body = { id: 'req-1', ...v2Body(data) };
      const res = await request(v2Url(s), { body });
      assert.equal(res.status, 200);
      const out = res.body as {
        model_name: string;
        model_version: string;
        id: string;
        outputs: {
          name: string;
          shape: number[];
          datatype: string;
          data: number[];
        }[];
      };
      assert.equal(out.model_name, MODEL);
      assert.equal(out.model_version, '1');
      assert.equal(out.id, 'req-1');
      const [cls, probs] = out.outputs;
      assert.deepEqual(
        { ...cls, data: undefined },
        {
          name: 'predicted_class',
          shape: [4],
          datatype: 'INT64',
          data: undefined,
        },
      );
      assert.deepEqual(
        { ...probs, data: undefined },
        {
          name: 'probabilities',
          shape: [4, 3],
          datatype: 'FP32',
          data: undefined,
        },
      );
      for (let r = 0; r < 4; r++) {
        const p = probs!.data.slice(r * 3, r * 3 + 3);
        assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        assert.equal(cls!.data[r], p.indexOf(Math.max(...p)));
      }
      // Nested data and output selection are accepted too.
      const nested = await request(v2Url(s), {
        body: {
          inputs: [{ ...v2Body(data).inputs[0], data }],
          outputs: [{ name: 'predicted_class' }],
        },
      });
      assert.equal(nested.status, 200);
      const nestedOut = (
        nested.body as { outputs: { name: string; data: number[] }[] }
      ).outputs;
      assert.deepEqual(
        nestedOut.map(o => o.name),
        ['predicted_class'],
      );
      assert.deepEqual(nestedOut[0]!.data, cls!.data);
    });

    it('exposes valid metrics whose counts grow with requests', async () => {
      const families = await scrape(s.url);
      for (const name of [
        ...EXPECTED_METRICS[runtime],
        'modelops_predictions_total',
        'modelops_drift_window_size',
      ]) {
        assert.ok(families.has(name), `missing metric family ${name}`);
        assert.ok(families.get(name)!.help, `missing HELP for ${name}`);
      }
      for (const name of ['modelops_feature_psi', 'modelops_prediction_psi'])
        assert.equal(families.get(name)?.type, 'gauge');
      for (const name of EXPECTED_METRICS[runtime]) {
        const type = families.get(name)!.type;
        assert.equal(
          type,
          name.endsWith('_seconds') ? 'histogram' : 'counter',
          `${name} type`,
        );
      }

      const before = await latencyTotals(s, runtime);
      const predictionsBefore =
        sampleValue(families, 'modelops_predictions_total', {
          model_name: MODEL,
          class: 'churn',
        }) ?? 0;
      for (let i = 0; i < 3; i++)
        assert.equal(
          (
            await request(v1Url(s), {
              body: { instances: [[6, 90, 5.5, 2, 0.01]] },
            })
          ).status,
          200,
        );
      const after = await latencyTotals(s, runtime);
      assert.equal(after.count - before.count, 3);
      assert.ok(after.seconds > before.seconds);
      const predictionsAfter = sampleValue(
        await scrape(s.url),
        'modelops_predictions_total',
        { model_name: MODEL, class: 'churn' },
      );
      assert.equal(predictionsAfter, predictionsBefore + 3);
    });

    it('rejects bad input with 400/413 and a JSON error, and keeps serving', async () => {
      const cases: [
        string,
        { body?: unknown; rawBody?: string; method?: string },
        number,
      ][] = [
        ['malformed JSON', { rawBody: '{"instances": [1, 2' }, 400],
        ['empty body', { rawBody: '', method: 'POST' }, 400],
        ['not an object', { body: [1, 2, 3] }, 400],
        ['no instances', { body: { rows: [ROW] } }, 400],
        ['empty instances', { body: { instances: [] } }, 400],
        ['too few features', { body: { instances: [[1, 2, 3]] } }, 400],
        ['too many features', { body: { instances: [[...ROW, 1]] } }, 400],
        [
          'non-numeric value',
          { body: { instances: [[30, '60', 1, 11, 0.1]] } },
          400,
        ],
        ['null value', { body: { instances: [[30, null, 1, 11, 0.1]] } }, 400],
        [
          'unknown feature',
          {
            body: {
              instances: [
                {
                  ...Object.fromEntries(FEATURE_NAMES.map(f => [f, 1])),
                  extra: 1,
                },
              ],
            },
          },
          400,
        ],
        [
          'missing feature',
          { body: { instances: [{ tenure_months: 1 }] } },
          400,
        ],
        ['scalar instance', { body: { instances: [5] } }, 400],
        [
          'body over 1 MiB',
          {
            rawBody: JSON.stringify({
              instances: [ROW],
              pad: 'x'.repeat(1024 * 1024),
            }),
          },
          413,
        ],
      ];
      for (const [what, init, status] of cases) {
        const res = await request(v1Url(s), init);
        assert.equal(res.status, status, what);
        assert.equal(
          typeof (res.body as { error?: unknown }).error,
          'string',
          `${what}: JSON error body`,
        );
      }

      const v2Cases: [string, unknown][] = [
        ['no inputs', { outputs: [] }],
        [
          'two inputs',
          { inputs: [v2Body([ROW]).inputs[0], v2Body([ROW]).inputs[0]] },
        ],
        [
          'wrong datatype',
          { inputs: [{ ...v2Body([ROW]).inputs[0], datatype: 'BYTES' }] },
        ],
        [
          'wrong width',
          {
            inputs: [
              {
                name: 'input-0',
                shape: [1, 4],
                datatype: 'FP32',
                data: [1, 2, 3, 4],
              },
            ],
          },
        ],
        [
          '1-D shape',
          {
            inputs: [
              { name: 'input-0', shape: [5], datatype: 'FP32', data: ROW },
            ],
          },
        ],
        [
          'shape/data mismatch',
          {
            inputs: [
              { name: 'input-0', shape: [2, 5], datatype: 'FP32', data: ROW },
            ],
          },
        ],
        [
          'non-numeric data',
          {
            inputs: [
              {
                name: 'input-0',
                shape: [1, 5],
                datatype: 'FP32',
                data: [1, 2, 'x', 4, 5],
              },
            ],
          },
        ],
        ['unknown output', { ...v2Body([ROW]), outputs: [{ name: 'nope' }] }],
        [
          'missing name',
          { inputs: [{ shape: [1, 5], datatype: 'FP32', data: ROW }] },
        ],
      ];
      for (const [what, body] of v2Cases) {
        const res = await request(v2Url(s), { body });
        assert.equal(res.status, 400, what);
        assert.equal(
          typeof (res.body as { error?: unknown }).error,
          'string',
          `${what}: JSON error body`,
        );
      }

      assert.equal(
        (
          await request(`${s.url}/v1/models/other:predict`, {
            body: { instances: [ROW] },
          })
        ).status,
        404,
      );
      assert.equal(
        (
          await request(`${s.url}/v2/models/${MODEL}/versions/9/infer`, {
            body: v2Body([ROW]),
          })
        ).status,
        404,
      );
      assert.equal((await request(`${s.url}/nowhere`)).status, 404);
      const wrongMethod = await request(v1Url(s), { method: 'GET' });
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get('allow'), 'POST');

      assert.equal(
        (await request(v1Url(s), { body: { instances: [ROW] } })).status,
        200,
      );
      assert.equal(
        (await request(v2Url(s), { body: v2Body([ROW]) })).status,
        200,
      );
      await scrape(s.url);
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

      await send(rows(2024, 500));
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

      await send(rows(2025, 500, 1.5));
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
