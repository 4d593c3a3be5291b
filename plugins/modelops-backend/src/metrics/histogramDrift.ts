/**
 * Drift of a service that exports per-feature input histograms but no drift
 * gauges: PSI per feature of the current window against the reference
 * window, the first hours after the running revision was deployed (from the
 * deploy history), ending no later than the current window starts.
 *
 * The reference distribution is read from Prometheus once and kept in the
 * database: a complete one (the window spans the configured hours) for good,
 * one still growing for REFERENCE_REFRESH_MS.
 */
import { LabelMatcher } from '@modelops/plugin-modelops-common';
import { DeploymentStore } from '../database/DeploymentStore';
import {
  DriftReference,
  driftReferenceKey,
  DriftReferenceStore,
} from '../database/DriftReferenceStore';
import { Outcome } from './evaluate';
import { ModelOpsMetricsSource } from '@modelops/plugin-modelops-node';
import { InstantSample } from './PrometheusClient';
import { histogramDrift } from './psi';
import { durationSeconds, renderQuery } from './queries';

/** How long a reference whose window is still growing is used before it is read again. */
export const REFERENCE_REFRESH_MS = 10 * 60 * 1000;

export interface DriftReferenceOptions {
  source: Pick<ModelOpsMetricsSource, 'instant'>;
  store: Pick<DeploymentStore, 'rolloutOf'>;
  references: DriftReferenceStore;
  /** The `featureHistogram` template of the service's query set. */
  template: string;
  matchers: LabelMatcher[];
  by: string[];
  /** The current window, e.g. `5m`. */
  window: string;
  referenceHours: number;
  entityRef: string;
  environment: string;
  /** The revision running in the environment, from the cluster. */
  revision: number | undefined;
  /** Evaluation time in ms since the epoch (default now). */
  now?: number;
}

/** A stored reference still serves at `now`: it ends before the current window, and it is final or recent. */
export function referenceServes(
  reference: DriftReference | undefined,
  window: string,
  now: number,
): reference is DriftReference {
  return (
    !!reference &&
    reference.windowEnd <= now - durationSeconds(window) * 1000 &&
    (reference.complete || now - reference.computedAt < REFERENCE_REFRESH_MS)
  );
}

/**
 * The reference distribution of the running revision: the stored one where
 * it still serves (`stored`, when the caller read it already; else read
 * here), otherwise read from Prometheus and stored.
 */
export async function driftReference(
  options: DriftReferenceOptions,
  stored?: DriftReference | null,
): Promise<DriftReference | { error: string }> {
  const { source, template, matchers, by, window, environment } = options;
  const { revision, referenceHours: hours, entityRef } = options;
  const now = options.now ?? Date.now();
  if (!revision)
    return {
      error: `input histograms are exported, but no running revision in ${environment} anchors the drift reference window`,
    };
  const key = { entityRef, environment, revision };
  const kept =
    stored === undefined
      ? [...(await options.references.get([key])).values()][0]
      : stored ?? undefined;
  if (referenceServes(kept, window, now)) return kept;

  const rollout = await options.store.rolloutOf(key);
  if (!rollout)
    return {
      error: `input histograms are exported, but revision ${revision} in ${environment} was not deployed through ModelOps, so no deploy time anchors the drift reference window`,
    };
  const deployedAt = Date.parse(rollout.createdAt);
  const windowMs = durationSeconds(window) * 1000;
  const full = deployedAt + hours * 3_600_000;
  const end = Math.min(full, now - windowMs);
  const span = Math.floor((end - deployedAt) / 1000);
  if (span * 1000 < windowMs)
    return {
      error: `the drift reference window (the first ${hours} h after revision ${revision} was deployed at ${new Date(
        deployedAt,
      ).toISOString()}) does not hold ${window} of inputs yet`,
    };
  const windowEnd = deployedAt + span * 1000;
  const histograms = await source.instant(
    renderQuery(template, { matchers, window: `${span}s`, by }),
    windowEnd / 1000,
  );
  const reference: DriftReference = {
    ...key,
    windowStart: deployedAt,
    windowEnd,
    complete: windowEnd >= full - 1000,
    histograms: histograms.map(h => ({
      metric: { feature: h.metric.feature ?? '', le: h.metric.le ?? '' },
      value: h.value,
    })),
    computedAt: now,
  };
  // Only a reference with inputs is worth keeping.
  if (reference.histograms.length) await options.references.put(reference);
  return reference;
}

/** PSI per feature of `current` against the reference, or why there is none. */
export function driftAgainst(
  current: readonly InstantSample[],
  reference: DriftReference,
  window: string,
): Outcome {
  const drift = histogramDrift(current, reference.histograms);
  if (!drift.samples.length)
    return {
      error: `no feature has inputs both in the last ${window} and in the reference window after revision ${reference.revision} was deployed`,
    };
  const hoursUsed =
    Math.round((reference.windowEnd - reference.windowStart) / 360_000) / 10;
  return {
    samples: drift.samples,
    note: `PSI computed from the input histograms against the ${hoursUsed} h after revision ${
      reference.revision
    } was deployed${
      drift.skipped.length
        ? `; left out (bucketed differently or absent in one window): ${drift.skipped.join(
            ', ',
          )}`
        : ''
    }`,
  };
}

/** PSI samples by feature, why not, or undefined when the service exports no input histograms. */
export async function driftFromHistograms(
  options: DriftReferenceOptions,
): Promise<Outcome | undefined> {
  const { source, template, matchers, by, window } = options;
  const now = options.now ?? Date.now();
  try {
    const current = await source.instant(
      renderQuery(template, { matchers, window, by }),
      now / 1000,
    );
    if (!current.length) return undefined;
    const reference = await driftReference(options);
    if ('error' in reference) return reference;
    return driftAgainst(current, reference, window);
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * The references of many services or revisions: one database read for all
 * the stored ones, and at most `budget` read from the metrics source; the
 * ones past the budget say they come on a later request. In the order of
 * `wanted`.
 */
export async function referencesWithin(options: {
  wanted: readonly DriftReferenceOptions[];
  references: DriftReferenceStore;
  budget: number;
}): Promise<(DriftReference | { error: string })[]> {
  const now = Date.now();
  const keyOf = (o: DriftReferenceOptions) =>
    o.revision === undefined
      ? undefined
      : {
          entityRef: o.entityRef,
          environment: o.environment,
          revision: o.revision,
        };
  let stored: Map<string, DriftReference>;
  try {
    stored = await options.references.get(
      options.wanted.flatMap(o => keyOf(o) ?? []),
    );
  } catch (e) {
    return options.wanted.map(() => ({ error: (e as Error).message }));
  }
  let budget = options.budget;
  return Promise.all(
    options.wanted.map(async o => {
      const key = keyOf(o);
      const kept = key ? stored.get(driftReferenceKey(key)) : undefined;
      const at = o.now ?? now;
      if (key && !referenceServes(kept, o.window, at)) {
        if (budget <= 0)
          return {
            error: `the drift reference of revision ${key.revision} is read from the input histograms on a later refresh (at most ${options.budget} are read per request)`,
          };
        budget--;
      }
      try {
        return await driftReference({ ...o, now: at }, kept ?? null);
      } catch (e) {
        return { error: (e as Error).message };
      }
    }),
  );
}

/**
 * Histogram drift of many services whose current histograms were read
 * already (the overview's), their references as `referencesWithin` gives
 * them. The outcomes come in the order of `services`.
 */
export async function driftForMany(options: {
  services: readonly {
    current: readonly InstantSample[];
    options: DriftReferenceOptions;
  }[];
  references: DriftReferenceStore;
  budget: number;
}): Promise<Outcome[]> {
  const references = await referencesWithin({
    wanted: options.services.map(s => s.options),
    references: options.references,
    budget: options.budget,
  });
  return options.services.map(({ current, options: o }, i) => {
    const reference = references[i]!;
    return 'error' in reference
      ? reference
      : driftAgainst(current, reference, o.window);
  });
}
