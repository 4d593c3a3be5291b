import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  Build,
  BuildStatus,
  modelOpsBuildCreatePermission,
  ModelOpsEnvironment,
} from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import MenuItem from '@material-ui/core/MenuItem';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import useMountedState from 'react-use/esm/useMountedState';
import { modelOpsApiRef } from '../../api';
import { GatedButton } from './GatedButton';
import { RelativeTime } from './time';

/** How often the builds are read again while one is queued or running. */
export const BUILDS_POLL_MS = 5000;
/** How often a running build's log is read again. */
export const LOG_POLL_MS = 2000;
/** Failed log reads in a row after which the viewer stops following. */
const LOG_MAX_FAILURES = 5;

const unfinished = (b: Build) =>
  b.status === 'queued' || b.status === 'running';
/** A build that will deploy its digest and has not yet (a failed deploy leaves a message). */
const deployPending = (b: Build) =>
  !!b.deployTo &&
  !b.deploymentId &&
  (unfinished(b) || (b.status === 'succeeded' && !b.message));

function BuildStatusLabel(props: { status: BuildStatus; reason?: string }) {
  const text = props.reason
    ? `${props.status} (${props.reason})`
    : props.status;
  const labels: Record<BuildStatus, ReactNode> = {
    queued: <StatusPending>{text}</StatusPending>,
    running: <StatusRunning>{text}</StatusRunning>,
    succeeded: <StatusOK>{text}</StatusOK>,
    failed: <StatusError>{text}</StatusError>,
    cancelled: <StatusAborted>{text}</StatusAborted>,
  };
  return <>{labels[props.status]}</>;
}

function duration(build: Build): string {
  const start = Date.parse(build.startedAt ?? build.createdAt);
  const end = build.finishedAt ? Date.parse(build.finishedAt) : Date.now();
  const s = Math.max(0, Math.round((end - start) / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Whether the user may build the entity, and if not, why. */
function useBuildPermission(entityRef: string): string | undefined {
  const { allowed, loading, error } = usePermission({
    permission: modelOpsBuildCreatePermission,
    resourceRef: entityRef,
  });
  if (loading) return 'Checking your permissions…';
  if (error)
    return `Could not check the ${modelOpsBuildCreatePermission.name} permission: ${error.message}`;
  if (!allowed)
    return `You need the ${modelOpsBuildCreatePermission.name} permission on ${entityRef} — owners of this service and platform admins have it`;
  return undefined;
}

/** Asks for a git ref and an optional environment to deploy to, then triggers the build. */
function TriggerBuildDialog(props: {
  entityRef: string;
  environments: ModelOpsEnvironment[];
  onTriggered: (build: Build) => void;
  onClose: () => void;
}) {
  const api = useApi(modelOpsApiRef);
  const isMounted = useMountedState();
  const [ref, setRef] = useState('main');
  const [deployTo, setDeployTo] = useState('');
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  // An earlier build of the same inputs the backend gave back instead of building.
  const [reused, setReused] = useState<Build>();
  // One key per dialog: a double click or a retry of the same request gives the same build.
  const key = useRef(globalThis.crypto.randomUUID());
  const submit = async (rebuild: boolean) => {
    setBusy(true);
    setError(undefined);
    // Building again is a new request: a key of its own.
    if (rebuild) key.current = globalThis.crypto.randomUUID();
    try {
      const build = await api.triggerBuild({
        entityRef: props.entityRef,
        ref: ref.trim(),
        ...(deployTo ? { deployTo } : {}),
        ...(rebuild ? { rebuild } : {}),
        idempotencyKey: key.current,
      });
      if (!isMounted()) return;
      // A build this request started is never finished at once: one that
      // is, is the earlier build of the same commit and inputs.
      if (!rebuild && build.status === 'succeeded') setReused(build);
      else props.onTriggered(build);
    } catch (e) {
      if (isMounted()) setError(e as Error);
    } finally {
      if (isMounted()) setBusy(false);
    }
  };
  return (
    <Dialog open onClose={props.onClose} fullWidth maxWidth="sm">
      <DialogTitle>Build an image</DialogTitle>
      <DialogContent>
        <TextField
          id="modelops-build-ref"
          label="Git ref (branch, tag or commit)"
          value={ref}
          onChange={e => setRef(e.target.value)}
          fullWidth
          margin="normal"
          required
        />
        <TextField
          select
          id="modelops-build-deploy-to"
          label="Deploy to when it succeeds"
          value={deployTo}
          onChange={e => setDeployTo(e.target.value)}
          fullWidth
          margin="normal"
        >
          <MenuItem value="">Do not deploy</MenuItem>
          {props.environments
            .filter(e => !e.error)
            .map(e => (
              <MenuItem key={e.name} value={e.name}>
                {e.name}
              </MenuItem>
            ))}
        </TextField>
        {reused && (
          <Typography role="status">
            Commit {reused.source.commit?.slice(0, 12) ?? reused.source.ref} was
            already built with the same inputs: image {reused.tag}
            {reused.finishedAt && (
              <>
                {' '}
                (<RelativeTime iso={reused.finishedAt} />)
              </>
            )}
            . Nothing was built; deploy that build from the list, or build
            again.
          </Typography>
        )}
        {error && (
          <Typography color="error" role="alert">
            {error.message}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        {reused ? (
          <>
            <Button
              disabled={busy}
              onClick={() => {
                setReused(undefined);
                submit(true);
              }}
            >
              Build again
            </Button>
            <Button
              color="primary"
              variant="contained"
              onClick={() => props.onTriggered(reused)}
            >
              Close
            </Button>
          </>
        ) : (
          <>
            <Button onClick={props.onClose}>Cancel</Button>
            <Button
              color="primary"
              variant="contained"
              disabled={busy || !ref.trim()}
              onClick={() => submit(false)}
            >
              Build
            </Button>
          </>
        )}
      </DialogActions>
    </Dialog>
  );
}

/**
 * What a build's row says under its status: why it failed, or what became of
 * its deploy (done, or why the deploy after the build failed).
 */
function buildNote(b: Build): string | undefined {
  if (b.status === 'failed') return b.message?.split('\n')[0];
  if (b.status !== 'succeeded' || !b.deployTo) return undefined;
  if (b.deploymentId) return `deployed to ${b.deployTo}`;
  return b.message?.split('\n')[0];
}

/** A build's log, followed while the build runs. */
function BuildLogDialog(props: { build: Build; onClose: () => void }) {
  const api = useApi(modelOpsApiRef);
  const isMounted = useMountedState();
  const [text, setText] = useState('');
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<Error>();
  useEffect(() => {
    let after: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let failures = 0;
    const read = async () => {
      try {
        const page = await api.getBuildLogs({ id: props.build.id, after });
        if (stopped || !isMounted()) return;
        failures = 0;
        setError(undefined);
        if (page.text) setText(t => t + page.text);
        after = page.next ?? after;
        if (page.complete) {
          setComplete(true);
          return;
        }
      } catch (e) {
        if (stopped || !isMounted()) return;
        setError(e as Error);
        // A build that is still running keeps its log: try again, less often.
        failures += 1;
        if (failures >= LOG_MAX_FAILURES) return;
      }
      timer = setTimeout(read, LOG_POLL_MS * (1 + failures));
    };
    read();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [api, isMounted, props.build.id]);
  return (
    <Dialog open onClose={props.onClose} fullWidth maxWidth="lg">
      <DialogTitle>
        Log of build {props.build.tag}
        {!complete && !error && ' (following)'}
      </DialogTitle>
      <DialogContent>
        {error && (
          <ResponseErrorPanel title="Could not read the log" error={error} />
        )}
        <Box
          component="pre"
          aria-label="Build log"
          style={{
            whiteSpace: 'pre-wrap',
            fontSize: 12,
            maxHeight: '60vh',
            overflow: 'auto',
          }}
        >
          {text || (complete ? 'The log is empty.' : 'Waiting for the log…')}
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}

/**
 * The entity's image builds: history (status, tag, commit, who, duration),
 * a Build button, a log viewer that follows a running build, and "Deploy"
 * of a succeeded build's digest.
 */
export function BuildsCard(props: {
  entityRef: string;
  environments: ModelOpsEnvironment[];
  /** Why the user may not deploy, if they may not. */
  deployDeniedReason?: string;
  /** Opens the deploy dialog with this image (the build's digest) and the build. */
  onDeploy: (image: string, buildId: string) => void;
  /** Called when a build this card followed has deployed its digest (build-then-deploy). */
  onDeployed?: () => void;
}) {
  const { entityRef } = props;
  const api = useApi(modelOpsApiRef);
  const isMounted = useMountedState();
  const buildDeniedReason = useBuildPermission(entityRef);
  const [builds, setBuilds] = useState<Build[]>();
  const [error, setError] = useState<Error>();
  const [dialog, setDialog] = useState<
    { kind: 'trigger' } | { kind: 'log'; build: Build }
  >();
  const [reload, setReload] = useState(0);
  // Builds seen unfinished, or finished without their deploy yet.
  const awaitingDeploy = useRef(new Set<string>());
  const { onDeployed } = props;

  const load = useCallback(async () => {
    try {
      const page = await api.getBuilds({ entityRef, limit: 20 });
      // Unfinished builds are read one by one: that asks their builder.
      const items = await Promise.all(
        page.items.map(b => (unfinished(b) ? api.getBuild({ id: b.id }) : b)),
      );
      if (isMounted()) {
        setBuilds(items);
        setError(undefined);
        let deployed = false;
        for (const b of items) {
          if (deployPending(b)) awaitingDeploy.current.add(b.id);
          else if (b.deploymentId && awaitingDeploy.current.delete(b.id))
            deployed = true;
        }
        if (deployed) onDeployed?.();
      }
      return items;
    } catch (e) {
      if (isMounted()) setError(e as Error);
      return undefined;
    }
  }, [api, entityRef, isMounted, onDeployed]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const tick = async () => {
      const items = await load();
      if (!stopped && items?.some(b => unfinished(b) || deployPending(b)))
        timer = setTimeout(tick, BUILDS_POLL_MS);
    };
    tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [load, reload]);

  const cancel = async (build: Build) => {
    try {
      await api.cancelBuild({ id: build.id });
    } catch (e) {
      if (isMounted()) setError(e as Error);
    }
    setReload(r => r + 1);
  };

  return (
    <InfoCard
      title="Builds"
      action={
        <GatedButton
          variant="outlined"
          color="primary"
          onClick={() => setDialog({ kind: 'trigger' })}
          disabledReason={buildDeniedReason}
        >
          Build
        </GatedButton>
      }
    >
      {error && (
        <ResponseErrorPanel title="Could not load the builds" error={error} />
      )}
      {!builds && !error && <Progress />}
      {builds && builds.length === 0 && (
        <Typography color="textSecondary">
          No builds yet. Build turns a commit of the service's repository into
          an image.
        </Typography>
      )}
      {builds && builds.length > 0 && (
        <Table size="small" aria-label="Builds">
          <TableHead>
            <TableRow>
              <TableCell>Status</TableCell>
              <TableCell>Tag</TableCell>
              <TableCell>Commit</TableCell>
              <TableCell>By</TableCell>
              <TableCell>Started</TableCell>
              <TableCell>Duration</TableCell>
              <TableCell />
            </TableRow>
          </TableHead>
          <TableBody>
            {builds.map(b => (
              <TableRow key={b.id}>
                <TableCell>
                  <BuildStatusLabel status={b.status} reason={b.reason} />
                  {buildNote(b) && (
                    <Typography
                      variant="caption"
                      component="div"
                      color="textSecondary"
                    >
                      {buildNote(b)}
                    </Typography>
                  )}
                </TableCell>
                <TableCell>{b.tag}</TableCell>
                <TableCell title={b.source.commit}>
                  {b.source.commit?.slice(0, 12) ?? b.source.ref}
                </TableCell>
                <TableCell>
                  {b.requestedBy.startsWith('user:') ? (
                    <EntityRefLink entityRef={b.requestedBy} />
                  ) : (
                    b.requestedBy
                  )}
                </TableCell>
                <TableCell>
                  <RelativeTime iso={b.createdAt} />
                </TableCell>
                <TableCell>{duration(b)}</TableCell>
                <TableCell align="right" style={{ whiteSpace: 'nowrap' }}>
                  <Button
                    size="small"
                    onClick={() => setDialog({ kind: 'log', build: b })}
                  >
                    Log
                  </Button>
                  {unfinished(b) && (
                    <GatedButton
                      size="small"
                      onClick={() => cancel(b)}
                      disabledReason={buildDeniedReason}
                    >
                      Cancel
                    </GatedButton>
                  )}
                  {b.status === 'succeeded' && b.digest && (
                    <GatedButton
                      size="small"
                      color="primary"
                      onClick={() =>
                        props.onDeploy(`${b.image}@${b.digest}`, b.id)
                      }
                      disabledReason={props.deployDeniedReason}
                    >
                      Deploy
                    </GatedButton>
                  )}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {dialog?.kind === 'trigger' && (
        <TriggerBuildDialog
          entityRef={entityRef}
          environments={props.environments}
          onClose={() => setDialog(undefined)}
          onTriggered={() => {
            setDialog(undefined);
            setReload(r => r + 1);
          }}
        />
      )}
      {dialog?.kind === 'log' && (
        <BuildLogDialog
          build={dialog.build}
          onClose={() => setDialog(undefined)}
        />
      )}
    </InfoCard>
  );
}
