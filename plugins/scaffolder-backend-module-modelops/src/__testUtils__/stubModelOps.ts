import { ResponseError } from '@backstage/errors';
import {
  Build,
  DeployResponse,
  EnvironmentStatus,
} from '@modelops/plugin-modelops-common';
import { ModelOpsService } from '@modelops/plugin-modelops-node';

export type StubModelOps = jest.Mocked<ModelOpsService>;

/**
 * A ModelOps service whose every method fails the test unless the test gives
 * it an implementation: it stands in for the HTTP API, which the ModelOps
 * backend and client test against real servers.
 */
export function stubModelOps(
  implementations: Partial<ModelOpsService> = {},
): StubModelOps {
  const methods: Array<keyof ModelOpsService> = [
    'getEnvironments',
    'getConfiguredEnvironments',
    'deploy',
    'rollback',
    'getDeploymentAnalysis',
    'cancelDeploymentAnalysis',
    'getDeployments',
    'getDeploymentStatus',
    'getHealth',
    'queryHealth',
    'getMetrics',
    'triggerBuild',
    'getBuilds',
    'getBuild',
    'getBuildLogs',
    'cancelBuild',
  ];
  const stub = {} as Record<string, jest.Mock>;
  for (const method of methods) {
    stub[method] = jest.fn(
      (implementations[method] as (...args: unknown[]) => unknown) ??
        (async () => {
          throw new Error(`unexpected call of ${method}`);
        }),
    );
  }
  return stub as unknown as StubModelOps;
}

/** An error answer of ModelOps, as the client surfaces it. */
function refusal(
  status: number,
  statusText: string,
  name: string,
  message: string,
): Promise<ResponseError> {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name, message },
        request: { method: 'POST', url: '/api/modelops/deployments' },
        response: { statusCode: status },
      }),
      {
        status,
        statusText,
        headers: { 'Content-Type': 'application/json' },
      },
    ),
  );
}

/** The answer ModelOps gives a user without the permission. */
export function forbidden(message: string): Promise<ResponseError> {
  return refusal(403, 'Forbidden', 'NotAllowedError', message);
}

/** The answer ModelOps gives for an entity the catalog does not have. */
export function notFound(message: string): Promise<ResponseError> {
  return refusal(404, 'Not Found', 'NotFoundError', message);
}

export function aBuild(fields: Partial<Build> = {}): Build {
  return {
    id: 'b-1',
    entityRef: 'component:default/fraud-detector',
    builder: 'buildkit',
    status: 'queued',
    source: {
      url: 'https://git.example.com/ml/fraud-detector',
      ref: 'main',
      contextPath: '.',
      dockerfile: 'Dockerfile',
    },
    image: 'registry.example.com/models/fraud-detector',
    tag: 'main-abc1234',
    requestedBy: 'user:default/ada',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

export function aDeployResponse(
  fields: Partial<DeployResponse['deployment']> = {},
  diff: DeployResponse['diff'] = [],
): DeployResponse {
  return {
    deployment: {
      id: 'd-1',
      entityRef: 'component:default/fraud-detector',
      environment: 'dev',
      cluster: 'dev',
      namespace: 'models',
      action: 'deploy',
      image: 'registry.example.com/models/fraud-detector:1.4.0',
      revision: 4,
      dryRun: false,
      result: 'succeeded',
      objects: [],
      requestedBy: 'user:default/ada',
      createdAt: '2026-01-01T00:00:00.000Z',
      ...fields,
    },
    diff,
  };
}

export function anEnvironmentStatus(
  fields: Partial<EnvironmentStatus> = {},
): EnvironmentStatus {
  return {
    environment: 'dev',
    cluster: 'dev',
    namespace: 'models',
    phase: 'Available',
    conditions: [],
    problems: [],
    ...fields,
  };
}
