/*
 * Test helpers shared by the component tests: entity fixtures, a real
 * ModelOpsClient and an msw server that plays the ModelOps backend at the
 * HTTP edge.
 */
import { Entity } from '@backstage/catalog-model';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  TestApiProvider,
  mockApis,
  renderInTestApp,
} from '@backstage/test-utils';
import {
  Build,
  BuildList,
  BuildLogs,
  DeploymentHistoryPage,
  DeploymentRecord,
  DeploymentStatusResponse,
  DeployRequest,
  DeployResponse,
  EntityEnvironmentsResponse,
  EnvironmentStatus,
  HealthQueryResponse,
  HealthResponse,
  MetricsResponse,
  ModelOpsClient,
} from '@modelops/plugin-modelops-common';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import type { ReactElement } from 'react';
import { modelOpsApiRef } from '../api';

export const BACKEND_BASE_URL = 'http://backstage.test';
export const ENVIRONMENTS_URL = `${BACKEND_BASE_URL}/api/modelops/environments`;
export const DEPLOYMENTS_URL = `${BACKEND_BASE_URL}/api/modelops/deployments`;
export const DEPLOYMENT_STATUS_URL = `${DEPLOYMENTS_URL}/status`;
export const ROLLBACK_URL = `${DEPLOYMENTS_URL}/:id/rollback`;
export const HEALTH_URL = `${BACKEND_BASE_URL}/api/modelops/health`;
export const HEALTH_QUERY_URL = `${HEALTH_URL}/query`;
export const METRICS_URL = `${BACKEND_BASE_URL}/api/modelops/metrics`;
export const BUILDS_URL = `${BACKEND_BASE_URL}/api/modelops/builds`;

/** A complete model service, with every ModelOps annotation set. */
export const modelServiceEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'fraud-scorer',
    namespace: 'default',
    title: 'Fraud scorer',
    annotations: {
      'backstage.io/kubernetes-id': 'fraud-scorer',
      'backstage.io/kubernetes-namespace': 'ml-fraud',
      'modelops/image': 'ghcr.io/acme/fraud-scorer',
      'modelops/manifests': 'builtin:kserve',
      'modelops/build-context': 'https://github.com/acme/fraud-scorer',
      'modelops/runtime': 'kserve',
      'modelops/slo': 'latency-p95-ms=250,error-rate=0.01',
    },
  },
  spec: {
    type: 'model-service',
    owner: 'group:default/ml-platform',
    system: 'payments',
    lifecycle: 'production',
  },
};

/** What the backend answers for {@link modelServiceEntity}. */
export const environmentsResponse: EntityEnvironmentsResponse = {
  entityRef: 'component:default/fraud-scorer',
  kubernetesId: 'fraud-scorer',
  runtime: 'kserve',
  problems: [],
  environments: [
    {
      name: 'dev',
      cluster: 'dev-cluster',
      namespace: 'ml-fraud',
      namespaceSource: 'annotation',
    },
    {
      name: 'prod',
      cluster: 'prod-eu-1',
      namespace: 'ml-fraud',
      namespaceSource: 'annotation',
      error: {
        reason: 'ClusterNotConfigured',
        message:
          'Cluster "prod-eu-1" is not configured in kubernetes.clusterLocatorMethods',
      },
    },
  ],
};

/** Returns a copy of the fixture entity with some annotations changed; `undefined` removes one. */
export function withAnnotations(
  annotations: Record<string, string | undefined>,
  entity: Entity = modelServiceEntity,
): Entity {
  const merged: Record<string, string> = {
    ...entity.metadata.annotations,
  };
  for (const [key, value] of Object.entries(annotations)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return { ...entity, metadata: { ...entity.metadata, annotations: merged } };
}

/** An error body in Backstage's standard format, as the backend's error handler writes it. */
export function backstageErrorResponse(options: {
  status: number;
  name: string;
  message: string;
  url: string;
}) {
  return HttpResponse.json(
    {
      error: { name: options.name, message: options.message },
      request: { method: 'GET', url: options.url },
      response: { statusCode: options.status },
    },
    { status: options.status },
  );
}

/** msw server for one test file; pass it to registerMswTestHooks. */
export function createModelOpsBackend() {
  // Deployments have no analysis unless a test says otherwise.
  return setupServer(
    http.get(`${DEPLOYMENTS_URL}/:id/analysis`, ({ params }) =>
      backstageErrorResponse({
        status: 404,
        name: 'NotFoundError',
        message: `Deployment ${params.id} has no analysis: it was deployed without one`,
        url: `/api/modelops/deployments/${params.id}/analysis`,
      }),
    ),
  );
}

/** The entityRef query parameter of a request, `<none>` when absent. */
function entityRefOf(request: Request): string {
  return new URL(request.url).searchParams.get('entityRef') ?? '<none>';
}

/** Serves GET /environments with a fixed answer and records the requested entity refs. */
export function environmentsHandler(
  answer: EntityEnvironmentsResponse | (() => Response | Promise<Response>),
  requestedRefs: string[] = [],
) {
  return http.get(ENVIRONMENTS_URL, async ({ request }) => {
    requestedRefs.push(entityRefOf(request));
    return typeof answer === 'function' ? answer() : HttpResponse.json(answer);
  });
}

/** Something a handler answers: a fixed value, or a function of the request. */
type Answer<TArgs extends unknown[], TValue> =
  | TValue
  | ((...args: TArgs) => TValue | Response | Promise<TValue | Response>);

async function answerWith<TArgs extends unknown[], TValue>(
  answer: Answer<TArgs, TValue>,
  ...args: TArgs
): Promise<Response> {
  const value =
    typeof answer === 'function'
      ? await (
          answer as (
            ...a: TArgs
          ) => TValue | Response | Promise<TValue | Response>
        )(...args)
      : answer;
  return value instanceof Response
    ? value
    : HttpResponse.json(value as Record<string, unknown>);
}

/** A deployment record of {@link modelServiceEntity}, with some fields changed. */
export function deploymentRecord(
  overrides: Partial<DeploymentRecord> = {},
): DeploymentRecord {
  return {
    id: 'dep-1',
    entityRef: 'component:default/fraud-scorer',
    environment: 'dev',
    cluster: 'dev-cluster',
    namespace: 'ml-fraud',
    action: 'deploy',
    image: 'ghcr.io/acme/fraud-scorer:1.4.2',
    revision: 3,
    dryRun: false,
    result: 'succeeded',
    objects: [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fraud-scorer' },
    ],
    requestedBy: 'user:default/jane.doe',
    createdAt: new Date(Date.now() - 5 * 60 * 1000).toISOString(),
    ...overrides,
  };
}

/** The live status of one environment of {@link modelServiceEntity}. */
export function environmentStatus(
  overrides: Partial<EnvironmentStatus> = {},
): EnvironmentStatus {
  return {
    environment: 'dev',
    cluster: 'dev-cluster',
    namespace: 'ml-fraud',
    phase: 'Available',
    image: 'ghcr.io/acme/fraud-scorer:1.4.2',
    revision: 3,
    replicas: { desired: 2, updated: 2, ready: 2, available: 2 },
    generation: 4,
    observedGeneration: 4,
    conditions: [
      {
        type: 'Available',
        status: 'True',
        reason: 'MinimumReplicasAvailable',
        message: 'Deployment has minimum availability.',
      },
    ],
    problems: [],
    lastDeployment: deploymentRecord(),
    ...overrides,
  };
}

/** A status answer for {@link modelServiceEntity}. */
export function statusResponse(
  environments: EnvironmentStatus[],
): DeploymentStatusResponse {
  return { entityRef: 'component:default/fraud-scorer', environments };
}

/** Nothing deployed anywhere yet. */
export const notDeployedStatus = statusResponse([
  {
    environment: 'dev',
    cluster: 'dev-cluster',
    namespace: 'ml-fraud',
    phase: 'NotDeployed',
    conditions: [],
    problems: [],
  },
  {
    environment: 'prod',
    cluster: 'prod-eu-1',
    namespace: 'ml-fraud',
    phase: 'Unknown',
    conditions: [],
    problems: [],
    error: {
      reason: 'ClusterNotConfigured',
      message:
        'Cluster "prod-eu-1" is not configured in kubernetes.clusterLocatorMethods',
    },
  },
]);

/** Serves GET /deployments/status and counts the requests. */
export function deploymentStatusHandler(
  answer: Answer<[number], DeploymentStatusResponse>,
  requests: string[] = [],
) {
  return http.get(DEPLOYMENT_STATUS_URL, ({ request }) => {
    requests.push(entityRefOf(request));
    return answerWith(answer, requests.length);
  });
}

/** Serves GET `url`, recording each request's query parameters and answering with them. */
function queryHandler<T>(
  url: string,
  answer: Answer<[URLSearchParams], T>,
  queries: URLSearchParams[],
) {
  return http.get(url, ({ request }) => {
    const query = new URL(request.url).searchParams;
    queries.push(query);
    return answerWith(answer, query);
  });
}

/** Serves GET /deployments (history) and records the query of each request. */
export function deploymentHistoryHandler(
  answer: Answer<[URLSearchParams], DeploymentHistoryPage>,
  queries: URLSearchParams[] = [],
) {
  return queryHandler(DEPLOYMENTS_URL, answer, queries);
}

/** Serves POST /deployments and records the request bodies. */
export function deployHandler(
  answer: Answer<[DeployRequest], DeployResponse>,
  bodies: DeployRequest[] = [],
) {
  return http.post(DEPLOYMENTS_URL, async ({ request }) => {
    const body = (await request.json()) as DeployRequest;
    bodies.push(body);
    return answerWith(answer, body);
  });
}

/** A recorded rollback request. */
export interface RollbackCall {
  id: string;
  body: { dryRun?: boolean; force?: boolean };
}

/** Serves POST /deployments/:id/rollback and records the calls. */
export function rollbackHandler(
  answer: Answer<[RollbackCall], DeployResponse>,
  calls: RollbackCall[] = [],
) {
  return http.post(ROLLBACK_URL, async ({ request, params }) => {
    const call = {
      id: String(params.id),
      body: (await request.json()) as RollbackCall['body'],
    };
    calls.push(call);
    return answerWith(answer, call);
  });
}

/** A health answer for {@link modelServiceEntity}: dev drifting past its SLO, prod fine. */
export const healthResponse: HealthResponse = {
  entityRef: 'component:default/fraud-scorer',
  status: 'critical',
  window: '5m',
  environments: [
    {
      environment: 'dev',
      cluster: 'dev-cluster',
      namespace: 'ml-fraud',
      status: 'critical',
      worst: 'drift',
      selector:
        '{cluster="dev-cluster",namespace="ml-fraud",backstage_io_kubernetes_id="fraud-scorer"}',
      signals: [
        {
          signal: 'requestRate',
          unit: 'requestsPerSecond',
          status: 'ok',
          value: 5.2,
        },
        {
          signal: 'errorRate',
          unit: 'ratio',
          status: 'ok',
          value: 0.002,
          warning: 0.008,
          critical: 0.01,
        },
        {
          signal: 'latencyP95',
          unit: 'seconds',
          status: 'ok',
          value: 0.118,
          warning: 0.2,
          critical: 0.25,
        },
        {
          signal: 'drift',
          unit: 'psi',
          status: 'critical',
          value: 0.31,
          warning: 0.1,
          critical: 0.2,
          detail: 'feature amount',
        },
        {
          signal: 'readyRatio',
          unit: 'ratio',
          status: 'ok',
          value: 1,
          warning: 1,
          critical: 0,
        },
      ],
    },
    {
      environment: 'prod',
      cluster: 'prod-eu-1',
      namespace: 'ml-fraud',
      status: 'ok',
      signals: [
        {
          signal: 'requestRate',
          unit: 'requestsPerSecond',
          status: 'ok',
          value: 40,
        },
        {
          signal: 'errorRate',
          unit: 'ratio',
          status: 'ok',
          value: 0,
          warning: 0.008,
          critical: 0.01,
        },
        {
          signal: 'latencyP95',
          unit: 'seconds',
          status: 'ok',
          value: 0.09,
          warning: 0.2,
          critical: 0.25,
        },
        {
          signal: 'drift',
          unit: 'psi',
          status: 'ok',
          value: 0.04,
          warning: 0.1,
          critical: 0.2,
          detail: 'predictions',
        },
        {
          signal: 'readyRatio',
          unit: 'ratio',
          status: 'ok',
          value: 1,
          warning: 1,
          critical: 0,
        },
      ],
    },
  ],
};

/** Serves GET /health and records the requested entity refs. */
export function healthHandler(
  answer: Answer<[], HealthResponse>,
  requestedRefs: string[] = [],
) {
  return http.get(HEALTH_URL, ({ request }) => {
    requestedRefs.push(entityRefOf(request));
    return answerWith(answer);
  });
}

/** An overview answer: a critical, a warning, an ok and an unknown service. */
export const healthQueryResponse: HealthQueryResponse = {
  window: '5m',
  generatedAt: '2026-12-01T10:00:00.000Z',
  items: [
    {
      entityRef: 'component:default/fraud-scorer',
      title: 'Fraud scorer',
      owner: 'group:default/ml-platform',
      system: 'payments',
      lifecycle: 'production',
      runtime: 'kserve',
      status: 'critical',
      environments: [
        {
          environment: 'dev',
          cluster: 'dev-cluster',
          namespace: 'ml-fraud',
          status: 'critical',
          worst: 'drift',
          values: {
            requestRate: 5.2,
            errorRate: 0.002,
            latencyP95: 0.12,
            drift: 0.31,
            readyRatio: 1,
          },
        },
        {
          environment: 'prod',
          cluster: 'prod-cluster',
          namespace: 'ml-fraud',
          status: 'ok',
          values: {
            requestRate: 40,
            errorRate: 0,
            latencyP95: 0.09,
            drift: 0.04,
          },
        },
      ],
    },
    {
      entityRef: 'component:default/churn-model',
      owner: 'group:default/growth',
      lifecycle: 'experimental',
      runtime: 'generic',
      status: 'warning',
      environments: [
        {
          environment: 'dev',
          cluster: 'dev-cluster',
          namespace: 'growth',
          status: 'warning',
          worst: 'latencyP95',
          values: { requestRate: 1, errorRate: 0.01, latencyP95: 0.21 },
        },
      ],
    },
    {
      entityRef: 'component:default/image-classifier',
      owner: 'group:default/vision',
      system: 'catalog-search',
      lifecycle: 'production',
      runtime: 'triton',
      status: 'ok',
      environments: [
        {
          environment: 'prod',
          cluster: 'prod-cluster',
          namespace: 'vision',
          status: 'ok',
          values: { requestRate: 3, errorRate: 0, latencyMean: 0.045 },
        },
      ],
    },
    {
      entityRef: 'component:default/ranker',
      owner: 'group:default/growth',
      lifecycle: 'experimental',
      runtime: 'kserve',
      status: 'unknown',
      environments: [
        {
          environment: 'dev',
          cluster: 'dev-cluster',
          namespace: 'growth',
          status: 'unknown',
          reason:
            'no series match {cluster="dev-cluster",namespace="growth",backstage_io_kubernetes_id="ranker"}',
          values: {},
        },
      ],
    },
  ],
};

/** Serves POST /health/query and records the request bodies. */
export function healthQueryHandler(
  answer: Answer<[], HealthQueryResponse>,
  bodies: unknown[] = [],
) {
  return http.post(HEALTH_QUERY_URL, async ({ request }) => {
    bodies.push(await request.json());
    return answerWith(answer);
  });
}

/** A range answer for dev: traffic, p95 over its SLO after a deploy, drift per feature, no class series. */
export function metricsResponse(environment = 'dev'): MetricsResponse {
  const start = Date.parse('2026-12-01T09:00:00Z') / 1000;
  const points = (f: (i: number) => number): [number, number][] =>
    Array.from({ length: 12 }, (_, i) => [start + i * 300, f(i)]);
  return {
    entityRef: 'component:default/fraud-scorer',
    environment,
    selector: `{cluster="${environment}-cluster",namespace="ml-fraud",backstage_io_kubernetes_id="fraud-scorer"}`,
    start: '2026-12-01T09:00:00.000Z',
    end: '2026-12-01T10:00:00.000Z',
    step: 15,
    signals: [
      {
        signal: 'requestRate',
        unit: 'requestsPerSecond',
        series: [{ labels: {}, points: points(() => 5) }],
      },
      {
        signal: 'errorRate',
        unit: 'ratio',
        warning: 0.008,
        critical: 0.01,
        series: [{ labels: {}, points: points(() => 0.001) }],
      },
      {
        signal: 'latencyP50',
        unit: 'seconds',
        series: [{ labels: {}, points: points(() => 0.05) }],
      },
      {
        signal: 'latencyP95',
        unit: 'seconds',
        warning: 0.2,
        critical: 0.25,
        series: [{ labels: {}, points: points(i => (i < 6 ? 0.1 : 0.4)) }],
      },
      {
        signal: 'featureDrift',
        unit: 'psi',
        warning: 0.1,
        critical: 0.2,
        series: [
          { labels: { feature: 'amount' }, points: points(() => 0.05) },
          { labels: { feature: 'country' }, points: points(() => 0.02) },
        ],
      },
      {
        signal: 'predictionDrift',
        unit: 'psi',
        warning: 0.1,
        critical: 0.2,
        series: [{ labels: {}, points: points(() => 0.01) }],
      },
      {
        signal: 'predictionsByClass',
        unit: 'requestsPerSecond',
        series: [],
        reason: `no series match {cluster="${environment}-cluster",namespace="ml-fraud",backstage_io_kubernetes_id="fraud-scorer"}`,
      },
      {
        signal: 'replicas',
        unit: 'pods',
        series: [{ labels: {}, points: points(i => (i < 6 ? 2 : 3)) }],
      },
    ],
    deploys: [
      {
        deploymentId: '0190f1a2-0000-7000-8000-000000000003',
        time: '2026-12-01T09:30:00.000Z',
        action: 'deploy',
        image: 'registry.example.com/fraud-scorer:0.1.2',
        revision: 3,
        requestedBy: 'user:default/alice',
        status: 'succeeded',
      },
    ],
  };
}

/** Serves GET /metrics and records each request's query parameters. */
export function metricsHandler(
  answer: Answer<[URLSearchParams], MetricsResponse>,
  requests: URLSearchParams[] = [],
) {
  return queryHandler(METRICS_URL, answer, requests);
}

/** A build record with realistic values; override what a test needs. */
export function buildRecord(overrides: Partial<Build> = {}): Build {
  return {
    id: '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b',
    entityRef: 'component:default/fraud-scorer',
    builder: 'buildkit',
    status: 'succeeded',
    source: {
      url: 'https://github.com/acme/fraud-scorer.git',
      ref: 'main',
      commit: '0123456789abcdef0123456789abcdef01234567',
      contextPath: '.',
      dockerfile: 'Dockerfile',
    },
    image: 'ghcr.io/acme/fraud-scorer',
    tag: '0123456789ab',
    digest: `sha256:${'ab'.repeat(32)}`,
    requestedBy: 'user:default/alice',
    createdAt: '2026-12-01T09:00:00.000Z',
    updatedAt: '2026-12-01T09:01:30.000Z',
    startedAt: '2026-12-01T09:00:05.000Z',
    finishedAt: '2026-12-01T09:01:30.000Z',
    ...overrides,
  };
}

/** Serves GET /builds (the list), GET /builds/:id, POST /builds and the log, recording triggers. */
export function buildsHandlers(options: {
  list: () => BuildList;
  logs?: (after: string | null) => BuildLogs;
  triggers?: unknown[];
  /** The answer to a trigger (default: a new queued build, 201). */
  trigger?: (body: any) => { build: Build; status: number };
}) {
  return [
    http.get(BUILDS_URL, () => HttpResponse.json(options.list())),
    http.get(`${BUILDS_URL}/:id/logs`, ({ request }) =>
      HttpResponse.json(
        (options.logs ?? (() => ({ text: '', complete: true })))(
          new URL(request.url).searchParams.get('after'),
        ),
      ),
    ),
    http.get(`${BUILDS_URL}/:id`, ({ params }) =>
      HttpResponse.json(options.list().items.find(b => b.id === params.id)),
    ),
    http.post(BUILDS_URL, async ({ request }) => {
      const body = await request.json();
      options.triggers?.push(body);
      const answer = options.trigger?.(body) ?? {
        build: buildRecord({ status: 'queued' }),
        status: 201,
      };
      return HttpResponse.json(answer.build, { status: answer.status });
    }),
  ];
}

/** The handlers the deployment tab needs besides GET /environments: quiet defaults. */
export function deploymentTabHandlers(
  options: {
    status?: DeploymentStatusResponse;
    history?: DeploymentHistoryPage;
  } = {},
) {
  return [
    deploymentStatusHandler(options.status ?? notDeployedStatus),
    deploymentHistoryHandler(options.history ?? { items: [] }),
    ...buildsHandlers({ list: () => ({ items: [] }) }),
  ];
}

/** The real client, talking HTTP to whatever msw serves. */
export function createModelOpsClient() {
  return new ModelOpsClient({
    discoveryApi: mockApis.discovery({ baseUrl: BACKEND_BASE_URL }),
    fetchApi: { fetch: (input, init) => globalThis.fetch(input, init) },
  });
}

/** What the fake permission API answers. */
export type PermissionAnswer = NonNullable<
  Parameters<typeof mockApis.permission>[0]
>['authorize'];

/**
 * Renders an entity-scoped component in a legacy test app with the real
 * client. The permission API allows everything unless told otherwise.
 */
export function renderForEntity(
  element: ReactElement,
  entity: Entity,
  options: { permission?: PermissionAnswer } = {},
) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [modelOpsApiRef, createModelOpsClient()],
        [
          permissionApiRef,
          mockApis.permission({ authorize: options.permission }),
        ],
      ]}
    >
      <EntityProvider entity={entity}>{element}</EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}
