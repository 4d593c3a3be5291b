/** What the model server tests share: the model name, inputs and runtime-specific metric readers. */
import {
  FEATURE_NAMES,
  marginalStats,
  sampleClass,
  sampleRow,
} from '../../src/dataset.ts';
import { createRng } from '../../src/rng.ts';
import type { Runtime } from '../../src/runtime-metrics.ts';
import { sampleValue } from './exposition.ts';
import { scrape, type RunningServer } from './harness.ts';

export const MODEL = 'churn-test';
export const ROW = [30, 60, 1.5, 11, 0.1];

export function rows(seed: number, count: number, shift = 0): number[][] {
  const rng = createRng(seed);
  const stds = marginalStats().map(m => m.std);
  return Array.from({ length: count }, () =>
    sampleRow(rng, sampleClass(rng)).map((v, f) => v + shift * stds[f]!),
  );
}

export const v1Url = (s: RunningServer): string =>
  `${s.url}/v1/models/${MODEL}:predict`;
export const v2Url = (s: RunningServer): string =>
  `${s.url}/v2/models/${MODEL}/infer`;
export const v2Body = (data: number[][]) => ({
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
export async function latencyTotals(
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

export async function failureCount(
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

export const EXPECTED_METRICS: Record<Runtime, readonly string[]> = {
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
