/**
 * The YAML `up` writes, read back with a YAML parser (needs no platform):
 * kubeconfigs, the Backstage config, the Prometheus config, the demo workloads.
 * Also the port offset's bounds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import {
  appConfig,
  demoManifests,
  kubeconfig,
  mergedKubeconfig,
  prometheusConfig,
} from '../lib/documents.ts';
import {
  CLUSTER_PORTS,
  MAX_PORT_OFFSET,
  MIN_PORT_OFFSET,
  PROMETHEUS_PORT,
  portOffset,
} from '../ports.ts';
import { demoServices } from './helpers.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
// a token that a careless writer would emit as a YAML number
const NUMERIC_TOKEN = '123456e7';

describe('generated documents', () => {
  test('a kubeconfig names one cluster, user and context, the CA base64 on one line', () => {
    const text = kubeconfig(
      'dev',
      'https://127.0.0.1:1',
      CA,
      'kwok',
      NUMERIC_TOKEN,
    );
    assert.deepEqual(parse(text), {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'dev',
          cluster: {
            server: 'https://127.0.0.1:1',
            'certificate-authority-data': b64(CA),
          },
        },
      ],
      users: [{ name: 'kwok', user: { token: NUMERIC_TOKEN } }],
      contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'kwok' } }],
      'current-context': 'dev',
    });
    assert.ok(text.includes(`certificate-authority-data: ${b64(CA)}\n`));
  });

  test('the merged kubeconfig has a context per cluster, dev current', () => {
    const doc = parse(
      mergedKubeconfig([
        { name: 'dev', server: 'https://a', ca: CA, token: 't1' },
        { name: 'prod', server: 'https://b', ca: CA, token: 't2' },
      ]),
    ) as {
      users: { name: string; user: { token: string } }[];
      contexts: { name: string; context: { user: string } }[];
      'current-context': string;
    };
    assert.deepEqual(
      doc.users.map(u => [u.name, u.user.token]),
      [
        ['dev-admin', 't1'],
        ['prod-admin', 't2'],
      ],
    );
    assert.deepEqual(
      doc.contexts.map(c => [c.name, c.context.user]),
      [
        ['dev', 'dev-admin'],
        ['prod', 'prod-admin'],
      ],
    );
    assert.equal(doc['current-context'], 'dev');
  });

  test('the Backstage config carries each cluster, the environments and the Prometheus URL', () => {
    const doc = parse(
      appConfig([
        { name: 'dev', server: 'https://a', ca: CA, token: 'sa-dev' },
        { name: 'prod', server: 'https://b', ca: CA, token: NUMERIC_TOKEN },
      ]),
    );
    assert.deepEqual(doc, {
      kubernetes: {
        serviceLocatorMethod: { type: 'multiTenant' },
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              ['dev', 'https://a', 'sa-dev'],
              ['prod', 'https://b', NUMERIC_TOKEN],
            ].map(([name, url, serviceAccountToken]) => ({
              name,
              url,
              authProvider: 'serviceAccount',
              serviceAccountToken,
              caData: b64(CA),
              skipMetricsLookup: true,
            })),
          },
        ],
      },
      modelops: {
        environments: {
          dev: { cluster: 'dev', namespace: 'models' },
          prod: { cluster: 'prod', namespace: 'models' },
        },
        builds: { environment: 'dev', namespace: 'modelops-builds' },
        metrics: {
          prometheus: { url: `http://127.0.0.1:${PROMETHEUS_PORT}` },
        },
      },
    });
  });

  test('Prometheus scrapes every model server in both clusters with PodMonitor labels', () => {
    const services = demoServices() as Parameters<typeof prometheusConfig>[0];
    const doc = parse(
      prometheusConfig(services, {
        'dev/fraud-detector': 'fraud-detector-abc',
      }),
    ) as {
      global: Record<string, string>;
      scrape_configs: {
        job_name: string;
        static_configs: { targets: string[]; labels: Record<string, string> }[];
      }[];
    };
    assert.equal(doc.global['scrape_interval'], '5s');
    assert.deepEqual(
      doc.scrape_configs.map(j => j.job_name),
      services.map(s => `models/${s.id}`),
    );
    const first = doc.scrape_configs[0]!.static_configs;
    assert.deepEqual(first, [
      {
        targets: [`127.0.0.1:${CLUSTER_PORTS.dev.modelServerBase}`],
        labels: {
          cluster: 'dev',
          namespace: 'models',
          pod: 'fraud-detector-abc',
          container: 'model-server',
          backstage_io_kubernetes_id: services[0]!.id,
        },
      },
      {
        targets: [`127.0.0.1:${CLUSTER_PORTS.prod.modelServerBase}`],
        labels: {
          cluster: 'prod',
          namespace: 'models',
          pod: `${services[0]!.id}-0`,
          container: 'model-server',
          backstage_io_kubernetes_id: services[0]!.id,
        },
      },
    ]);
  });

  test('the demo workloads are a Deployment and a Service per service, without YAML aliases', () => {
    const services = demoServices() as Parameters<typeof demoManifests>[0];
    const text = demoManifests(services);
    assert.doesNotMatch(text, /[&*]a\d/);
    const docs = parseAllDocuments(text).map(d => d.toJS()) as {
      kind: string;
      metadata: { name: string; labels: Record<string, string> };
      spec: { template?: { metadata: { labels: Record<string, string> } } };
    }[];
    assert.deepEqual(
      docs.map(d => `${d.kind}/${d.metadata.name}`),
      services.flatMap(s => [`Deployment/${s.id}`, `Service/${s.id}`]),
    );
    const dep = docs[0]!;
    assert.deepEqual(dep.spec.template!.metadata.labels, dep.metadata.labels);
    assert.equal(
      dep.metadata.labels['app.kubernetes.io/managed-by'],
      'backstage-modelops',
    );
  });
});

describe('MODELOPS_PORT_OFFSET', () => {
  test('accepts integers in range and refuses the rest, naming the range', () => {
    assert.equal(portOffset(undefined), 0);
    assert.equal(portOffset(''), 0);
    assert.equal(portOffset('1000'), 1000);
    assert.equal(portOffset(String(MIN_PORT_OFFSET)), MIN_PORT_OFFSET);
    assert.equal(portOffset(String(MAX_PORT_OFFSET)), MAX_PORT_OFFSET);
    for (const bad of [
      'abc',
      '1.5',
      String(MAX_PORT_OFFSET + 1),
      String(MIN_PORT_OFFSET - 1),
    ]) {
      assert.throws(
        () => portOffset(bad),
        new RegExp(
          `MODELOPS_PORT_OFFSET must be an integer from ${MIN_PORT_OFFSET} to ${MAX_PORT_OFFSET}`,
        ),
        bad,
      );
    }
  });
});
