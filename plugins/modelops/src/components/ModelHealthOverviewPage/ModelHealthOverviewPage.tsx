import { parseEntityRef } from '@backstage/catalog-model';
import {
  Content,
  ContentHeader,
  Header,
  Link,
  Page,
  ResponseErrorPanel,
  Table,
  TableColumn,
  TableFilter,
} from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import { EntityRefLink, entityRouteRef } from '@backstage/plugin-catalog-react';
import {
  EnvironmentHealthSummary,
  HealthStatus,
  healthStatusRank,
  ServiceHealthSummary,
} from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import RefreshIcon from '@material-ui/icons/Refresh';
import { useEffect } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { modelOpsApiRef } from '../../api';
import { formatValue, HealthStatusLabel, SIGNAL_LABELS } from '../common';

/** How often the page reads the overview again (the backend shares answers for 30 s). */
export const OVERVIEW_REFRESH_MS = 60_000;

interface Row {
  id: string;
  item: ServiceHealthSummary;
  name: string;
  owner: string;
  system: string;
  lifecycle: string;
  status: HealthStatus;
  worst: string;
  p95?: number;
  mean?: number;
  errorRate?: number;
  drift?: number;
}

/** The largest value of a signal over the environments. */
function maxOf(
  envs: EnvironmentHealthSummary[],
  key: keyof EnvironmentHealthSummary['values'],
): number | undefined {
  const values = envs
    .map(e => e.values[key])
    .filter((v): v is number => typeof v === 'number');
  return values.length ? Math.max(...values) : undefined;
}

/** "prod: p95 latency" for the worst environment's worst signal, or why it is unknown. */
function worstOf(item: ServiceHealthSummary): string {
  if (item.error) return item.error.message;
  const env = [...item.environments].sort(
    (a, b) => healthStatusRank(b.status) - healthStatusRank(a.status),
  )[0];
  if (!env) return 'no environments';
  if (env.worst)
    return `${env.environment}: ${
      SIGNAL_LABELS[env.worst as keyof typeof SIGNAL_LABELS] ?? env.worst
    }`;
  if (env.status === 'unknown')
    return `${env.environment}: ${env.reason ?? 'unknown'}`;
  return '–';
}

function toRow(item: ServiceHealthSummary): Row {
  const { name } = parseEntityRef(item.entityRef);
  return {
    id: item.entityRef,
    item,
    name: item.title ?? name,
    owner: item.owner ?? '—',
    system: item.system ?? '—',
    lifecycle: item.lifecycle ?? '—',
    status: item.status,
    worst: worstOf(item),
    p95: maxOf(item.environments, 'latencyP95'),
    mean: maxOf(item.environments, 'latencyMean'),
    errorRate: maxOf(item.environments, 'errorRate'),
    drift: maxOf(item.environments, 'drift'),
  };
}

function MonitoringLink(props: { entityRef: string; children: string }) {
  const entityRoute = useRouteRef(entityRouteRef);
  const ref = parseEntityRef(props.entityRef);
  return (
    <Link
      to={`${entityRoute({
        kind: ref.kind.toLocaleLowerCase('en-US'),
        namespace: ref.namespace,
        name: ref.name,
      })}/model-monitoring`}
    >
      {props.children}
    </Link>
  );
}

const columns: TableColumn<Row>[] = [
  {
    title: 'Model service',
    field: 'name',
    highlight: true,
    render: row => <EntityRefLink entityRef={row.id}>{row.name}</EntityRefLink>,
  },
  {
    title: 'Owner',
    field: 'owner',
    render: row =>
      row.owner === '—' ? (
        row.owner
      ) : (
        <EntityRefLink entityRef={row.owner} defaultKind="group" />
      ),
  },
  { title: 'System', field: 'system' },
  { title: 'Lifecycle', field: 'lifecycle' },
  {
    title: 'Status',
    field: 'status',
    customSort: (a, b) =>
      healthStatusRank(a.status) - healthStatusRank(b.status),
    render: row => <HealthStatusLabel status={row.status} />,
  },
  {
    title: 'Environments',
    sorting: false,
    render: row => (
      <Box display="flex" flexWrap="wrap" style={{ gap: 8 }}>
        {row.item.environments.map(e => (
          <HealthStatusLabel key={e.environment} status={e.status}>
            {e.environment}
          </HealthStatusLabel>
        ))}
      </Box>
    ),
  },
  {
    title: 'Worst signal',
    field: 'worst',
    render: row => (
      <MonitoringLink entityRef={row.id}>{row.worst}</MonitoringLink>
    ),
  },
  {
    title: 'Latency',
    field: 'p95',
    type: 'numeric',
    customSort: (a, b) => (a.p95 ?? a.mean ?? -1) - (b.p95 ?? b.mean ?? -1),
    render: row => {
      if (row.p95 !== undefined)
        return `p95 ${formatValue('seconds', row.p95)}`;
      if (row.mean !== undefined)
        return `mean ${formatValue('seconds', row.mean)}`;
      return '–';
    },
  },
  {
    title: 'Error rate',
    field: 'errorRate',
    type: 'numeric',
    render: row => formatValue('ratio', row.errorRate),
  },
  {
    title: 'Max drift',
    field: 'drift',
    type: 'numeric',
    render: row => (row.drift === undefined ? '–' : row.drift.toFixed(2)),
  },
];

const filters: TableFilter[] = [
  { column: 'Owner', type: 'multiple-select' },
  { column: 'System', type: 'multiple-select' },
  { column: 'Lifecycle', type: 'multiple-select' },
  { column: 'Status', type: 'multiple-select' },
];

/**
 * Every model service the user may see, worst first: status per
 * environment, the worst signal, p95, error rate and drift, from one
 * request to the backend (which costs the same upstream at 3 services and
 * at 10,000).
 */
export function ModelHealthOverviewPage() {
  const api = useApi(modelOpsApiRef);
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.queryHealth({}),
    [api],
  );
  useEffect(() => {
    const timer = setInterval(() => retry(), OVERVIEW_REFRESH_MS);
    return () => clearInterval(timer);
  }, [retry]);
  const rows = (value?.items ?? []).map(toRow);

  return (
    <Page themeId="tool">
      <Header
        title="Model health"
        subtitle="Every model service in the catalog, worst first"
      />
      <Content>
        <ContentHeader title="Model services">
          {value && (
            <Typography variant="body2" color="textSecondary">
              Over the last {value.window}; read at{' '}
              {new Date(value.generatedAt).toLocaleTimeString()}
            </Typography>
          )}
        </ContentHeader>
        {error ? (
          <ResponseErrorPanel error={error} />
        ) : (
          <Table<Row>
            isLoading={loading && !value}
            columns={columns}
            filters={filters}
            data={rows}
            options={{
              paging: rows.length > 50,
              pageSize: 50,
              padding: 'dense',
            }}
            actions={[
              {
                icon: () => <RefreshIcon aria-label="Reload" />,
                tooltip: 'Reload',
                isFreeAction: true,
                onClick: () => retry(),
              },
            ]}
            emptyContent={
              <div style={{ padding: 16 }}>
                No model services you may see yet: register a Component with
                spec.type: model-service, or create one from the model service
                template.
              </div>
            }
          />
        )}
      </Content>
    </Page>
  );
}
