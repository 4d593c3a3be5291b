import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { marginalStats, sampleClass, sampleRow } from '../src/dataset.ts';
import {
  binIndex,
  buildQuantileReference,
  DriftMonitor,
  psi,
  PSI_EPSILON,
  SlidingHistogram,
} from '../src/drift.ts';
import { trainModel } from '../src/model.ts';
import { createRng } from '../src/rng.ts';

describe('PSI', () => {
  it('is 0 for identical distributions and grows with the difference', () => {
    const uniform = new Array<number>(10).fill(0.1);
    assert.equal(psi(uniform, uniform), 0);
    const slightly = [0.12, 0.08, ...new Array<number>(8).fill(0.1)];
    const very = [0.5, 0.5, ...new Array<number>(8).fill(0)];
    assert.ok(psi(uniform, slightly) > 0 && psi(uniform, slightly) < 0.1);
    assert.ok(psi(uniform, very) > psi(uniform, slightly));
  });

  it('stays finite when bins are empty (epsilon smoothing)', () => {
    const value = psi([0.5, 0.5, 0], [0, 0.5, 0.5]);
    assert.ok(Number.isFinite(value));
    const expected = 2 * (0.5 - PSI_EPSILON) * Math.log(0.5 / PSI_EPSILON);
    assert.ok(Math.abs(value - expected) < 1e-12);
  });

  it('bins values at the quantile edges', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const ref = buildQuantileReference(values, 10);
    assert.equal(ref.edges.length, 9);
    assert.deepEqual(
      ref.proportions.map(p => Math.round(p * 1000) / 1000),
      new Array<number>(10).fill(0.1),
    );
    assert.equal(binIndex(ref.edges, -1e9), 0);
    assert.equal(binIndex(ref.edges, 1e9), 9);
    assert.equal(binIndex(ref.edges, ref.edges[0]!), 0);
  });

  it('collapses duplicate cut points when values tie', () => {
    const ref = buildQuantileReference([1, 1, 1, 1, 1, 1, 1, 1, 2, 3], 10);
    for (let i = 1; i < ref.edges.length; i++)
      assert.ok(ref.edges[i]! > ref.edges[i - 1]!);
    assert.ok(Math.abs(ref.proportions.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });
});

describe('sliding window', () => {
  it('forgets the oldest observations', () => {
    const window = new SlidingHistogram(3, [2]);
    for (const bin of [0, 0, 0, 1, 1]) window.add([bin]);
    assert.equal(window.size, 3);
    assert.deepEqual(window.proportions(0), [1 / 3, 2 / 3]);
    window.clear();
    assert.deepEqual(window.proportions(0), [0, 0]);
  });
});

describe('drift monitor', () => {
  const model = trainModel();
  const stds = marginalStats().map(m => m.std);

  const feed = (
    monitor: DriftMonitor,
    seed: number,
    count: number,
    shift: number,
  ): void => {
    const rng = createRng(seed);
    for (let i = 0; i < count; i++) {
      monitor.recordInput(
        sampleRow(rng, sampleClass(rng)).map((v, f) => v + shift * stds[f]!),
      );
    }
  };

  it('reports nothing until the window has enough samples', () => {
    const monitor = new DriftMonitor(
      model.featureReference,
      model.predictionReference,
      500,
    );
    feed(monitor, 1, 10, 0);
    assert.equal(monitor.snapshot().featurePsi, undefined);
    assert.equal(monitor.snapshot().predictionPsi, undefined);
  });

  it('stays near 0 for in-distribution data', () => {
    for (const seed of [101, 202, 303]) {
      const monitor = new DriftMonitor(
        model.featureReference,
        model.predictionReference,
        500,
      );
      feed(monitor, seed, 800, 0);
      const { featurePsi, windowSize } = monitor.snapshot();
      assert.equal(windowSize, 500);
      for (const value of featurePsi ?? assert.fail('no PSI'))
        assert.ok(value < 0.1, `seed ${seed}: PSI ${value}`);
    }
  });

  it('rises above 0.2 on every feature after a 1.5 standard deviation shift', () => {
    const monitor = new DriftMonitor(
      model.featureReference,
      model.predictionReference,
      500,
    );
    feed(monitor, 404, 500, 1.5);
    for (const value of monitor.snapshot().featurePsi ?? assert.fail('no PSI'))
      assert.ok(value > 0.2, `PSI ${value}`);
  });
});
