import { registerMswTestHooks } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { HttpResponse } from 'msw';
import {
  ENVIRONMENTS_URL,
  backstageErrorResponse,
  createModelOpsBackend,
  deploymentStatusHandler,
  deploymentTabHandlers,
  environmentsHandler,
  environmentsResponse,
  modelServiceEntity,
  renderForEntity,
  withAnnotations,
} from '../../__testUtils__/modelOpsBackend';
import { EntityModelDeploymentContent } from './EntityModelDeploymentContent';

describe('EntityModelDeploymentContent (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);
  beforeEach(() => server.use(...deploymentTabHandlers()));

  const card = (name: string) =>
    screen.getByRole('region', { name: `${name} environment` });

  it('shows progress until the backend answers, then the environments', async () => {
    let answer: () => void = () => {};
    const answered = new Promise<void>(resolve => {
      answer = resolve;
    });
    server.use(
      environmentsHandler(async () => {
        await answered;
        return HttpResponse.json(environmentsResponse);
      }),
    );

    await renderForEntity(<EntityModelDeploymentContent />, modelServiceEntity);

    expect(screen.getByTestId('progress')).toBeInTheDocument();
    expect(screen.queryByText('Environments')).not.toBeInTheDocument();

    answer();
    expect(await screen.findByText('Environments')).toBeInTheDocument();
    expect(screen.queryByTestId('progress')).not.toBeInTheDocument();
  });

  it('asks the backend for the current entity and shows contract and environments', async () => {
    const requested: string[] = [];
    server.use(environmentsHandler(environmentsResponse, requested));

    await renderForEntity(<EntityModelDeploymentContent />, modelServiceEntity);

    expect(await screen.findByText('Environments')).toBeInTheDocument();
    expect(requested).toEqual(['component:default/fraud-scorer']);

    // Contract metadata, read from the entity's annotations.
    expect(screen.getByText('Deployment contract')).toBeInTheDocument();
    expect(
      screen.getByText('backstage.io/kubernetes-id=fraud-scorer'),
    ).toBeInTheDocument();
    expect(screen.getByText('ghcr.io/acme/fraud-scorer')).toBeInTheDocument();
    expect(screen.getByText('builtin:kserve')).toBeInTheDocument();
    expect(
      screen.getByText('https://github.com/acme/fraud-scorer'),
    ).toBeInTheDocument();

    // One card per environment with cluster and namespace.
    const dev = card('dev');
    expect(within(dev).getByText('dev-cluster')).toBeInTheDocument();
    expect(within(dev).getByText('ml-fraud')).toBeInTheDocument();
    expect(
      within(dev).getByText('from backstage.io/kubernetes-namespace'),
    ).toBeInTheDocument();
    expect(within(dev).getByText('Not deployed')).toBeInTheDocument();

    // ClusterNotConfigured comes back as data and is shown as an error in that card.
    const prod = card('prod');
    expect(within(prod).getByText('prod-eu-1')).toBeInTheDocument();
    expect(
      within(prod).getByText(
        'Error: Cluster "prod-eu-1" is not configured in kubernetes.clusterLocatorMethods',
      ),
    ).toBeInTheDocument();
    expect(
      within(dev).queryByText(/is not configured/),
    ).not.toBeInTheDocument();

    // No problems: no warning panel.
    expect(
      screen.queryByText(/ModelOps annotations need attention/),
    ).not.toBeInTheDocument();
  });

  it('omits the namespace caption when the namespace comes from the environment', async () => {
    server.use(
      environmentsHandler({
        ...environmentsResponse,
        environments: [
          {
            name: 'dev',
            cluster: 'dev-cluster',
            namespace: 'models-dev',
            namespaceSource: 'environment',
          },
        ],
      }),
    );

    await renderForEntity(
      <EntityModelDeploymentContent />,
      withAnnotations({
        'backstage.io/kubernetes-namespace': undefined,
        'modelops/image': undefined,
        'modelops/build-context': undefined,
      }),
    );

    expect(await screen.findByText('models-dev')).toBeInTheDocument();
    expect(
      screen.queryByText('from backstage.io/kubernetes-namespace'),
    ).not.toBeInTheDocument();
    // Unset annotations are named, not left blank.
    expect(screen.getByText('not set (modelops/image)')).toBeInTheDocument();
    expect(
      screen.getByText('not set (modelops/build-context)'),
    ).toBeInTheDocument();
  });

  it('explains an empty environment list', async () => {
    server.use(
      environmentsHandler({ ...environmentsResponse, environments: [] }),
      deploymentStatusHandler({
        entityRef: 'component:default/fraud-scorer',
        environments: [],
      }),
    );

    await renderForEntity(<EntityModelDeploymentContent />, modelServiceEntity);

    expect(
      await screen.findByText(/No environments are configured/),
    ).toBeInTheDocument();
  });

  it('lists contract problems reported by the backend in a warning panel', async () => {
    server.use(
      environmentsHandler({
        ...environmentsResponse,
        problems: [
          {
            annotation: 'modelops/image',
            message: '"GHCR.io/Acme:latest" is not an image repository',
          },
          { annotation: 'modelops/slo', message: 'unknown key "p50"' },
        ],
      }),
    );

    await renderForEntity(<EntityModelDeploymentContent />, modelServiceEntity);

    expect(
      await screen.findByText(
        "Warning: The entity's ModelOps annotations need attention (2)",
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('"GHCR.io/Acme:latest" is not an image repository'),
    ).toBeInTheDocument();
    expect(screen.getByText('unknown key "p50"')).toBeInTheDocument();
    // The rest of the tab still renders.
    expect(screen.getByText('Environments')).toBeInTheDocument();
  });

  it('shows a backend error (500) with its message', async () => {
    server.use(
      environmentsHandler(() =>
        backstageErrorResponse({
          status: 500,
          name: 'Error',
          message: 'kubernetes config could not be read',
          url: '/api/modelops/environments',
        }),
      ),
    );

    await renderForEntity(<EntityModelDeploymentContent />, modelServiceEntity);

    expect(
      await screen.findByText(/Request failed with 500/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText('kubernetes config could not be read').length,
    ).toBeGreaterThan(0);
    expect(screen.queryByText('Environments')).not.toBeInTheDocument();
  });

  it('shows a 404 NotFoundError from the backend', async () => {
    server.use(
      environmentsHandler(() =>
        backstageErrorResponse({
          status: 404,
          name: 'NotFoundError',
          message: 'No entity named component:default/fraud-scorer',
          url: `${ENVIRONMENTS_URL}?entityRef=component%3Adefault%2Ffraud-scorer`,
        }),
      ),
    );

    await renderForEntity(<EntityModelDeploymentContent />, modelServiceEntity);

    expect(
      await screen.findByText(/Request failed with 404/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText('No entity named component:default/fraud-scorer')
        .length,
    ).toBeGreaterThan(0);
    expect(screen.getByText(/404: NotFoundError/)).toBeInTheDocument();
  });

  it('asks for backstage.io/kubernetes-id without calling the backend', async () => {
    const requested: string[] = [];
    server.use(environmentsHandler(environmentsResponse, requested));

    await renderForEntity(
      <EntityModelDeploymentContent />,
      withAnnotations({ 'backstage.io/kubernetes-id': undefined }),
    );

    expect(screen.getByText('Missing Annotation')).toBeInTheDocument();
    expect(
      screen.getAllByText(/backstage\.io\/kubernetes-id/).length,
    ).toBeGreaterThan(0);
    expect(requested).toEqual([]);
  });

  it('explains that other entities are not model services', async () => {
    const requested: string[] = [];
    server.use(environmentsHandler(environmentsResponse, requested));

    await renderForEntity(<EntityModelDeploymentContent />, {
      ...modelServiceEntity,
      spec: { ...modelServiceEntity.spec, type: 'website' },
    });

    expect(screen.getByText('Not a model service')).toBeInTheDocument();
    expect(
      screen.getByText(/Components whose spec.type is model-service/),
    ).toBeInTheDocument();
    expect(requested).toEqual([]);
  });
});
