import { ApiHolder } from '@backstage/core-plugin-api';
import {
  TestApiProvider,
  TestApiRegistry,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/test-utils';
import type { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import { ConfiguredEnvironmentsResponse } from '@modelops/plugin-modelops-common';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { modelOpsApiRef } from '../../api';
import {
  BACKEND_BASE_URL,
  backstageErrorResponse,
  createModelOpsBackend,
  createModelOpsClient,
} from '../../__testUtils__/modelOpsBackend';
import {
  EnvironmentPicker,
  environmentPickerValidation,
} from './EnvironmentPicker';

const CONFIGURED_URL = `${BACKEND_BASE_URL}/api/modelops/environments/configured`;

const configured: ConfiguredEnvironmentsResponse = {
  items: [
    { name: 'dev', cluster: 'dev-cluster', namespace: 'models' },
    { name: 'staging', cluster: 'dev-cluster', namespace: 'models-staging' },
    {
      name: 'prod',
      cluster: 'prod-eu-1',
      namespace: 'models',
      error: {
        reason: 'ClusterNotConfigured',
        message:
          'Environment "prod" uses cluster "prod-eu-1", which is not configured in kubernetes.clusterLocatorMethods',
      },
    },
  ],
};

describe('ModelOpsEnvironmentPicker (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  const answer = (body: ConfiguredEnvironmentsResponse | Response) =>
    server.use(
      http.get(CONFIGURED_URL, () =>
        body instanceof Response ? body : HttpResponse.json(body),
      ),
    );

  async function renderPicker(formData: string[] | undefined) {
    const onChange = jest.fn();
    const props = {
      formData,
      onChange,
      schema: {
        title: 'Deploy the first build to',
        description: 'Each chosen environment gets the first image',
      },
      uiSchema: {},
      rawErrors: [],
      required: true,
      idSchema: { $id: 'root_environments' },
    } as unknown as FieldExtensionComponentProps<string[]>;
    await renderInTestApp(
      <TestApiProvider apis={[[modelOpsApiRef, createModelOpsClient()]]}>
        <EnvironmentPicker {...props} />
      </TestApiProvider>,
    );
    return onChange;
  }

  it('offers the configured environments with their cluster and namespace, ticking the chosen ones', async () => {
    answer(configured);
    await renderPicker(['dev']);

    expect(await screen.findByRole('checkbox', { name: 'dev' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'staging' })).not.toBeChecked();
    expect(
      screen.getByText('Cluster dev-cluster, namespace models-staging'),
    ).toBeInTheDocument();
    expect(screen.getByText('Deploy the first build to')).toBeInTheDocument();
  });

  it('adds and removes environments, keeping configuration order', async () => {
    answer(configured);
    const onChange = await renderPicker(['staging']);

    await userEvent.click(await screen.findByRole('checkbox', { name: 'dev' }));
    expect(onChange).toHaveBeenLastCalledWith(['dev', 'staging']);
    await userEvent.click(screen.getByRole('checkbox', { name: 'staging' }));
    expect(onChange).toHaveBeenLastCalledWith([]);
  });

  it("disables an environment whose cluster isn't configured and says why", async () => {
    answer(configured);
    await renderPicker([]);

    expect(
      await screen.findByRole('checkbox', { name: 'prod' }),
    ).toBeDisabled();
    expect(
      screen.getByText(/uses cluster "prod-eu-1", which is not configured/),
    ).toBeInTheDocument();
  });

  it('says where environments come from when none is configured', async () => {
    answer({ items: [] });
    await renderPicker([]);
    expect(
      await screen.findByText(/No environments are configured/),
    ).toBeInTheDocument();
  });

  it("shows the backend's error when the environments cannot be read", async () => {
    answer(
      backstageErrorResponse({
        status: 401,
        name: 'AuthenticationError',
        message: 'Missing credentials',
        url: '/api/modelops/environments/configured',
      }),
    );
    await renderPicker([]);
    expect(
      await screen.findByText(/Could not read the ModelOps environments/),
    ).toBeInTheDocument();
  });
});

describe('ModelOpsEnvironmentPicker validation (backend simulated with msw)', () => {
  const server = createModelOpsBackend();
  registerMswTestHooks(server);

  const apiHolder: ApiHolder = TestApiRegistry.from([
    modelOpsApiRef,
    createModelOpsClient(),
  ]);

  async function errorsFor(value: string[]) {
    const errors: string[] = [];
    await environmentPickerValidation(
      value,
      { addError: (message: string) => errors.push(message) } as any,
      { apiHolder, formData: {}, schema: {} },
    );
    return errors;
  }

  beforeEach(() =>
    server.use(http.get(CONFIGURED_URL, () => HttpResponse.json(configured))),
  );

  it('accepts configured environments', async () => {
    expect(await errorsFor(['dev', 'staging'])).toEqual([]);
  });

  it('names an environment that is not configured, and what is', async () => {
    expect(await errorsFor(['dev', 'qa'])).toEqual([
      '"qa" is not a configured ModelOps environment; configured: dev, staging, prod',
    ]);
  });

  it("refuses an environment whose cluster isn't configured, with the reason", async () => {
    expect(await errorsFor(['prod'])).toEqual([
      'Environment "prod" uses cluster "prod-eu-1", which is not configured in kubernetes.clusterLocatorMethods',
    ]);
  });

  it('says when it could not ask ModelOps', async () => {
    server.use(
      http.get(CONFIGURED_URL, () =>
        backstageErrorResponse({
          status: 503,
          name: 'ServiceUnavailableError',
          message: 'down for maintenance',
          url: '/api/modelops/environments/configured',
        }),
      ),
    );
    const errors = await errorsFor(['dev']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(
      'Could not check the environments with ModelOps',
    );
  });
});
