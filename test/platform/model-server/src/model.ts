/**
 * Multinomial logistic (softmax) regression trained by full-batch gradient
 * descent on standardized features. Training is fully deterministic for a
 * given seed: the data, the split and the optimisation order are fixed.
 */
import { CLASS_NAMES, FEATURE_NAMES, generateDataset } from './dataset.ts';
import { buildQuantileReference, type BinnedReference } from './drift.ts';
import { createRng } from './rng.ts';

export interface TrainingOptions {
  readonly seed: number;
  readonly trainSize: number;
  readonly holdoutSize: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly l2: number;
  /** Number of equal-frequency bins kept per feature as the drift reference. */
  readonly referenceBins: number;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  seed: 42,
  trainSize: 3000,
  holdoutSize: 1000,
  epochs: 400,
  learningRate: 0.5,
  l2: 1e-3,
  referenceBins: 10,
};

export interface TrainedModel {
  readonly featureNames: readonly string[];
  readonly classNames: readonly string[];
  /** weights[c][f] applied to the standardized feature f for class c. */
  readonly weights: readonly (readonly number[])[];
  readonly bias: readonly number[];
  readonly featureMean: readonly number[];
  readonly featureStd: readonly number[];
  /** Training-data reference per feature, for input drift. */
  readonly featureReference: readonly BinnedReference[];
  /** Share of each predicted class on the training data, for prediction drift. */
  readonly predictionReference: readonly number[];
  readonly trainAccuracy: number;
  readonly holdoutAccuracy: number;
  readonly finalLoss: number;
  readonly seed: number;
}

export interface Prediction {
  readonly classIndex: number;
  readonly probabilities: number[];
}

export function trainModel(
  overrides: Partial<TrainingOptions> = {},
): TrainedModel {
  const options: TrainingOptions = { ...DEFAULT_TRAINING, ...overrides };
  const rng = createRng(options.seed);
  const train = generateDataset(rng, options.trainSize);
  const holdout = generateDataset(rng, options.holdoutSize);
  const featureCount = FEATURE_NAMES.length;
  const classCount = CLASS_NAMES.length;

  const featureMean = new Array<number>(featureCount).fill(0);
  const featureStd = new Array<number>(featureCount).fill(0);
  for (const row of train.rows)
    row.forEach((v, f) => (featureMean[f]! += v / train.rows.length));
  for (const row of train.rows)
    row.forEach(
      (v, f) =>
        (featureStd[f]! += (v - featureMean[f]!) ** 2 / train.rows.length),
    );
  for (let f = 0; f < featureCount; f++)
    featureStd[f] = Math.sqrt(featureStd[f]!) || 1;

  const x = train.rows.map(row =>
    row.map((v, f) => (v - featureMean[f]!) / featureStd[f]!),
  );
  const weights = Array.from({ length: classCount }, () =>
    new Array<number>(featureCount).fill(0),
  );
  const bias = new Array<number>(classCount).fill(0);
  const n = x.length;
  let finalLoss = 0;

  const gradW = Array.from(
    { length: classCount },
    () => new Float64Array(featureCount),
  );
  const gradB = new Float64Array(classCount);
  const scores = new Float64Array(classCount);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    gradB.fill(0);
    for (const g of gradW) g.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const label = train.labels[i]!;
      // Numerically stable softmax written out to avoid per-sample allocations.
      let max = -Infinity;
      for (let c = 0; c < classCount; c++) {
        let s = bias[c]!;
        const w = weights[c]!;
        for (let f = 0; f < featureCount; f++) s += w[f]! * xi[f]!;
        scores[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < classCount; c++) {
        scores[c] = Math.exp(scores[c]! - max);
        sum += scores[c]!;
      }
      loss -= Math.log(Math.max(scores[label]! / sum, 1e-12));
      for (let c = 0; c < classCount; c++) {
        const err = scores[c]! / sum - (c === label ? 1 : 0);
        gradB[c]! += err;
        const g = gradW[c]!;
        for (let f = 0; f < featureCount; f++) g[f]! += err * xi[f]!;
      }
    }
    for (let c = 0; c < classCount; c++) {
      bias[c]! -= (options.learningRate * gradB[c]!) / n;
      const w = weights[c]!;
      const g = gradW[c]!;
      for (let f = 0; f < featureCount; f++)
        w[f] = w[f]! - options.learningRate * (g[f]! / n + options.l2 * w[f]!);
    }
    finalLoss = loss / n;
  }

  const partial = { weights, bias, featureMean, featureStd };
  const trainPredictions = train.rows.map(
    row => predictRow(partial, row).classIndex,
  );
  const holdoutPredictions = holdout.rows.map(
    row => predictRow(partial, row).classIndex,
  );
  const predictedCounts = new Array<number>(classCount).fill(0);
  for (const c of trainPredictions) predictedCounts[c]! += 1;
  const predictionReference = predictedCounts.map(
    count => count / trainPredictions.length,
  );

  return {
    featureNames: FEATURE_NAMES,
    classNames: CLASS_NAMES,
    weights,
    bias,
    featureMean,
    featureStd,
    featureReference: FEATURE_NAMES.map((_, f) =>
      buildQuantileReference(
        train.rows.map(row => row[f]!),
        options.referenceBins,
      ),
    ),
    predictionReference,
    trainAccuracy: accuracy(trainPredictions, train.labels),
    holdoutAccuracy: accuracy(holdoutPredictions, holdout.labels),
    finalLoss,
    seed: options.seed,
  };
}

type Parameters = Pick<
  TrainedModel,
  'weights' | 'bias' | 'featureMean' | 'featureStd'
>;

/** Class probabilities and arg-max class for one raw (unstandardized) row. */
export function predictRow(
  model: Parameters,
  row: readonly number[],
): Prediction {
  const z = row.map(
    (v, f) => (v - model.featureMean[f]!) / model.featureStd[f]!,
  );
  const probabilities = softmax(logits(model.weights, model.bias, z));
  let classIndex = 0;
  for (let c = 1; c < probabilities.length; c++) {
    if (probabilities[c]! > probabilities[classIndex]!) classIndex = c;
  }
  return { classIndex, probabilities };
}

function logits(
  weights: Parameters['weights'],
  bias: readonly number[],
  z: readonly number[],
): number[] {
  return weights.map((w, c) =>
    w.reduce((sum, wf, f) => sum + wf * z[f]!, bias[c]!),
  );
}

function softmax(values: readonly number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map(v => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map(e => e / sum);
}

function accuracy(
  predicted: readonly number[],
  labels: readonly number[],
): number {
  let correct = 0;
  predicted.forEach((p, i) => {
    if (p === labels[i]) correct += 1;
  });
  return correct / labels.length;
}
