import { InfoCard, StructuredMetadataTable } from '@backstage/core-components';
import {
  SLO_KEYS,
  readModelServiceContract,
} from '@modelops/plugin-modelops-common';
import Grid from '@material-ui/core/Grid';
import {
  ContractProblems,
  EntityEnvironments,
  EnvironmentsTable,
  ModelServiceGate,
} from '../common';
import { HealthSignals } from './HealthSignals';
import { MetricsCharts } from './MetricsCharts';

/** The Monitoring tab of a model service. */
export function EntityModelMonitoringContent() {
  return (
    <ModelServiceGate>
      {entity => {
        const contract = readModelServiceContract(entity);
        const slo = Object.entries(contract.slo);
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
                  <HealthSignals />
                </Grid>
                <Grid item xs={12}>
                  <MetricsCharts
                    entityRef={value.entityRef}
                    environments={value.environments.map(e => e.name)}
                  />
                </Grid>
                <Grid item xs={12} md={5}>
                  <InfoCard title="Monitoring contract">
                    <StructuredMetadataTable
                      metadata={{
                        Runtime: value.runtime,
                        'Series selector':
                          contract.metricsSelector ??
                          `derived from backstage.io/kubernetes-id=${contract.kubernetesId} and each environment's namespace`,
                        'SLO thresholds':
                          slo.length > 0
                            ? slo.map(
                                ([key, v]) =>
                                  `${key} = ${v} (${
                                    SLO_KEYS[key as keyof typeof SLO_KEYS]
                                  })`,
                              )
                            : 'platform defaults (modelops/slo not set)',
                      }}
                    />
                  </InfoCard>
                </Grid>
                <Grid item xs={12} md={7}>
                  <EnvironmentsTable
                    title="Monitored environments"
                    environments={value.environments}
                  />
                </Grid>
              </Grid>
            )}
          </EntityEnvironments>
        );
      }}
    </ModelServiceGate>
  );
}
