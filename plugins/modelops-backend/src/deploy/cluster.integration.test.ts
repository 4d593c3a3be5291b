/*
 * Integration tests of the cluster connection the deploy engine relies on,
 * against the real local platform: discovery, the service account's reach,
 * unreachable clusters and untrusted certificates.
 */
import { NotAllowedError, ServiceUnavailableError } from '@backstage/errors';
import { ConfigReader } from '@backstage/config';
import { ClusterClient } from '../kubernetes/ClusterClient';
import { ClusterClients } from '../kubernetes/ClusterClients';
import {
  explainSkip,
  kubectl,
  kubectlGet,
  platformAvailable,
  platformClusters,
  platformConfig,
  uniqueId,
} from './testUtils/platform';

function platformClusterConfigs() {
  return platformConfig()
    .getConfigArray('kubernetes.clusterLocatorMethods')[0]
    .getConfigArray('clusters');
}

const available = platformAvailable();
if (!available) explainSkip('cluster.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

const CLUSTER = 'dev';

jest.setTimeout(120_000);

describeIfPlatform('cluster connection against the local platform', () => {
  let clusters: ClusterClients;
  let client: ClusterClient;
  const runId = uniqueId('it-cl');
  const extraNames: Array<[string, string, string]> = []; // [ns, resource, name]

  beforeAll(() => {
    clusters = platformClusters();
    client = clusters.get(CLUSTER);
  });

  afterAll(async () => {
    for (const [ns, resource, name] of extraNames) {
      await kubectl(CLUSTER, [
        'delete',
        '-n',
        ns,
        resource,
        name,
        '--ignore-not-found',
        '--wait=false',
      ]);
    }
    clusters?.close();
  });

  it('discovers core, group and CRD kinds, and caches discovery', async () => {
    const t0 = Date.now();
    const index = await client.discover({ refresh: true });
    const first = Date.now() - t0;
    expect(index.lookup('apps/v1', 'Deployment')).toMatchObject({
      group: 'apps',
      plural: 'deployments',
      namespaced: true,
    });
    expect(index.lookup('v1', 'Service')?.plural).toBe('services');
    expect(
      index.lookup('autoscaling/v2', 'HorizontalPodAutoscaler'),
    ).toBeTruthy();
    expect(
      index.lookup('serving.kserve.io/v1beta1', 'InferenceService'),
    ).toMatchObject({ plural: 'inferenceservices', namespaced: true });
    expect(
      index.lookup('rbac.authorization.k8s.io/v1', 'ClusterRole'),
    ).toMatchObject({ namespaced: false });
    expect(index.groupsWithKind('Deployment')).toEqual(['apps']);
    const prod = await clusters.get('prod').discover();
    expect(prod.lookup('apps/v1', 'Deployment')).toBeTruthy();
    const t1 = Date.now();
    expect(await client.discover()).toBe(index);
    const cached = Date.now() - t1;
    expect(cached).toBeLessThan(5);
    // eslint-disable-next-line no-console
    console.log(`discovery: ${first} ms fresh, ${cached} ms cached`);
  });

  it('cannot write outside the namespaces the modelops service account is bound in', async () => {
    const index = await client.discover();
    const cm = index.lookup('v1', 'ConfigMap')!;
    const name = `${runId}-outside`;
    extraNames.push(['modelops-system', 'configmap', name]);
    extraNames.push(['default', 'configmap', name]);
    for (const namespace of ['modelops-system', 'default']) {
      const error = await client
        .apply(
          cm,
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name, namespace },
          },
          { fieldManager: 'backstage-modelops', force: false, dryRun: false },
        )
        .catch(e => e);
      expect(error).toBeInstanceOf(NotAllowedError);
      expect(error.message).toContain('Cluster dev refused');
      expect(await kubectlGet(CLUSTER, namespace, 'configmap', name)).toBe(
        undefined,
      );
    }
  });

  it('names the cluster and URL, never the token, when a cluster is unreachable', async () => {
    const token = platformClusterConfigs()[0].getString('serviceAccountToken');
    const broken = ClusterClients.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'gone',
                  url: 'https://127.0.0.1:1',
                  authProvider: 'serviceAccount',
                  serviceAccountToken: token,
                },
              ],
            },
          ],
        },
      }),
    );
    const error = await broken
      .get('gone')
      .discover()
      .catch(e => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toContain('Cluster gone at https://127.0.0.1:1');
    expect(error.message).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
    broken.close();
  });

  it('does not trust a cluster whose certificate is not from the configured CA', async () => {
    const [devCluster, prodCluster] = platformClusterConfigs();
    const prodCa = prodCluster.getString('caData');
    const wrongCa = ClusterClients.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'dev',
                  url: devCluster.getString('url'),
                  authProvider: 'serviceAccount',
                  serviceAccountToken: devCluster.getString(
                    'serviceAccountToken',
                  ),
                  caData: prodCa,
                },
              ],
            },
          ],
        },
      }),
    );
    const error = await wrongCa
      .get('dev')
      .discover()
      .catch(e => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toMatch(/not trusted/);
    wrongCa.close();
  });
});
