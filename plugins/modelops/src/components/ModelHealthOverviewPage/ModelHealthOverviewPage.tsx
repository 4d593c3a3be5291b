import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  Content,
  ContentHeader,
  Header,
  Page,
  ResponseErrorPanel,
  StatusOK,
  StatusWarning,
  Table,
  TableColumn,
  TableFilter,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink, catalogApiRef } from '@backstage/plugin-catalog-react';
import {
  MODEL_SERVICE_TYPE,
  readModelServiceContract,
} from '@modelops/plugin-modelops-common';
import RefreshIcon from '@material-ui/icons/Refresh';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';

interface Row {
  id: string;
  entity: Entity;
  name: string;
  owner: string;
  system: string;
  lifecycle: string;
  runtime: string;
  problems: string[];
}

const columns: TableColumn<Row>[] = [
  {
    title: 'Model service',
    field: 'name',
    highlight: true,
    render: row => <EntityRefLink entityRef={row.entity} />,
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
  { title: 'Runtime', field: 'runtime' },
  {
    title: 'Annotations',
    field: 'problems',
    render: row =>
      row.problems.length === 0 ? (
        <StatusOK>complete</StatusOK>
      ) : (
        <StatusWarning>{row.problems.join('; ')}</StatusWarning>
      ),
  },
];

const filters: TableFilter[] = [
  { column: 'Owner', type: 'multiple-select' },
  { column: 'System', type: 'multiple-select' },
  { column: 'Lifecycle', type: 'multiple-select' },
  { column: 'Runtime', type: 'multiple-select' },
];

function toRow(entity: Entity): Row {
  const contract = readModelServiceContract(entity);
  const spec = entity.spec ?? {};
  return {
    id: stringifyEntityRef(entity),
    entity,
    name: entity.metadata.title ?? entity.metadata.name,
    owner: String(spec.owner ?? '—'),
    system: String(spec.system ?? '—'),
    lifecycle: String(spec.lifecycle ?? '—'),
    runtime: contract.runtime,
    problems: contract.problems.map(p => `${p.annotation} ${p.message}`),
  };
}

/** Every model service in the catalog, filterable by owner, system and lifecycle. */
export function ModelHealthOverviewPage() {
  const catalogApi = useApi(catalogApiRef);
  const { value, loading, error, retry } = useAsyncRetry(async () => {
    const { items } = await catalogApi.getEntities({
      filter: { kind: 'Component', 'spec.type': MODEL_SERVICE_TYPE },
      order: { field: 'metadata.name', order: 'asc' },
    });
    return items.map(toRow);
  }, [catalogApi]);

  return (
    <Page themeId="tool">
      <Header
        title="Model health"
        subtitle="Every model service in the catalog"
      />
      <Content>
        <ContentHeader title="Model services" />
        {error ? (
          <ResponseErrorPanel error={error} />
        ) : (
          <Table<Row>
            isLoading={loading}
            columns={columns}
            filters={filters}
            data={value ?? []}
            options={{ paging: false, padding: 'dense' }}
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
                No model services yet: register a Component with spec.type:
                model-service, or create one from the model service template.
              </div>
            }
          />
        )}
      </Content>
    </Page>
  );
}
