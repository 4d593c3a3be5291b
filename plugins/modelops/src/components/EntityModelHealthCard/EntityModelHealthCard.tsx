import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
  StatusWarning,
} from '@backstage/core-components';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemText from '@material-ui/core/ListItemText';
import { ModelServiceGate, useEntityEnvironments } from '../common';

function HealthCardBody() {
  const { value, loading, error } = useEntityEnvironments();
  if (loading) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  const { problems, environments } = value!;
  return (
    <List dense disablePadding>
      <ListItem disableGutters>
        <ListItemText
          primary="Annotations"
          secondary={
            problems.length === 0 ? (
              <StatusOK>complete</StatusOK>
            ) : (
              <StatusWarning>
                {problems.map(p => `${p.annotation} ${p.message}`).join('; ')}
              </StatusWarning>
            )
          }
        />
      </ListItem>
      {environments.map(env => (
        <ListItem disableGutters key={env.name}>
          <ListItemText
            primary={`${env.name}: ${env.cluster} / ${env.namespace}`}
            secondary={
              env.error ? (
                <StatusError>{env.error.message}</StatusError>
              ) : (
                <StatusOK>configured</StatusOK>
              )
            }
          />
        </ListItem>
      ))}
      {environments.length === 0 && (
        <ListItem disableGutters>
          <ListItemText primary="No environments are configured (modelops.environments)." />
        </ListItem>
      )}
    </List>
  );
}

/** A card for the entity overview page of a model service. */
export function EntityModelHealthCard() {
  return (
    <InfoCard title="Model service">
      <ModelServiceGate>{() => <HealthCardBody />}</ModelServiceGate>
    </InfoCard>
  );
}
