import { InfoCard, StructuredMetadataTable } from '@backstage/core-components';
import { readModelServiceContract } from '@modelops/plugin-modelops-common';
import Grid from '@material-ui/core/Grid';
import {
  ContractProblems,
  EntityEnvironments,
  EnvironmentsTable,
  ModelServiceGate,
} from '../common';

/** The Model deployment tab of a model service. */
export function EntityModelDeploymentContent() {
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
                <Grid item xs={12} md={5}>
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
                <Grid item xs={12} md={7}>
                  <EnvironmentsTable
                    title="Environments"
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
