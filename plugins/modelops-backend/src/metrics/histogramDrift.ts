/**
 * Drift of a service that exports per-feature input histograms but no drift
 * gauges: PSI per feature of the current window against the reference
 * window, the first hours after the running revision was deployed (from the
 * deploy history), ending no later than the current window starts.
 */
import { LabelMatcher } from '@modelops/plugin-modelops-common';
import { DeploymentStore } from '../database/DeploymentStore';
import { Outcome } from './evaluate';
import { ModelOpsMetricsSource } from '@modelops/plugin-modelops-node';
import { histogramDrift } from './psi';
import { durationSeconds, renderQuery } from './queries';

export interface HistogramDriftOptions {
  source: Pick<ModelOpsMetricsSource, 'instant'>;
  store: Pick<DeploymentStore, 'rolloutOf'>;
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

/** PSI samples by feature, why not, or undefined when the service exports no input histograms. */
export async function driftFromHistograms(
  options: HistogramDriftOptions,
): Promise<Outcome | undefined> {
  const { source, template, matchers, by, window, environment } = options;
  const { revision, referenceHours: hours } = options;
  const now = options.now ?? Date.now();
  try {
    const current = await source.instant(
      renderQuery(template, { matchers, window, by }),
      now / 1000,
    );
    if (!current.length) return undefined;
    if (!revision)
      return {
        error: `input histograms are exported, but no running revision in ${environment} anchors the drift reference window`,
      };
    const rollout = await options.store.rolloutOf({
      entityRef: options.entityRef,
      environment,
      revision,
    });
    if (!rollout)
      return {
        error: `input histograms are exported, but revision ${revision} in ${environment} was not deployed through ModelOps, so no deploy time anchors the drift reference window`,
      };
    const deployedAt = Date.parse(rollout.createdAt);
    const windowMs = durationSeconds(window) * 1000;
    const end = Math.min(deployedAt + hours * 3_600_000, now - windowMs);
    const span = Math.floor((end - deployedAt) / 1000);
    if (span * 1000 < windowMs)
      return {
        error: `the drift reference window (the first ${hours} h after revision ${revision} was deployed at ${new Date(
          deployedAt,
        ).toISOString()}) does not hold ${window} of inputs yet`,
      };
    const reference = await source.instant(
      renderQuery(template, { matchers, window: `${span}s`, by }),
      (deployedAt + span * 1000) / 1000,
    );
    const drift = histogramDrift(current, reference);
    if (!drift.samples.length)
      return {
        error: `no feature has inputs both in the last ${window} and in the reference window after revision ${revision} was deployed`,
      };
    const hoursUsed = Math.round(span / 360) / 10;
    return {
      samples: drift.samples,
      note: `PSI computed from the input histograms against the ${hoursUsed} h after revision ${revision} was deployed${
        drift.skipped.length
          ? `; left out (bucketed differently or absent in one window): ${drift.skipped.join(
              ', ',
            )}`
          : ''
      }`,
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
