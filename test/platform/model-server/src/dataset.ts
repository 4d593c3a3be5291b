/**
 * Synthetic tabular data set: a customer-churn style problem with five numeric
 * features and three classes. Each class draws every feature from its own
 * normal distribution, so the problem is learnable but not trivially separable.
 */
import type { Rng } from './rng.ts';

export interface FeatureSpec {
  readonly name: string;
  readonly description: string;
  /** Mean of the feature for each class, in CLASS_NAMES order. */
  readonly classMeans: readonly number[];
  /** Standard deviation of the feature inside every class. */
  readonly std: number;
}

export const CLASS_NAMES: readonly string[] = ['retain', 'at_risk', 'churn'];

/** Prior probability of each class, in CLASS_NAMES order. */
export const CLASS_PRIORS: readonly number[] = [0.5, 0.3, 0.2];

export const FEATURES: readonly FeatureSpec[] = [
  {
    name: 'tenure_months',
    description: 'Months since the account was opened',
    classMeans: [36, 22, 10],
    std: 9,
  },
  {
    name: 'monthly_spend',
    description: 'Average monthly spend (currency units)',
    classMeans: [55, 68, 82],
    std: 12,
  },
  {
    name: 'support_tickets',
    description: 'Support tickets per month',
    classMeans: [1.5, 3, 4.5],
    std: 1.1,
  },
  {
    name: 'sessions_per_week',
    description: 'Product sessions per week',
    classMeans: [12, 8, 4],
    std: 3,
  },
  {
    name: 'discount_rate',
    description: 'Share of the bill covered by discounts',
    classMeans: [0.15, 0.09, 0.04],
    std: 0.05,
  },
];

export const FEATURE_NAMES: readonly string[] = FEATURES.map(f => f.name);

export interface Dataset {
  readonly rows: number[][];
  readonly labels: number[];
}

export interface MarginalStats {
  readonly mean: number;
  readonly std: number;
}

/** Draws one class index according to CLASS_PRIORS. */
export function sampleClass(rng: Rng): number {
  const u = rng.next();
  let cumulative = 0;
  for (let c = 0; c < CLASS_PRIORS.length; c++) {
    cumulative += CLASS_PRIORS[c]!;
    if (u < cumulative) return c;
  }
  return CLASS_PRIORS.length - 1;
}

/** Draws one feature row for the given class. */
export function sampleRow(rng: Rng, classIndex: number): number[] {
  return FEATURES.map(f => f.classMeans[classIndex]! + f.std * rng.normal());
}

export function generateDataset(rng: Rng, size: number): Dataset {
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < size; i++) {
    const label = sampleClass(rng);
    labels.push(label);
    rows.push(sampleRow(rng, label));
  }
  return { rows, labels };
}

/**
 * Exact mean and standard deviation of each feature's marginal distribution
 * (a mixture of normals). Used to express distribution shifts in units of the
 * feature's own spread.
 */
export function marginalStats(): MarginalStats[] {
  return FEATURES.map(f => {
    let mean = 0;
    let secondMoment = 0;
    for (let c = 0; c < CLASS_PRIORS.length; c++) {
      const p = CLASS_PRIORS[c]!;
      const mu = f.classMeans[c]!;
      mean += p * mu;
      secondMoment += p * (f.std * f.std + mu * mu);
    }
    return { mean, std: Math.sqrt(secondMoment - mean * mean) };
  });
}
