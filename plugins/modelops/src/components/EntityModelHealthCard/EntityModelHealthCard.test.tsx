import { registerMswTestHooks } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { HttpResponse } from 'msw';
import {
  backstageErrorResponse,
  createModelOpsBackend,
  environmentsHandler,
  environmentsResponse,
  modelServiceEntity,
  renderForEntity,
  withAnnotations,
} from '../../__testUtils__/modelOpsBackend';
import { EntityModelHealthCard } from './EntityModelHealthCard';

describe('EntityModelHealthCard (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  it('shows progress inside the card until the backend answers', async () => {
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

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    expect(screen.getByText('Model service')).toBeInTheDocument();
    expect(screen.getByTestId('progress')).toBeInTheDocument();

    answer();
    expect(
      await screen.findByText('dev: dev-cluster / ml-fraud'),
    ).toBeInTheDocument();
    expect(screen.queryByTestId('progress')).not.toBeInTheDocument();
  });

  it('lists each environment with cluster, namespace and its status', async () => {
    const requested: string[] = [];
    server.use(environmentsHandler(environmentsResponse, requested));

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    expect(
      await screen.findByText('dev: dev-cluster / ml-fraud'),
    ).toBeInTheDocument();
    expect(requested).toEqual(['component:default/fraud-scorer']);
    expect(screen.getByText('prod: prod-eu-1 / ml-fraud')).toBeInTheDocument();
    expect(screen.getByText('configured')).toBeInTheDocument();
    expect(
      screen
        .getByText(
          'Cluster "prod-eu-1" is not configured in kubernetes.clusterLocatorMethods',
        )
        .closest('[aria-label="Status error"]'),
    ).not.toBeNull();
    // Complete annotations.
    expect(screen.getByText('Annotations')).toBeInTheDocument();
    expect(screen.getByText('complete')).toBeInTheDocument();
  });

  it('summarises contract problems as a warning', async () => {
    server.use(
      environmentsHandler({
        ...environmentsResponse,
        problems: [
          { annotation: 'modelops/slo', message: 'unknown key "p50"' },
          {
            annotation: 'modelops/manifests',
            message: 'unknown built-in template "helm"',
          },
        ],
      }),
    );

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    const warning = await screen.findByText(
      'modelops/slo unknown key "p50"; modelops/manifests unknown built-in template "helm"',
    );
    expect(warning.closest('[aria-label="Status warning"]')).not.toBeNull();
    expect(screen.queryByText('complete')).not.toBeInTheDocument();
  });

  it('says when no environments are configured', async () => {
    server.use(
      environmentsHandler({ ...environmentsResponse, environments: [] }),
    );

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    expect(
      await screen.findByText(
        'No environments are configured (modelops.environments).',
      ),
    ).toBeInTheDocument();
  });

  it('shows a backend error with its message', async () => {
    server.use(
      environmentsHandler(() =>
        backstageErrorResponse({
          status: 404,
          name: 'NotFoundError',
          message: 'No entity named component:default/fraud-scorer',
          url: '/api/modelops/environments',
        }),
      ),
    );

    await renderForEntity(<EntityModelHealthCard />, modelServiceEntity);

    expect(
      await screen.findByText(/Request failed with 404/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText('No entity named component:default/fraud-scorer')
        .length,
    ).toBeGreaterThan(0);
  });

  it('asks for backstage.io/kubernetes-id when it is missing', async () => {
    const requested: string[] = [];
    server.use(environmentsHandler(environmentsResponse, requested));

    await renderForEntity(
      <EntityModelHealthCard />,
      withAnnotations({ 'backstage.io/kubernetes-id': undefined }),
    );

    expect(screen.getByText('Missing Annotation')).toBeInTheDocument();
    expect(requested).toEqual([]);
  });

  it('explains that other components are not model services', async () => {
    await renderForEntity(<EntityModelHealthCard />, {
      ...modelServiceEntity,
      spec: { ...modelServiceEntity.spec, type: 'service' },
    });

    expect(screen.getByText('Not a model service')).toBeInTheDocument();
  });
});
