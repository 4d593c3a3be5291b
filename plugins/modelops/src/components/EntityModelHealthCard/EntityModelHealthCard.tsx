import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { EnvironmentHealth } from '@modelops/plugin-modelops-common';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemText from '@material-ui/core/ListItemText';
import {
  describeSignal,
  formatValue,
  HealthStatusLabel,
  ModelServiceGate,
  SIGNAL_LABELS,
  useEntityHealth,
} from '../common';

/** One environment: its status and the worst signal, or why it is unknown. */
function environmentSummary(env: EnvironmentHealth): string {
  if (env.error) return env.error.message;
  const worst = env.signals.find(s => s.signal === env.worst);
  if (worst) return describeSignal(worst);
  if (env.status === 'unknown') {
    const unknown = env.signals.find(s => s.status === 'unknown');
    return unknown
      ? `${SIGNAL_LABELS[unknown.signal]}: ${unknown.reason ?? 'unknown'}`
      : 'not judged';
  }
  const shown = env.signals.filter(s =>
    ['latencyP95', 'latencyMean', 'errorRate', 'drift'].includes(s.signal),
  );
  return `within thresholds: ${shown
    .map(s => `${SIGNAL_LABELS[s.signal]} ${formatValue(s.unit, s.value)}`)
    .join(', ')}`;
}

function HealthCardBody() {
  const { value, loading, error } = useEntityHealth();
  if (loading && !value) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  const { environments, window } = value!;
  if (environments.length === 0)
    return (
      <List dense disablePadding>
        <ListItem disableGutters>
          <ListItemText primary="No environments are configured (modelops.environments)." />
        </ListItem>
      </List>
    );
  return (
    <List dense disablePadding aria-label="Health per environment">
      {environments.map(env => (
        <ListItem disableGutters key={env.environment}>
          <ListItemText
            primary={
              <HealthStatusLabel status={env.status}>
                {`${env.environment}: ${env.status}`}
              </HealthStatusLabel>
            }
            secondary={environmentSummary(env)}
          />
        </ListItem>
      ))}
      <ListItem disableGutters>
        <ListItemText
          secondary={`Over the last ${window}. Thresholds from the service's modelops/slo and the portal's defaults.`}
        />
      </ListItem>
    </List>
  );
}

/** A card for the entity overview page of a model service: health per environment. */
export function EntityModelHealthCard() {
  return (
    <InfoCard
      title="Model health"
      deepLink={{ title: 'Monitoring', link: 'model-monitoring' }}
    >
      <ModelServiceGate>{() => <HealthCardBody />}</ModelServiceGate>
    </InfoCard>
  );
}
