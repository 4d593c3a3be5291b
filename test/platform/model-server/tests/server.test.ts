/** The model server per runtime: health, KServe v1 and v2 inference, metrics, bad input. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLASS_NAMES, FEATURE_NAMES } from '../src/dataset.ts';
import { RUNTIMES } from '../src/runtime-metrics.ts';
import { sampleValue } from './support/exposition.ts';
import {
  EXPECTED_METRICS,
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
  });
}
