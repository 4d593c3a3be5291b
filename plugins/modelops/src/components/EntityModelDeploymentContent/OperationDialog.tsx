import {
  StatusError,
  StatusOK,
  WarningPanel,
} from '@backstage/core-components';
import {
  DeploymentRecord,
  DeployResponse,
  EnvironmentStatus,
} from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import CircularProgress from '@material-ui/core/CircularProgress';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import LinearProgress from '@material-ui/core/LinearProgress';
import Typography from '@material-ui/core/Typography';
import type { ReactNode } from 'react';
import { useCallback, useEffect, useRef, useState } from 'react';
import useMountedState from 'react-use/esm/useMountedState';
import { DiffView } from './DiffView';
import { describeError, isConflict } from './errors';
import { PhaseStatus } from './PhaseStatus';
import { rolloutOutcome } from './useDeploymentStatus';
import { RolloutConditions, WorkloadProblems } from './WorkloadProblems';

/** Sends a deploy, promotion or rollback request. */
export type RunOperation = (options: {
  dryRun: boolean;
  force: boolean;
}) => Promise<DeployResponse>;

interface OperationState {
  busy?: 'preview' | 'apply';
  preview?: DeployResponse;
  applied?: DeployResponse;
  error?: Error;
  /** The backend's message for a field-manager conflict. */
  conflict?: string;
}

/** Preview (dry run), apply and forced apply of one operation. */
function useOperation(
  run: RunOperation,
  onApplied: (r: DeployResponse) => void,
) {
  const [state, setState] = useState<OperationState>({});
  const isMounted = useMountedState();
  const send = useCallback(
    async (dryRun: boolean, force: boolean) => {
      setState(s => ({
        preview: s.preview,
        busy: dryRun ? 'preview' : 'apply',
      }));
      try {
        const response = await run({ dryRun, force });
        if (!isMounted()) return;
        setState(s =>
          dryRun
            ? { preview: response }
            : { preview: s.preview, applied: response },
        );
        if (!dryRun) onApplied(response);
      } catch (e) {
        if (!isMounted()) return;
        const error = e as Error;
        setState(s => ({
          preview: s.preview,
          ...(isConflict(error)
            ? { conflict: describeError(error).message }
            : { error }),
        }));
      }
    },
    [run, onApplied, isMounted],
  );
  const reset = useCallback(() => setState({}), []);
  return { state, send, reset };
}

/** An error of a request, with the backend's message first. */
export function OperationError(props: { error: Error }) {
  const { statusCode, name, message } = describeError(props.error);
  return (
    <WarningPanel
      severity="error"
      title={message}
      message={
        statusCode ? `The backend answered ${statusCode} ${name}.` : undefined
      }
    />
  );
}

/** The canary's part of an environment's status, as a status of its own. */
function canaryStatus(
  status: EnvironmentStatus | undefined,
): EnvironmentStatus | undefined {
  if (!status?.canary) return undefined;
  const { canary } = status;
  return {
    ...status,
    phase: canary.phase,
    image: canary.image,
    revision: canary.revision,
    replicas: canary.replicas,
    generation: undefined,
    observedGeneration: undefined,
    conditions: [],
  };
}

/**
 * Follows the rollout of an applied deployment in the live status; of a
 * canary release, the canary's (the stable Deployments change only when its
 * analysis passes).
 */
export function RolloutProgress(props: {
  deployment: DeploymentRecord;
  status?: EnvironmentStatus;
  canary?: boolean;
}) {
  const { deployment } = props;
  const status = props.canary ? canaryStatus(props.status) : props.status;
  const what = `${deployment.image ?? 'the manifests'} to ${
    deployment.environment
  }${props.canary ? ' as a canary' : ''}`;
  if (deployment.result === 'failed') {
    return (
      <Box mt={2}>
        <StatusError>
          Deployment failed{deployment.error ? `: ${deployment.error}` : ''}
        </StatusError>
      </Box>
    );
  }
  // The canary is gone and the stable Deployments reached its revision or
  // a later one: its analysis promoted it, or removed it and rolled back.
  const canaryEnded =
    props.canary &&
    !!props.status &&
    !props.status.canary &&
    deployment.revision !== undefined &&
    (props.status.revision ?? 0) >= deployment.revision;
  if (canaryEnded)
    return (
      <Box component="section" aria-label="Rollout" mt={2}>
        <Typography variant="subtitle1">
          {`Applied revision ${deployment.revision}: ${what}`}
        </Typography>
        <Typography variant="body2">
          The canary's analysis has ended: the environment card says how.
        </Typography>
      </Box>
    );
  const outcome = rolloutOutcome(status, deployment);
  const replicas = status?.replicas;
  return (
    <Box component="section" aria-label="Rollout" mt={2}>
      <Typography variant="subtitle1">
        {deployment.revision !== undefined
          ? `Applied revision ${deployment.revision}: ${what}`
          : `Applied ${what}`}
      </Typography>
      {outcome === 'progressing' && (
        <>
          <Typography variant="body2">Following the rollout…</Typography>
          <LinearProgress aria-label="Rollout progress" />
        </>
      )}
      {status && (
        <Box display="flex" alignItems="center" mt={1} style={{ gap: 16 }}>
          <PhaseStatus phase={status.phase} />
          {replicas && (
            <Typography variant="body2">
              {replicas.updated} of {replicas.desired} replicas updated,{' '}
              {replicas.ready} ready
            </Typography>
          )}
        </Box>
      )}
      {outcome === 'available' && (
        <Box mt={1}>
          <StatusOK>
            {props.canary
              ? 'Canary ready: its analysis decides the rest (see the environment card)'
              : 'Rollout complete'}
          </StatusOK>
        </Box>
      )}
      {outcome === 'failed' && status && (
        <Box mt={1}>
          <StatusError>Rollout failed</StatusError>
          <WorkloadProblems problems={status.problems} />
          <RolloutConditions conditions={status.conditions} />
        </Box>
      )}
    </Box>
  );
}

/**
 * A dialog that previews a deploy, promotion or rollback as a dry run,
 * applies it, offers to force it past a field-manager conflict and then
 * follows the rollout.
 *
 * `mode="deploy"` has Preview and Deploy buttons; `mode="confirm"` previews
 * on opening and applies with Confirm.
 */
export function OperationDialog(props: {
  title: string;
  mode: 'deploy' | 'confirm';
  run: RunOperation;
  /** Checked before a request is sent; return false to stop it. */
  validate?: () => boolean;
  /** When this changes, an earlier preview or error no longer applies. */
  inputsKey?: string;
  /** Live status of the target environment, to follow the rollout. */
  status?: EnvironmentStatus;
  onApplied: (response: DeployResponse) => void;
  onClose: () => void;
  /** The form or description; a function gets whether the inputs should be locked. */
  children?: ReactNode | ((state: { locked: boolean }) => ReactNode);
}) {
  const { mode, run, validate, onApplied, inputsKey } = props;
  const { state, send, reset } = useOperation(run, onApplied);
  const titleId = useRef(
    `modelops-dialog-${Math.random().toString(36).slice(2)}`,
  ).current;

  useEffect(() => {
    reset();
  }, [inputsKey, reset]);

  const previewedOnOpen = useRef(false);
  useEffect(() => {
    if (mode === 'confirm' && !previewedOnOpen.current) {
      previewedOnOpen.current = true;
      send(true, false);
    }
  }, [mode, send]);

  const request = (dryRun: boolean, force: boolean) => {
    if (validate && !validate()) return;
    send(dryRun, force);
  };

  const busy = state.busy !== undefined;
  const done = state.applied !== undefined;
  const applyLabel = mode === 'deploy' ? 'Deploy' : 'Confirm';

  return (
    <Dialog
      open
      onClose={props.onClose}
      aria-labelledby={titleId}
      maxWidth="md"
      fullWidth
    >
      <DialogTitle id={titleId}>{props.title}</DialogTitle>
      <DialogContent>
        {typeof props.children === 'function'
          ? props.children({ locked: busy || done })
          : props.children}
        {state.busy === 'preview' && (
          <Box display="flex" alignItems="center" mt={2} style={{ gap: 8 }}>
            <CircularProgress size={20} aria-label="Previewing" />
            <Typography variant="body2">Previewing (dry run)…</Typography>
          </Box>
        )}
        {state.busy === 'apply' && (
          <Box display="flex" alignItems="center" mt={2} style={{ gap: 8 }}>
            <CircularProgress size={20} aria-label="Applying" />
            <Typography variant="body2">Applying…</Typography>
          </Box>
        )}
        {state.conflict && (
          <Box mt={2}>
            <WarningPanel
              severity="warning"
              title="Another field manager owns some of these fields"
              message={state.conflict}
              defaultExpanded
            />
            <Typography variant="body2" style={{ marginTop: 8 }}>
              Deploying anyway takes over those fields from the other manager.
            </Typography>
          </Box>
        )}
        {state.error && (
          <Box mt={2}>
            <OperationError error={state.error} />
          </Box>
        )}
        {state.applied && (
          <RolloutProgress
            deployment={state.applied.deployment}
            status={props.status}
            canary={!!state.applied.analysis?.canary}
          />
        )}
        {state.preview && !done && (
          <DiffView title="Preview (dry run)" diff={state.preview.diff} />
        )}
        {state.applied && (
          <DiffView title="Applied changes" diff={state.applied.diff} />
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>{done ? 'Close' : 'Cancel'}</Button>
        {!done && (mode === 'deploy' || (!state.preview && !busy)) && (
          <Button
            onClick={() => request(true, false)}
            disabled={busy}
            variant="outlined"
          >
            Preview
          </Button>
        )}
        {!done && state.conflict && (
          <Button
            onClick={() => request(false, true)}
            disabled={busy}
            variant="contained"
            color="secondary"
          >
            Deploy anyway (force)
          </Button>
        )}
        {!done && (
          <Button
            onClick={() => request(false, false)}
            disabled={busy || (mode === 'confirm' && !state.preview)}
            variant="contained"
            color="primary"
          >
            {applyLabel}
          </Button>
        )}
      </DialogActions>
    </Dialog>
  );
}
