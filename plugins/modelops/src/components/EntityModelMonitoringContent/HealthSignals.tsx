import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import {
  EnvironmentHealth,
  SignalHealth,
} from '@modelops/plugin-modelops-common';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import {
  formatValue,
  HealthStatusLabel,
  SIGNAL_LABELS,
  useEntityHealth,
} from '../common';

const columns: TableColumn<SignalHealth>[] = [
  { title: 'Signal', render: s => SIGNAL_LABELS[s.signal] },
  {
    title: 'Status',
    render: s => <HealthStatusLabel status={s.status} />,
  },
  { title: 'Value', render: s => formatValue(s.unit, s.value) },
  {
    title: 'Warning',
    render: s =>
      s.warning === undefined ? '–' : formatValue(s.unit, s.warning),
  },
  {
    title: 'SLO',
    render: s =>
      s.critical === undefined || s.signal === 'readyRatio'
        ? '–'
        : formatValue(s.unit, s.critical),
  },
  { title: 'Note', render: s => s.detail ?? s.reason ?? '' },
];

function EnvironmentSignals(props: { env: EnvironmentHealth; window: string }) {
  const { env, window } = props;
  return (
    <Table<SignalHealth>
      title={
        <HealthStatusLabel status={env.status}>
          {`${env.environment}: ${env.status}`}
        </HealthStatusLabel>
      }
      subtitle={`${env.cluster} / ${env.namespace} · last ${window}${
        env.selector ? ` · ${env.selector}` : ''
      }`}
      options={{ paging: false, search: false, padding: 'dense' }}
      columns={columns}
      data={env.signals}
      emptyContent={
        <Typography variant="body2" style={{ padding: 16 }}>
          {env.error?.message ?? 'No signals for this environment.'}
        </Typography>
      }
    />
  );
}

/** Each environment's signals against their thresholds, from GET /health. */
export function HealthSignals() {
  const { value, loading, error } = useEntityHealth();
  if (loading && !value) return <Progress />;
  if (error)
    return (
      <InfoCard title="Health">
        <ResponseErrorPanel error={error} />
      </InfoCard>
    );
  return (
    <Grid container spacing={3}>
      {value!.environments.map(env => (
        <Grid item xs={12} lg={6} key={env.environment}>
          <EnvironmentSignals env={env} window={value!.window} />
        </Grid>
      ))}
    </Grid>
  );
}
