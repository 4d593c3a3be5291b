import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { DeploymentRecord } from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { memo, useCallback, useEffect, useState } from 'react';
import useMountedState from 'react-use/esm/useMountedState';
import { modelOpsApiRef } from '../../api';
import { GatedButton } from './GatedButton';
import { RelativeTime } from './time';

/** Deployments per page of the history. */
export const HISTORY_PAGE_SIZE = 20;

interface HistoryState {
  items: DeploymentRecord[];
  nextCursor?: string;
  loading: boolean;
  loadingMore: boolean;
  error?: Error;
}

/** Whether a record can be rolled back to. */
export function canRollBackTo(record: DeploymentRecord): boolean {
  return (
    record.result === 'succeeded' &&
    !record.dryRun &&
    record.revision !== undefined
  );
}

/**
 * The deployment history of the entity, newest first, paged and filterable by
 * environment. Memoised: it is not drawn again when the status is polled.
 */
export const DeploymentHistoryCard = memo(
  function DeploymentHistoryCardContent(props: {
    entityRef: string;
    environments: string[];
    /** Changes when the history should be loaded again, e.g. after a deploy. */
    reloadKey: number;
    deniedReason?: string;
    onRollback: (record: DeploymentRecord) => void;
  }) {
    const { entityRef, reloadKey } = props;
    const api = useApi(modelOpsApiRef);
    const isMounted = useMountedState();
    const [environment, setEnvironment] = useState('');
    const [state, setState] = useState<HistoryState>({
      items: [],
      loading: true,
      loadingMore: false,
    });

    useEffect(() => {
      let cancelled = false;
      setState(s => ({ ...s, loading: true, error: undefined }));
      api
        .getDeployments({
          entityRef,
          environment: environment || undefined,
          limit: HISTORY_PAGE_SIZE,
        })
        .then(
          page => {
            if (cancelled) return;
            setState({
              items: page.items,
              nextCursor: page.nextCursor,
              loading: false,
              loadingMore: false,
            });
          },
          error => {
            if (cancelled) return;
            setState({ items: [], loading: false, loadingMore: false, error });
          },
        );
      return () => {
        cancelled = true;
      };
    }, [api, entityRef, environment, reloadKey]);

    const loadMore = useCallback(async () => {
      if (!state.nextCursor) return;
      setState(s => ({ ...s, loadingMore: true, error: undefined }));
      try {
        const page = await api.getDeployments({
          entityRef,
          environment: environment || undefined,
          limit: HISTORY_PAGE_SIZE,
          cursor: state.nextCursor,
        });
        if (!isMounted()) return;
        setState(s => ({
          items: [...s.items, ...page.items],
          nextCursor: page.nextCursor,
          loading: false,
          loadingMore: false,
        }));
      } catch (error) {
        if (!isMounted()) return;
        setState(s => ({ ...s, loadingMore: false, error: error as Error }));
      }
    }, [api, entityRef, environment, state.nextCursor, isMounted]);

    return (
      <InfoCard
        title="Deployment history"
        action={
          <TextField
            select
            id="modelops-history-environment"
            label="Environment filter"
            value={environment}
            onChange={e => setEnvironment(e.target.value)}
            SelectProps={{ native: true }}
            // A native select always shows its value ("All environments"),
            // so the label must stay above it instead of over it.
            InputLabelProps={{ shrink: true }}
            size="small"
            style={{ minWidth: 200 }}
          >
            <option value="">All environments</option>
            {props.environments.map(name => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </TextField>
        }
      >
        {state.loading && <Progress />}
        {!state.loading && state.items.length === 0 && !state.error && (
          <Typography>
            {environment
              ? `No deployments to ${environment} yet.`
              : 'No deployments yet. Deploy an image to start the history.'}
          </Typography>
        )}
        {!state.loading && state.items.length > 0 && (
          <Table size="small" aria-label="Deployment history">
            <TableHead>
              <TableRow>
                <TableCell>When</TableCell>
                <TableCell>Who</TableCell>
                <TableCell>Environment</TableCell>
                <TableCell>Action</TableCell>
                <TableCell>Image</TableCell>
                <TableCell>Revision</TableCell>
                <TableCell>Dry run</TableCell>
                <TableCell>Result</TableCell>
                <TableCell>
                  <span style={{ position: 'absolute', left: -10000 }}>
                    Actions
                  </span>
                </TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {state.items.map(record => (
                <TableRow key={record.id}>
                  <TableCell>
                    <RelativeTime iso={record.createdAt} />
                  </TableCell>
                  <TableCell>
                    <EntityRefLink
                      entityRef={record.requestedBy}
                      defaultKind="user"
                    />
                  </TableCell>
                  <TableCell>{record.environment}</TableCell>
                  <TableCell>
                    {record.automatic
                      ? `${record.action} (automatic)`
                      : record.action}
                    {record.reason && (
                      <Typography
                        variant="caption"
                        component="div"
                        color="error"
                      >
                        {record.reason}
                      </Typography>
                    )}
                  </TableCell>
                  <TableCell style={{ overflowWrap: 'anywhere' }}>
                    {record.image ? <code>{record.image}</code> : '—'}
                    {record.buildId && (
                      <Typography
                        variant="caption"
                        component="div"
                        color="textSecondary"
                        title={record.buildId}
                      >
                        from build {record.buildId.slice(0, 8)}
                      </Typography>
                    )}
                  </TableCell>
                  <TableCell>{record.revision ?? '—'}</TableCell>
                  <TableCell>{record.dryRun ? 'Yes' : 'No'}</TableCell>
                  <TableCell>
                    {record.result === 'succeeded' ? (
                      <StatusOK>Succeeded</StatusOK>
                    ) : (
                      <StatusError>
                        Failed{record.error ? `: ${record.error}` : ''}
                      </StatusError>
                    )}
                  </TableCell>
                  <TableCell>
                    {canRollBackTo(record) && (
                      <GatedButton
                        size="small"
                        variant="outlined"
                        onClick={() => props.onRollback(record)}
                        disabledReason={props.deniedReason}
                        tooltip={`Roll ${record.environment} back to revision ${record.revision}`}
                      >
                        Rollback
                      </GatedButton>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
        {state.error && (
          <Box mt={2}>
            <ResponseErrorPanel error={state.error} />
          </Box>
        )}
        {!state.loading && state.nextCursor && (
          <Box mt={2} display="flex" justifyContent="center">
            <Button
              onClick={loadMore}
              disabled={state.loadingMore}
              variant="outlined"
            >
              {state.loadingMore ? 'Loading…' : 'Load more'}
            </Button>
          </Box>
        )}
      </InfoCard>
    );
  },
);
