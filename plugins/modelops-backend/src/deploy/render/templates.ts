import { InputError } from '@backstage/errors';
import { BUILTIN_MANIFEST_TEMPLATES } from '@modelops/plugin-modelops-common';
import { KubeObject } from '../../kubernetes/types';
import { LABEL_KUBERNETES_ID } from '../labels';

/** Names of the built-in templates (`modelops/manifests: builtin:<name>`). */
export type BuiltinTemplate = (typeof BUILTIN_MANIFEST_TEMPLATES)[number];

/** What a built-in template needs. */
export interface BuiltinContext {
  kubernetesId: string;
  namespace: string;
  runtime: string;
}

/** The container a built-in template runs the model server in. */
export const BUILTIN_MODEL_CONTAINERS = ['model-server', 'kserve-container'];

const MODEL_PORT = 8080;

function modelServerEnv(ctx: BuiltinContext) {
  return [
    { name: 'MODEL_SERVER_HOST', value: '0.0.0.0' },
    { name: 'MODEL_SERVER_PORT', value: String(MODEL_PORT) },
    { name: 'MODEL_NAME', value: ctx.kubernetesId },
    { name: 'MODEL_RUNTIME', value: ctx.runtime },
  ];
}

const RESOURCES = {
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { cpu: '1', memory: '1Gi' },
};

const SCRAPE_ANNOTATIONS = {
  'prometheus.io/scrape': 'true',
  'prometheus.io/port': String(MODEL_PORT),
  'prometheus.io/path': '/metrics',
};

/**
 * The objects of a built-in template. `deployment`: Deployment (2 replicas,
 * probes on the Open Inference Protocol health routes, Prometheus scrape
 * annotations) + Service (80 -> 8080) + HorizontalPodAutoscaler (2-5, CPU
 * 70 %). `kserve`: one InferenceService with a custom predictor container.
 * The model container has no image: `renderManifests` sets the deploy's.
 */
export function builtinManifests(
  template: BuiltinTemplate,
  ctx: BuiltinContext,
): KubeObject[] {
  const id = ctx.kubernetesId;
  const labels = {
    'app.kubernetes.io/name': id,
    [LABEL_KUBERNETES_ID]: id,
  };
  if (template === 'kserve') {
    return [
      {
        apiVersion: 'serving.kserve.io/v1beta1',
        kind: 'InferenceService',
        metadata: { name: id, namespace: ctx.namespace, labels: { ...labels } },
        spec: {
          predictor: {
            minReplicas: 1,
            maxReplicas: 3,
            labels: { ...labels },
            annotations: { ...SCRAPE_ANNOTATIONS },
            containers: [
              {
                // KServe requires this name for a custom predictor container.
                name: 'kserve-container',
                ports: [{ containerPort: MODEL_PORT, protocol: 'TCP' }],
                env: modelServerEnv(ctx),
                resources: RESOURCES,
                readinessProbe: {
                  httpGet: { path: '/v2/health/ready', port: MODEL_PORT },
                  periodSeconds: 5,
                },
              },
            ],
          },
        },
      },
    ];
  }
  if (template !== 'deployment') {
    throw new InputError(
      `Unknown built-in template "${template}" (known: deployment, kserve)`,
    );
  }
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: id, namespace: ctx.namespace, labels: { ...labels } },
      spec: {
        replicas: 2,
        revisionHistoryLimit: 10,
        selector: { matchLabels: { [LABEL_KUBERNETES_ID]: id } },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
        },
        template: {
          metadata: {
            labels: { ...labels },
            annotations: { ...SCRAPE_ANNOTATIONS },
          },
          spec: {
            containers: [
              {
                name: 'model-server',
                ports: [
                  { name: 'http', containerPort: MODEL_PORT, protocol: 'TCP' },
                ],
                env: modelServerEnv(ctx),
                resources: RESOURCES,
                readinessProbe: {
                  httpGet: { path: '/v2/health/ready', port: 'http' },
                  initialDelaySeconds: 2,
                  periodSeconds: 5,
                  failureThreshold: 3,
                },
                livenessProbe: {
                  httpGet: { path: '/v2/health/live', port: 'http' },
                  initialDelaySeconds: 10,
                  periodSeconds: 10,
                  failureThreshold: 3,
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: id, namespace: ctx.namespace, labels: { ...labels } },
      spec: {
        selector: { [LABEL_KUBERNETES_ID]: id },
        ports: [
          { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        ],
      },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: id, namespace: ctx.namespace, labels: { ...labels } },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: id },
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: 70 },
            },
          },
        ],
      },
    },
  ];
}
