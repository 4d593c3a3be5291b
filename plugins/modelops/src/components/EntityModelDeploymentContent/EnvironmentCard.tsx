import { InfoCard, Progress, WarningPanel } from '@backstage/core-components';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import {
  EnvironmentStatus,
  ModelOpsEnvironment,
  ModelOpsErrorInfo,
  ServiceStatus,
} from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { memo } from 'react';
import type { ReactNode } from 'react';
import { AnalysisPanel } from './AnalysisPanel';
import { GatedButton } from './GatedButton';
import { splitImageReference } from './imageReference';
import { PhaseStatus } from './PhaseStatus';
import { RelativeTime } from './time';
import { RolloutConditions, WorkloadProblems } from './WorkloadProblems';

function Row(props: { label: string; children: ReactNode }) {
  return (
    <TableRow>
      <TableCell
        component="th"
        scope="row"
        style={{ width: '35%', fontWeight: 500 }}
      >
        {props.label}
      </TableCell>
      <TableCell style={{ overflowWrap: 'anywhere' }}>
        {props.children}
      </TableCell>
    </TableRow>
  );
}

const NONE = '—';

/** What an environment's last deployment did, in words. */
const actionWords = {
  deploy: 'Deployed',
  rollback: 'Rolled back',
  promote: 'Promoted',
} as const;

/** Whether an error says the cluster did not answer. */
export function isUnreachable(error: ModelOpsErrorInfo): boolean {
  return (
    error.lastReachableAt !== undefined ||
    error.reason === 'ClusterUnreachable' ||
    error.reason === 'ServiceUnavailableError'
  );
}

/** When an unreachable cluster last answered. */
function LastReachable(props: { error: ModelOpsErrorInfo }) {
  const { lastReachableAt } = props.error;
  return (
    <Typography variant="body2" color="textSecondary">
      {lastReachableAt ? (
        <>
          Last reachable <RelativeTime iso={lastReachableAt} />.
        </>
      ) : (
        'Not reachable since the backend started.'
      )}
    </Typography>
  );
}

/** The workload's Services: a LoadBalancer's address, or why it has none yet. */
function Services(props: { services: ServiceStatus[] }) {
  return (
    <Box component="ul" m={0} p={0} style={{ listStyle: 'none' }}>
      {props.services.map(service => (
        <li key={service.name}>
          <code>{service.name}</code>{' '}
          {service.type !== 'LoadBalancer' && `(${service.type})`}
          {service.type === 'LoadBalancer' &&
            service.addresses.map((address, i) => (
              <span key={address}>
                {i > 0 && ', '}
                <code>{address}</code>
              </span>
            ))}
          {service.type === 'LoadBalancer' &&
            service.addresses.length === 0 && (
              <Typography
                variant="body2"
                component="span"
                color="textSecondary"
              >
                address pending{service.pending ? `: ${service.pending}` : ''}
              </Typography>
            )}
        </li>
      ))}
    </Box>
  );
}

/**
 * One environment: live rollout status, problems and the deploy actions.
 * Memoised: a status poll draws again only the environments that changed.
 */
export const EnvironmentCard = memo(function EnvironmentCardContent(props: {
  name: string;
  environment?: ModelOpsEnvironment;
  status?: EnvironmentStatus;
  /** True until the first status answer. */
  statusLoading: boolean;
  /** Set when the user may not deploy. */
  deniedReason?: string;
  /** Next environment to promote the running image to. */
  promoteTo?: string;
  onDeploy: (environment: string) => void;
  onPromote: (from: string, to: string) => void;
  /** An analysis of this environment ended: read the status again. */
  onAnalysisEnded?: () => void;
}) {
  const { name, environment, status } = props;
  const cluster = environment?.cluster ?? status?.cluster;
  const namespace = environment?.namespace ?? status?.namespace;
  const errors = [environment?.error, status?.error]
    .filter((e): e is NonNullable<typeof e> => !!e)
    .filter((e, i, all) => all.findIndex(o => o.message === e.message) === i);
  const image = status?.image ? splitImageReference(status.image) : undefined;
  const last = status?.lastDeployment;
  const deployDisabledReason =
    props.deniedReason ??
    (environment?.error
      ? `${name} cannot be deployed to: ${environment.error.message}`
      : undefined);
  const promoteDisabledReason =
    props.deniedReason ??
    (!status?.image ? `Nothing is running in ${name} to promote` : undefined);

  return (
    <Box component="section" aria-label={`${name} environment`} height="100%">
      <InfoCard
        title={name}
        titleTypographyProps={{ component: 'h3' }}
        variant="gridItem"
        action={status ? <PhaseStatus phase={status.phase} /> : undefined}
        actions={
          <>
            <GatedButton
              variant="outlined"
              color="primary"
              onClick={() => props.onDeploy(name)}
              disabledReason={deployDisabledReason}
              aria-label={`Deploy to ${name}`}
            >
              Deploy
            </GatedButton>
            {props.promoteTo && (
              <GatedButton
                variant="outlined"
                onClick={() => props.onPromote(name, props.promoteTo!)}
                disabledReason={promoteDisabledReason}
              >
                Promote to {props.promoteTo}
              </GatedButton>
            )}
          </>
        }
      >
        {errors.map(e => (
          <Box mb={1} key={e.message}>
            <WarningPanel severity="error" title={e.message} />
            {isUnreachable(e) && <LastReachable error={e} />}
          </Box>
        ))}
        <Table size="small" aria-label={`${name} rollout`}>
          <TableBody>
            <Row label="Cluster">{cluster ?? NONE}</Row>
            <Row label="Namespace">
              {namespace ?? NONE}
              {environment?.namespaceSource === 'annotation' && (
                <Typography
                  variant="caption"
                  display="block"
                  color="textSecondary"
                >
                  from backstage.io/kubernetes-namespace
                </Typography>
              )}
            </Row>
            {props.statusLoading && !status ? null : (
              <>
                <Row label="Image">
                  {image ? <code>{image.repository}</code> : NONE}
                </Row>
                <Row label={image?.digest && !image.tag ? 'Digest' : 'Tag'}>
                  {image ? (
                    <code>{image.tag ?? image.digest ?? NONE}</code>
                  ) : (
                    NONE
                  )}
                </Row>
                <Row label="Revision">{status?.revision ?? NONE}</Row>
                <Row label="Replicas">
                  {status?.replicas
                    ? `${status.replicas.ready}/${status.replicas.desired} ready`
                    : NONE}
                </Row>
                {status?.canary && (
                  <Row label="Canary">
                    <code>
                      {status.canary.image
                        ? splitImageReference(status.canary.image).tag ??
                          status.canary.image
                        : status.canary.deployments.join(', ')}
                    </code>
                    {status.canary.revision !== undefined &&
                      ` · revision ${status.canary.revision}`}
                    {status.canary.replicas &&
                      ` · ${status.canary.replicas.ready}/${status.canary.replicas.desired} ready`}
                  </Row>
                )}
                {status?.services && status.services.length > 0 && (
                  <Row label="Services">
                    <Services services={status.services} />
                  </Row>
                )}
                <Row label="Last deployment">
                  {last && last.automatic && (
                    <>
                      Rolled back automatically{' '}
                      <RelativeTime iso={last.createdAt} />
                      {last.reason && (
                        <Typography
                          variant="body2"
                          color="error"
                          display="block"
                        >
                          {last.reason}
                        </Typography>
                      )}
                    </>
                  )}
                  {last && !last.automatic && (
                    <>
                      {actionWords[last.action] ?? last.action} by{' '}
                      <EntityRefLink
                        entityRef={last.requestedBy}
                        defaultKind="user"
                      />{' '}
                      <RelativeTime iso={last.createdAt} />
                    </>
                  )}
                  {!last && NONE}
                </Row>
              </>
            )}
          </TableBody>
        </Table>
        {props.statusLoading && !status && <Progress />}
        {last && last.action !== 'rollback' && (
          <AnalysisPanel
            deploymentId={last.id}
            deniedReason={props.deniedReason}
            onEnded={props.onAnalysisEnded}
          />
        )}
        {status && (
          <>
            <WorkloadProblems problems={status.problems} />
            <RolloutConditions conditions={status.conditions} />
          </>
        )}
      </InfoCard>
    </Box>
  );
});
