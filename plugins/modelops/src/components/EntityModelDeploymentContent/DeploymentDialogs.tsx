import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { useApi } from '@backstage/core-plugin-api';
import {
  DeploymentRecord,
  DeployResponse,
  EnvironmentStatus,
  ModelOpsEnvironment,
} from '@modelops/plugin-modelops-common';
import Checkbox from '@material-ui/core/Checkbox';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormHelperText from '@material-ui/core/FormHelperText';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useCallback, useState } from 'react';
import { modelOpsApiRef } from '../../api';
import { splitImageReference, validateImageReference } from './imageReference';
import { OperationDialog, RunOperation } from './OperationDialog';
import { RelativeTime } from './time';

/** Shared props of the deployment dialogs. */
interface DialogBaseProps {
  entityRef: string;
  /** Live status per environment, to follow the rollout. */
  statusOf: (environment: string) => EnvironmentStatus | undefined;
  onApplied: (response: DeployResponse) => void;
  onClose: () => void;
}

/** Deploys an image to an environment chosen in the dialog. */
export function DeployDialog(
  props: DialogBaseProps & {
    environments: ModelOpsEnvironment[];
    initialEnvironment?: string;
    /** The image to deploy, e.g. a build's `repository@sha256:…`. */
    initialImage?: string;
    /**
     * The build `initialImage` came from: while the image is left as it is,
     * the deploy names the build, so the history says what was built.
     */
    buildId?: string;
    /** The service's image repository, from `modelops/image`. */
    imageRepository?: string;
  },
) {
  const { entityRef, environments, statusOf, imageRepository } = props;
  const api = useApi(modelOpsApiRef);
  const usable = environments.filter(e => !e.error);
  const [environment, setEnvironment] = useState(
    props.initialEnvironment ?? usable[0]?.name ?? environments[0]?.name ?? '',
  );
  const initialImage = (env: string) =>
    statusOf(env)?.image ?? imageRepository ?? '';
  const [image, setImage] = useState(
    () => props.initialImage ?? initialImage(environment),
  );
  const [imageEdited, setImageEdited] = useState(!!props.initialImage);
  const [showErrors, setShowErrors] = useState(false);
  const [prune, setPrune] = useState(false);
  /** `default`: the environment's; else the analysis length in seconds (0: none). */
  const [analysis, setAnalysis] = useState('default');
  /** `off`, else the canary's share of the pods in percent. */
  const [canary, setCanary] = useState('off');
  const canaryPercent =
    analysis !== '0' && canary !== 'off' ? Number(canary) : undefined;

  const selected = environments.find(e => e.name === environment);
  const imageError = validateImageReference(image, imageRepository);
  const otherRepository =
    !imageError &&
    imageRepository &&
    splitImageReference(image.trim()).repository !== imageRepository;

  const { buildId, initialImage: builtImage } = props;
  const run: RunOperation = useCallback(
    ({ dryRun, force }) =>
      api.deploy({
        entityRef,
        environment,
        ...(buildId && image.trim() === builtImage
          ? { buildId }
          : { image: image.trim() }),
        dryRun,
        ...(force ? { force } : {}),
        ...(prune ? { prune } : {}),
        ...(analysis !== 'default' || canaryPercent !== undefined
          ? {
              analysis: {
                ...(analysis !== 'default'
                  ? { durationSeconds: Number(analysis) }
                  : {}),
                ...(canaryPercent !== undefined ? { canaryPercent } : {}),
              },
            }
          : {}),
      }),
    [
      api,
      entityRef,
      environment,
      image,
      prune,
      buildId,
      builtImage,
      analysis,
      canaryPercent,
    ],
  );

  return (
    <OperationDialog
      title="Deploy an image"
      mode="deploy"
      run={run}
      validate={() => {
        setShowErrors(true);
        return !imageError && environment !== '';
      }}
      inputsKey={`${environment} ${image} ${prune} ${analysis} ${canaryPercent}`}
      status={statusOf(environment)}
      onApplied={props.onApplied}
      onClose={props.onClose}
    >
      {({ locked }) => (
        <>
          <TextField
            select
            id="modelops-deploy-environment"
            label="Environment"
            value={environment}
            onChange={e => {
              setEnvironment(e.target.value);
              if (!imageEdited) setImage(initialImage(e.target.value));
            }}
            SelectProps={{ native: true }}
            fullWidth
            margin="normal"
            disabled={locked}
            helperText={
              selected?.error?.message ??
              (selected
                ? `${selected.cluster} / ${selected.namespace}`
                : undefined)
            }
          >
            {environments.map(env => (
              <option key={env.name} value={env.name} disabled={!!env.error}>
                {env.name}
                {env.error ? ' (unavailable)' : ''}
              </option>
            ))}
          </TextField>
          <TextField
            id="modelops-deploy-image"
            label="Image"
            value={image}
            onChange={e => {
              setImage(e.target.value);
              setImageEdited(true);
            }}
            onBlur={() => setShowErrors(true)}
            fullWidth
            disabled={locked}
            margin="normal"
            placeholder={`${imageRepository ?? 'ghcr.io/acme/model'}:1.4.2`}
            error={showErrors && !!imageError}
            helperText={
              (showErrors && imageError) ||
              (otherRepository
                ? `This is not the service's image repository (${imageRepository}); the backend may refuse it`
                : 'Full image reference: repository:tag or repository@sha256:…')
            }
            inputProps={{ spellCheck: false }}
          />
          <TextField
            select
            id="modelops-deploy-analysis"
            label="SLO analysis"
            value={analysis}
            onChange={e => setAnalysis(e.target.value)}
            SelectProps={{ native: true }}
            fullWidth
            margin="normal"
            disabled={locked}
            helperText="Watches the new pods against the service's SLOs and rolls back by itself if they breach them"
          >
            <option value="default">The environment's default</option>
            <option value="0">None</option>
            <option value="300">5 minutes</option>
            <option value="600">10 minutes</option>
            <option value="1800">30 minutes</option>
          </TextField>
          <TextField
            select
            id="modelops-deploy-canary"
            label="Canary"
            value={analysis === '0' ? 'off' : canary}
            onChange={e => setCanary(e.target.value)}
            SelectProps={{ native: true }}
            fullWidth
            margin="normal"
            disabled={locked || analysis === '0'}
            helperText={
              analysis === '0'
                ? 'A canary is judged by its analysis: choose one to release a canary'
                : 'Runs the new image next to the current pods with this share of them first; it takes all of them only if its analysis passes (rounded to whole pods)'
            }
          >
            <option value="off">No canary: replace every pod</option>
            <option value="10">10 % of the pods</option>
            <option value="25">25 % of the pods</option>
            <option value="50">50 % of the pods</option>
          </TextField>
          <FormControlLabel
            control={
              <Checkbox
                checked={prune}
                onChange={e => setPrune(e.target.checked)}
                disabled={locked}
                color="primary"
                inputProps={{
                  'aria-describedby': 'modelops-deploy-prune-help',
                }}
              />
            }
            label="Prune objects dropped from the manifests"
          />
          <FormHelperText id="modelops-deploy-prune-help">
            Deletes the objects an earlier deploy to this environment applied
            that the manifests no longer contain. The preview lists them.
          </FormHelperText>
        </>
      )}
    </OperationDialog>
  );
}

/** Deploys the image running in one environment to another. */
export function PromoteDialog(
  props: DialogBaseProps & { from: string; to: string },
) {
  const { entityRef, from, to, statusOf } = props;
  const api = useApi(modelOpsApiRef);
  const run: RunOperation = useCallback(
    ({ dryRun, force }) =>
      api.deploy({
        entityRef,
        environment: to,
        fromEnvironment: from,
        dryRun,
        ...(force ? { force } : {}),
      }),
    [api, entityRef, from, to],
  );
  const image = statusOf(from)?.image;
  return (
    <OperationDialog
      title={`Promote ${from} to ${to}`}
      mode="confirm"
      run={run}
      status={statusOf(to)}
      onApplied={props.onApplied}
      onClose={props.onClose}
    >
      <Typography variant="body1">
        Deploys the image running in {from}
        {image ? (
          <>
            {' '}
            (<code>{image}</code>)
          </>
        ) : null}{' '}
        to {to}. Check the preview, then confirm.
      </Typography>
    </OperationDialog>
  );
}

/** Re-applies the manifests of a recorded deployment. */
export function RollbackDialog(
  props: DialogBaseProps & { record: DeploymentRecord },
) {
  const { record, statusOf } = props;
  const api = useApi(modelOpsApiRef);
  const run: RunOperation = useCallback(
    ({ dryRun, force }) =>
      api.rollback({
        deploymentId: record.id,
        dryRun,
        ...(force ? { force } : {}),
      }),
    [api, record.id],
  );
  return (
    <OperationDialog
      title={`Roll back ${record.environment} to revision ${record.revision}`}
      mode="confirm"
      run={run}
      status={statusOf(record.environment)}
      onApplied={props.onApplied}
      onClose={props.onClose}
    >
      <Typography variant="body1">
        Re-applies the manifests of revision {record.revision}
        {record.image ? (
          <>
            {' '}
            (<code>{record.image}</code>)
          </>
        ) : null}{' '}
        to {record.environment}, as deployed by{' '}
        <EntityRefLink entityRef={record.requestedBy} defaultKind="user" />{' '}
        <RelativeTime iso={record.createdAt} />. Check the preview, then
        confirm.
      </Typography>
    </OperationDialog>
  );
}
