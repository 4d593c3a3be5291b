import { useApi } from '@backstage/core-plugin-api';
import {
  DeploymentRecord,
  DeploymentStatusResponse,
  EnvironmentStatus,
} from '@modelops/plugin-modelops-common';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { modelOpsApiRef } from '../../api';

/** How often the status is polled while a rollout is in progress. */
export const DEFAULT_STATUS_POLL_INTERVAL_MS = 5000;

/** Where a rollout that was just applied stands. */
export type RolloutOutcome = 'progressing' | 'available' | 'failed';

/**
 * Whether the live status of an environment shows the result of `deployment`:
 * the rollout is over once the workload runs the deployed revision (or image)
 * and is Available or Failed.
 */
export function rolloutOutcome(
  status: EnvironmentStatus | undefined,
  deployment: Pick<DeploymentRecord, 'revision' | 'image'>,
): RolloutOutcome {
  if (!status) return 'progressing';
  let reached = true;
  if (deployment.revision !== undefined && status.revision !== undefined) {
    reached = status.revision >= deployment.revision;
  } else if (deployment.image && status.image) {
    reached = status.image === deployment.image;
  }
  if (
    status.generation !== undefined &&
    status.observedGeneration !== undefined &&
    status.observedGeneration < status.generation
  ) {
    reached = false;
  }
  if (!reached) return 'progressing';
  if (status.phase === 'Available') return 'available';
  if (status.phase === 'Failed') return 'failed';
  return 'progressing';
}

/** A rollout the page follows until it is over, even before it shows as Progressing. */
export interface FollowedRollout {
  environment: string;
  deployment: Pick<DeploymentRecord, 'revision' | 'image'>;
}

/**
 * Loads the live rollout status of every environment and polls it while any
 * environment is Progressing or a followed rollout is not over. The last
 * answer is kept when a poll fails.
 */
export function useDeploymentStatus(
  entityRef: string,
  pollIntervalMs: number = DEFAULT_STATUS_POLL_INTERVAL_MS,
) {
  const api = useApi(modelOpsApiRef);
  const [value, setValue] = useState<DeploymentStatusResponse>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const [followed, setFollowed] = useState<FollowedRollout>();

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    api.getDeploymentStatus({ entityRef }).then(
      answer => {
        if (cancelled) return;
        setValue(answer);
        setError(undefined);
        setLoading(false);
      },
      e => {
        if (cancelled) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, entityRef, generation]);

  const refresh = useCallback(() => setGeneration(g => g + 1), []);

  const byEnvironment = useMemo(
    () => new Map(value?.environments.map(s => [s.environment, s]) ?? []),
    [value],
  );

  const polling =
    (value?.environments.some(s => s.phase === 'Progressing') ?? false) ||
    (followed !== undefined &&
      rolloutOutcome(
        byEnvironment.get(followed.environment),
        followed.deployment,
      ) === 'progressing');

  useEffect(() => {
    if (!polling || loading) return undefined;
    const timer = setTimeout(refresh, pollIntervalMs);
    return () => clearTimeout(timer);
  }, [polling, loading, refresh, pollIntervalMs]);

  const follow = useCallback(
    (rollout: FollowedRollout | undefined) => {
      setFollowed(rollout);
      if (rollout) refresh();
    },
    [refresh],
  );

  return {
    value,
    error,
    loading: loading && !value && !error,
    byEnvironment,
    polling,
    refresh,
    follow,
  };
}
