import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLASS_NAMES, FEATURE_NAMES, marginalStats } from '../src/dataset.ts';
import { predictRow, trainModel } from '../src/model.ts';

/** Stated quality bar for the default model on its held-out set. */
const MIN_HOLDOUT_ACCURACY = 0.88;

describe('model training', () => {
  const model = trainModel();

  it('is deterministic for a given seed', () => {
    const again = trainModel();
    assert.deepEqual(again.weights, model.weights);
    assert.deepEqual(again.bias, model.bias);
    assert.deepEqual(again.featureReference, model.featureReference);
    assert.equal(again.holdoutAccuracy, model.holdoutAccuracy);
  });

  it('depends on the seed', () => {
    const other = trainModel({ seed: 1234 });
    assert.notDeepEqual(other.weights, model.weights);
  });

  it(`reaches at least ${MIN_HOLDOUT_ACCURACY} accuracy on the held-out set`, () => {
    assert.ok(
      model.holdoutAccuracy >= MIN_HOLDOUT_ACCURACY,
      `holdout accuracy ${model.holdoutAccuracy}`,
    );
    for (const seed of [1, 2, 3]) {
      const m = trainModel({ seed });
      assert.ok(
        m.holdoutAccuracy >= MIN_HOLDOUT_ACCURACY,
        `seed ${seed}: holdout accuracy ${m.holdoutAccuracy}`,
      );
    }
  });

  it('has one weight per class and feature and finite parameters', () => {
    assert.equal(model.weights.length, CLASS_NAMES.length);
    for (const row of model.weights) {
      assert.equal(row.length, FEATURE_NAMES.length);
      assert.ok(row.every(Number.isFinite));
    }
    assert.ok(model.bias.every(Number.isFinite));
    assert.ok(
      Number.isFinite(model.finalLoss) && model.finalLoss < 0.5,
      `final loss ${model.finalLoss}`,
    );
  });

  it('predicts probabilities that sum to 1 and an arg-max class', () => {
    const prediction = predictRow(
      model,
      marginalStats().map(m => m.mean),
    );
    const sum = prediction.probabilities.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
    assert.equal(
      prediction.probabilities[prediction.classIndex],
      Math.max(...prediction.probabilities),
    );
  });

  it('separates typical members of each class', () => {
    const retain = predictRow(model, [40, 50, 1, 14, 0.18]);
    const churn = predictRow(model, [6, 90, 5.5, 2, 0.01]);
    assert.equal(CLASS_NAMES[retain.classIndex], 'retain');
    assert.equal(CLASS_NAMES[churn.classIndex], 'churn');
  });

  it('keeps a 10-bin equal-frequency reference per feature', () => {
    assert.equal(model.featureReference.length, FEATURE_NAMES.length);
    for (const ref of model.featureReference) {
      assert.equal(ref.proportions.length, 10);
      for (const p of ref.proportions)
        assert.ok(Math.abs(p - 0.1) < 0.01, `bin share ${p}`);
    }
    const total = model.predictionReference.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-9);
  });
});
