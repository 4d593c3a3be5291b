import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  InfoCard,
  ResponseErrorPanel,
  StructuredMetadataTable,
} from '@backstage/core-components';
import {
  DeploymentRecord,
  DeployResponse,
  EntityEnvironmentsResponse,
  readModelServiceContract,
  ModelServiceContract,
} from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { useCallback, useMemo, useState } from 'react';
import {
  ContractProblems,
  EntityEnvironments,
  ModelServiceGate,
} from '../common';
import { BuildsCard } from './BuildsCard';
import { DeploymentHistoryCard } from './DeploymentHistoryCard';
import {
  DeployDialog,
  PromoteDialog,
  RollbackDialog,
} from './DeploymentDialogs';
import { EnvironmentCard } from './EnvironmentCard';
import { GatedButton } from './GatedButton';
import { useDeployPermission } from './useDeployPermission';
import {
  DEFAULT_STATUS_POLL_INTERVAL_MS,
  useDeploymentStatus,
} from './useDeploymentStatus';

/** Props of {@link EntityModelDeploymentContent}. @public */
export interface EntityModelDeploymentContentProps {
  /** How often to poll the rollout status while a rollout is in progress; 5 s by default. */
  statusPollIntervalMs?: number;
}

type OpenDialog =
  | {
      kind: 'deploy';
      environment?: string;
      image?: string;
      /** The build whose digest `image` is, when deploying a build. */
      buildId?: string;
    }
  | { kind: 'promote'; from: string; to: string }
  | { kind: 'rollback'; record: DeploymentRecord };

function DeploymentPanel(props: {
  entityRef: string;
  contract: ModelServiceContract;
  environments: EntityEnvironmentsResponse;
  pollIntervalMs: number;
}) {
  const { entityRef, contract, environments } = props;
  const status = useDeploymentStatus(entityRef, props.pollIntervalMs);
  const { deniedReason } = useDeployPermission(entityRef);
  const [dialog, setDialog] = useState<OpenDialog>();
  const [historyKey, setHistoryKey] = useState(0);

  const allNames = [
    ...environments.environments.map(e => e.name),
    ...(status.value?.environments
      .map(s => s.environment)
      .filter(n => !environments.environments.some(e => e.name === n)) ?? []),
  ];
  // The same array while the names stay the same, so that the history card
  // is not drawn again on every status poll.
  const namesKey = allNames.join('\n');
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const names = useMemo(() => allNames, [namesKey]);
  const statusOf = useCallback(
    (name: string) => status.byEnvironment.get(name),
    [status.byEnvironment],
  );
  const { follow } = status;
  const onApplied = useCallback(
    (response: DeployResponse) => {
      follow({
        environment: response.deployment.environment,
        deployment: response.deployment,
      });
      setHistoryKey(k => k + 1);
    },
    [follow],
  );
  const openDeploy = useCallback(
    (environment: string) => setDialog({ kind: 'deploy', environment }),
    [],
  );
  const openPromote = useCallback(
    (from: string, to: string) => setDialog({ kind: 'promote', from, to }),
    [],
  );
  const openRollback = useCallback(
    (record: DeploymentRecord) => setDialog({ kind: 'rollback', record }),
    [],
  );
  // A build deployed its digest, or an analysis ended (perhaps rolling
  // back): the cards and the history show it.
  const { refresh } = status;
  const onBuildDeployed = useCallback(() => {
    refresh();
    setHistoryKey(k => k + 1);
  }, [refresh]);
  const closeDialog = useCallback(() => {
    setDialog(undefined);
    follow(undefined);
  }, [follow]);

  const mainDeployReason =
    deniedReason ??
    (environments.environments.every(e => e.error)
      ? 'No environment can be deployed to; see the errors of each environment'
      : undefined);

  return (
    <>
      <Grid item xs={12}>
        <Box display="flex" alignItems="center" style={{ gap: 16 }}>
          <Typography variant="h5" component="h2">
            Environments
          </Typography>
          <Box flexGrow={1}>
            {status.polling && (
              <Typography variant="caption" color="textSecondary">
                A rollout is in progress; the status refreshes every{' '}
                {Math.round(props.pollIntervalMs / 1000)} s.
              </Typography>
            )}
          </Box>
          <GatedButton
            variant="contained"
            color="primary"
            onClick={() => setDialog({ kind: 'deploy' })}
            disabledReason={mainDeployReason}
          >
            Deploy
          </GatedButton>
        </Box>
      </Grid>
      {status.error && (
        <Grid item xs={12}>
          <ResponseErrorPanel
            title="Could not load the rollout status"
            error={status.error}
          />
        </Grid>
      )}
      {names.length === 0 && (
        <Grid item xs={12}>
          <Typography>
            No environments are configured. A platform engineer adds them under
            modelops.environments in app-config.yaml.
          </Typography>
        </Grid>
      )}
      {names.map((name, index) => (
        <Grid item xs={12} md={6} xl={4} key={name}>
          <EnvironmentCard
            name={name}
            environment={environments.environments.find(e => e.name === name)}
            status={statusOf(name)}
            statusLoading={status.loading}
            deniedReason={deniedReason}
            promoteTo={names[index + 1]}
            onDeploy={openDeploy}
            onPromote={openPromote}
            onAnalysisEnded={onBuildDeployed}
          />
        </Grid>
      ))}
      <Grid item xs={12}>
        <BuildsCard
          entityRef={entityRef}
          environments={environments.environments}
          deployDeniedReason={deniedReason}
          onDeploy={(image, buildId) =>
            setDialog({ kind: 'deploy', image, buildId })
          }
          onDeployed={onBuildDeployed}
        />
      </Grid>
      <Grid item xs={12}>
        <DeploymentHistoryCard
          entityRef={entityRef}
          environments={names}
          reloadKey={historyKey}
          deniedReason={deniedReason}
          onRollback={openRollback}
        />
      </Grid>
      {dialog?.kind === 'deploy' && (
        <DeployDialog
          entityRef={entityRef}
          environments={environments.environments}
          initialEnvironment={dialog.environment}
          initialImage={dialog.image}
          buildId={dialog.buildId}
          imageRepository={contract.image}
          statusOf={statusOf}
          onApplied={onApplied}
          onClose={closeDialog}
        />
      )}
      {dialog?.kind === 'promote' && (
        <PromoteDialog
          entityRef={entityRef}
          from={dialog.from}
          to={dialog.to}
          statusOf={statusOf}
          onApplied={onApplied}
          onClose={closeDialog}
        />
      )}
      {dialog?.kind === 'rollback' && (
        <RollbackDialog
          entityRef={entityRef}
          record={dialog.record}
          statusOf={statusOf}
          onApplied={onApplied}
          onClose={closeDialog}
        />
      )}
    </>
  );
}

/** The Model deployment tab of a model service. */
export function EntityModelDeploymentContent(
  props: EntityModelDeploymentContentProps = {},
) {
  const pollIntervalMs =
    props.statusPollIntervalMs ?? DEFAULT_STATUS_POLL_INTERVAL_MS;
  return (
    <ModelServiceGate>
      {entity => {
        const contract = readModelServiceContract(entity);
        return (
          <EntityEnvironments>
            {value => (
              <Grid container spacing={3}>
                {value.problems.length > 0 && (
                  <Grid item xs={12}>
                    <ContractProblems problems={value.problems} />
                  </Grid>
                )}
                <Grid item xs={12}>
                  <InfoCard title="Deployment contract">
                    <StructuredMetadataTable
                      metadata={{
                        'Workload label': `backstage.io/kubernetes-id=${contract.kubernetesId}`,
                        'Image repository':
                          contract.image ?? 'not set (modelops/image)',
                        Manifests: contract.manifests,
                        'Build context':
                          contract.buildContext ??
                          'not set (modelops/build-context)',
                      }}
                    />
                  </InfoCard>
                </Grid>
                <DeploymentPanel
                  entityRef={stringifyEntityRef(entity)}
                  contract={contract}
                  environments={value}
                  pollIntervalMs={pollIntervalMs}
                />
              </Grid>
            )}
          </EntityEnvironments>
        );
      }}
    </ModelServiceGate>
  );
}
