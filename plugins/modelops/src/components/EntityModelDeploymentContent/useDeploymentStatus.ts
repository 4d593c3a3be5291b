import { useApi } from '@backstage/core-plugin-api';
import {
  DeploymentRecord,
  DeploymentStatusResponse,
  EnvironmentStatus,
} from '@modelops/plugin-modelops-common';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
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

/**
 * The new answer, with the environments that did not change replaced by the
 * objects of the previous answer, so that their cards need not be drawn again.
 */
function keepUnchanged(
  previous: DeploymentStatusResponse | undefined,
  next: DeploymentStatusResponse,
): DeploymentStatusResponse {
  if (!previous) return next;
  const before = new Map(
    previous.environments.map(s => [s.environment, s] as const),
  );
  let same = previous.environments.length === next.environments.length;
  const environments = next.environments.map((s, i) => {
    const old = before.get(s.environment);
    if (old && JSON.stringify(old) === JSON.stringify(s)) {
      same = same && previous.environments[i] === old;
      return old;
    }
    same = false;
    return s;
  });
  return same && previous.entityRef === next.entityRef
    ? previous
    : { ...next, environments };
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
  // One state object, so that an answer renders once.
  const [state, setState] = useState<{
    value?: DeploymentStatusResponse;
    error?: Error;
    /** How many answers arrived; a change lets the next poll be scheduled. */
    answers: number;
    loading: boolean;
  }>({ answers: 0, loading: true });
  const [followed, setFollowed] = useState<FollowedRollout>();
  const latestRequest = useRef(0);
  // The last answer, to keep the objects of environments that did not change.
  const stateRef = useRef<DeploymentStatusResponse>();
  stateRef.current = state.value;
  const mounted = useRef(true);

  const load = useCallback(() => {
    const request = ++latestRequest.current;
    const settle = (next: {
      value?: DeploymentStatusResponse;
      error?: Error;
    }) => {
      if (!mounted.current || request !== latestRequest.current) return;
      setState(s => ({
        value: next.value ?? s.value,
        error: next.error,
        answers: s.answers + 1,
        loading: false,
      }));
    };
    api.getDeploymentStatus({ entityRef }).then(
      value => settle({ value: keepUnchanged(stateRef.current, value) }),
      error => settle({ error }),
    );
  }, [api, entityRef]);

  useEffect(() => {
    mounted.current = true;
    setState(s => (s.loading ? s : { ...s, loading: true }));
    load();
    return () => {
      mounted.current = false;
    };
  }, [load]);

  const refresh = useCallback(() => load(), [load]);
  const { value, error, answers } = state;

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
    if (!polling || answers === 0) return undefined;
    const timer = setTimeout(load, pollIntervalMs);
    return () => clearTimeout(timer);
  }, [polling, answers, load, pollIntervalMs]);

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
    loading: state.loading && !value && !error,
    byEnvironment,
    polling,
    refresh,
    follow,
  };
}
