import {
  StatusError,
  StatusOK,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { ModelOpsEnvironment } from '@modelops/plugin-modelops-common';
import Typography from '@material-ui/core/Typography';

const columns: TableColumn<ModelOpsEnvironment>[] = [
  { title: 'Environment', field: 'name', highlight: true },
  { title: 'Cluster', field: 'cluster' },
  {
    title: 'Namespace',
    field: 'namespace',
    render: env => (
      <>
        {env.namespace}
        {env.namespaceSource === 'annotation' && (
          <Typography variant="caption" display="block" color="textSecondary">
            from backstage.io/kubernetes-namespace
          </Typography>
        )}
      </>
    ),
  },
  {
    title: 'Configuration',
    field: 'error',
    render: env =>
      env.error ? (
        <StatusError>{env.error.message}</StatusError>
      ) : (
        <StatusOK>Ready to deploy</StatusOK>
      ),
  },
];

/** The environments a model service resolves to. */
export function EnvironmentsTable(props: {
  title: string;
  environments: ModelOpsEnvironment[];
}) {
  return (
    <Table<ModelOpsEnvironment>
      title={props.title}
      options={{ paging: false, search: false, padding: 'dense' }}
      columns={columns}
      data={props.environments}
      emptyContent={
        <Typography style={{ padding: 16 }}>
          No environments are configured. A platform engineer adds them under
          modelops.environments in app-config.yaml.
        </Typography>
      }
    />
  );
}
