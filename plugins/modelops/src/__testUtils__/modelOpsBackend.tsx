/*
 * Test helpers shared by the component tests: entity fixtures, a real
 * ModelOpsClient and an msw server that plays the ModelOps backend at the
 * HTTP edge.
 */
import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import {
  TestApiProvider,
  mockApis,
  renderInTestApp,
} from '@backstage/test-utils';
import {
  EntityEnvironmentsResponse,
  ModelOpsClient,
} from '@modelops/plugin-modelops-common';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import type { ReactElement } from 'react';
import { modelOpsApiRef } from '../api';

export const BACKEND_BASE_URL = 'http://backstage.test';
export const ENVIRONMENTS_URL = `${BACKEND_BASE_URL}/api/modelops/environments`;

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
  return setupServer();
}

/** Serves GET /environments with a fixed answer and records the requested entity refs. */
export function environmentsHandler(
  answer: EntityEnvironmentsResponse | (() => Response | Promise<Response>),
  requestedRefs: string[] = [],
) {
  return http.get(ENVIRONMENTS_URL, async ({ request }) => {
    requestedRefs.push(
      new URL(request.url).searchParams.get('entityRef') ?? '<none>',
    );
    return typeof answer === 'function' ? answer() : HttpResponse.json(answer);
  });
}

/** The real client, talking HTTP to whatever msw serves. */
export function createModelOpsClient() {
  return new ModelOpsClient({
    discoveryApi: mockApis.discovery({ baseUrl: BACKEND_BASE_URL }),
    fetchApi: { fetch: (input, init) => globalThis.fetch(input, init) },
  });
}

/** Renders an entity-scoped component in a legacy test app with the real client. */
export function renderForEntity(element: ReactElement, entity: Entity) {
  return renderInTestApp(
    <TestApiProvider apis={[[modelOpsApiRef, createModelOpsClient()]]}>
      <EntityProvider entity={entity}>{element}</EntityProvider>
    </TestApiProvider>,
  );
}
