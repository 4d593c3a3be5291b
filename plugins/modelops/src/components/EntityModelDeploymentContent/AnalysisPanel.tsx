import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusRunning,
  StatusWarning,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  Analysis,
  AnalysisCanary,
  SignalHealth,
} from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { useEffect, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { modelOpsApiRef } from '../../api';
import { describeSignal } from '../common';
import { describeError } from './errors';
import { GatedButton } from './GatedButton';

/** How often a running analysis is read again. */
export const ANALYSIS_REFRESH_MS = 5_000;

const OUTCOME: Record<Analysis['status'], string> = {
  running: 'running',
  passed: 'passed',
  failed: 'failed',
  inconclusive: 'inconclusive',
  cancelled: 'cancelled',
};

/** The outcome with its status icon, the way Backstage shows statuses. */
function StatusLine(props: { status: Analysis['status']; children: string }) {
  const { status, children } = props;
  switch (status) {
    case 'running':
      return <StatusRunning>{children}</StatusRunning>;
    case 'passed':
      return <StatusOK>{children}</StatusOK>;
    case 'failed':
      return <StatusError>{children}</StatusError>;
    case 'inconclusive':
      return <StatusWarning>{children}</StatusWarning>;
    default:
      return <StatusAborted>{children}</StatusAborted>;
  }
}

/** "4 min 10 s left", from now to `endsAt`. */
export function timeLeft(endsAt: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((Date.parse(endsAt) - now) / 1000));
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m} min ${s} s left` : `${s} s left`;
}

/** The judged signals of the last evaluation, each against its SLO. */
function Signals(props: { signals: SignalHealth[]; label?: string }) {
  const judged = props.signals.filter(s => s.value !== undefined);
  if (!judged.length) return null;
  return (
    <Box
      component="ul"
      m={0}
      pl={2}
      aria-label={props.label ?? 'Analysed signals'}
    >
      {judged.map(s => (
        <Typography
          key={s.signal}
          component="li"
          variant="body2"
          color={s.status === 'critical' ? 'error' : 'textPrimary'}
        >
          {describeSignal(s)}
        </Typography>
      ))}
    </Box>
  );
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

/** "1 canary pod next to 3 stable (25 % of the pods)", and what became of it. */
export function describeCanary(canary: AnalysisCanary): string {
  const pods = `${canary.replicas} canary pod${
    canary.replicas === 1 ? '' : 's'
  } next to ${canary.stableReplicas} stable (${percent(
    canary.share,
  )} of the pods${
    Math.round(canary.share * 100) === canary.percent
      ? ''
      : `, ${canary.percent} % asked`
  })`;
  switch (canary.outcome) {
    case 'promoted':
      return `Canary: ${pods}; promoted to every pod`;
    case 'removed':
      return `Canary: ${pods}; removed, the stable pods never ran it`;
    default:
      return `Canary: ${pods}`;
  }
}

/** The canary's signals beside the stable pods'. */
function CanarySignals(props: { analysis: Analysis; canary: AnalysisCanary }) {
  const { analysis, canary } = props;
  return (
    <Box display="flex" flexWrap="wrap" style={{ gap: 16 }} mt={0.5}>
      <Box>
        <Typography variant="caption" color="textSecondary">
          Canary pods
        </Typography>
        {analysis.signals?.some(s => s.value !== undefined) ? (
          <Signals signals={analysis.signals} label="Canary signals" />
        ) : (
          <Typography variant="body2" color="textSecondary">
            no series yet
          </Typography>
        )}
      </Box>
      {canary.stableSignals && (
        <Box>
          <Typography variant="caption" color="textSecondary">
            Stable pods
          </Typography>
          <Signals signals={canary.stableSignals} label="Stable signals" />
        </Box>
      )}
    </Box>
  );
}

/**
 * The SLO analysis of an environment's current revision: while it runs,
 * the time left and each signal of the new pods against its threshold,
 * read again every few seconds; then its outcome. Renders nothing for a
 * revision deployed without one.
 */
export function AnalysisPanel(props: {
  deploymentId: string;
  /** Set when the user may not deploy (and so not cancel). */
  deniedReason?: string;
  /** Called when the analysis ends, so the status can be read again. */
  onEnded?: () => void;
}) {
  const { deploymentId, onEnded } = props;
  const api = useApi(modelOpsApiRef);
  const alertApi = useApi(alertApiRef);
  const [cancelling, setCancelling] = useState(false);
  const state = useAsyncRetry(
    () =>
      api.getDeploymentAnalysis({ deploymentId }).catch(error => {
        if (describeError(error).statusCode === 404) return undefined;
        throw error;
      }),
    [api, deploymentId],
  );
  const analysis = state.value;
  const running = analysis?.status === 'running';
  // Until it has ended: a failed analysis still has its rollback to apply.
  const live = !!analysis && (running || !analysis.finishedAt);
  const { retry } = state;
  useEffect(() => {
    if (!live) return undefined;
    const timer = setInterval(() => retry(), ANALYSIS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, retry]);
  const [seenLive, setSeenLive] = useState(false);
  useEffect(() => {
    if (live) setSeenLive(true);
    else if (seenLive && analysis) {
      setSeenLive(false);
      onEnded?.();
    }
  }, [live, seenLive, analysis, onEnded]);

  if (!analysis) {
    return state.error ? (
      <Typography variant="body2" color="error">
        Could not read the analysis: {describeError(state.error).message}
      </Typography>
    ) : null;
  }

  const cancel = async () => {
    setCancelling(true);
    try {
      await api.cancelDeploymentAnalysis({ deploymentId });
      retry();
    } catch (error) {
      alertApi.post({
        message: `Could not cancel the analysis: ${
          describeError(error as Error).message
        }`,
        severity: 'error',
      });
    } finally {
      setCancelling(false);
    }
  };

  return (
    <Box
      component="section"
      aria-label="SLO analysis"
      mt={2}
      p={1.5}
      border={1}
      borderColor="divider"
      borderRadius={4}
    >
      <Box display="flex" alignItems="center" justifyContent="space-between">
        <Typography variant="subtitle2" component="div">
          <StatusLine status={analysis.status}>
            {`SLO analysis of revision ${analysis.revision}: ${
              OUTCOME[analysis.status]
            }${running ? ` · ${timeLeft(analysis.endsAt)}` : ''}`}
          </StatusLine>
        </Typography>
        {running && (
          <GatedButton
            size="small"
            onClick={cancel}
            disabled={cancelling}
            disabledReason={props.deniedReason}
          >
            Stop analysis
          </GatedButton>
        )}
      </Box>
      <Typography variant="caption" color="textSecondary" display="block">
        {analysis.canary
          ? "The canary's pods, with the stable pods beside them"
          : 'The new pods only'}
        , every {analysis.intervalSeconds} s over {analysis.window};{' '}
        {analysis.conclusiveEvaluations} of {analysis.evaluations} evaluations
        judged.
      </Typography>
      {analysis.canary && (
        <Typography variant="body2">
          {describeCanary(analysis.canary)}
        </Typography>
      )}
      {analysis.message && (
        <Typography
          variant="body2"
          color={analysis.status === 'failed' ? 'error' : 'textPrimary'}
          style={{ overflowWrap: 'anywhere' }}
        >
          {analysis.message}
        </Typography>
      )}
      {analysis.canary ? (
        <CanarySignals analysis={analysis} canary={analysis.canary} />
      ) : (
        analysis.signals && <Signals signals={analysis.signals} />
      )}
    </Box>
  );
}
