/*
 * The whole deploy path (DeploymentService: source → render → policy →
 * reserve → apply and prune → record) against the local platform's dev
 * cluster, with a real SQLite history. Checks the cluster itself with the
 * admin kubeconfig.
 */
import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { UrlReaderService } from '@backstage/backend-plugin-api';
import { readModelServiceContract } from '@modelops/plugin-modelops-common';
import fs from 'node:fs';
import { parse } from 'yaml';
import { readModelOpsConfig } from '../config';
import { DatabaseDeploymentStore } from '../database/DatabaseDeploymentStore';
import { migrationsDir } from '../database/migrations';
import { ClusterClients } from '../kubernetes/ClusterClients';
import { DeploymentService } from '../service/DeploymentService';
import { ModelServiceTarget } from '../service/entities';
import { EnvironmentService } from '../service/EnvironmentService';
import {
  explainSkip,
  kubectl,
  kubectlGet,
  PLATFORM_CONFIG,
  platformAvailable,
  uniqueId,
  waitFor,
} from './testUtils/platform';

const available = platformAvailable();
if (!available) explainSkip('pipeline.integration.test');
const describeIfPlatform = available ? describe : describe.skip;

jest.setTimeout(180_000);

const NS = 'models';

function target(name: string): ModelServiceTarget {
  const entity: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: { 'backstage.io/kubernetes-id': name },
    },
    spec: { type: 'model-service', owner: 'group:default/team-it' },
  };
  return {
    entity,
    ref: `component:default/${name}`,
    contract: readModelServiceContract(entity),
  };
}

/** The image the seed pair names: the demo model server in the platform's registry. */
const SEED_IMAGE = 'registry.modelops.local/risk/fraud-detector:0.1.0';

/** The seed pair: a 1-replica model server on port 8080 and a LoadBalancer in front. */
function seedManifests(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: model-server
          image: ${SEED_IMAGE}
          ports:
            - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  type: LoadBalancer
  selector: { app: ${name} }
  ports:
    - port: 80
      targetPort: 8080
`;
}

function configMaps(names: string[]): string {
  return names
    .map(
      n =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${n} }\ndata: { k: v }\n`,
    )
    .join('---\n');
}

describeIfPlatform('the deploy path against the local platform', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
  const runId = uniqueId('it-pipe');
  const ids: string[] = [];
  let clusters: ClusterClients;
  let service: DeploymentService;
  let store: DatabaseDeploymentStore;

  beforeAll(async () => {
    const data = parse(fs.readFileSync(PLATFORM_CONFIG, 'utf8'));
    // As in the demo portal: dev allows inline manifests and LoadBalancers.
    // staging shares dev's cluster and namespace, to prove sets stay apart.
    data.modelops.environments.dev = {
      ...data.modelops.environments.dev,
      namespace: NS,
      allowInlineManifests: true,
      allowedServiceTypes: ['ClusterIP', 'LoadBalancer'],
    };
    data.modelops.environments.staging = {
      cluster: data.modelops.environments.dev.cluster,
      namespace: NS,
      allowInlineManifests: true,
    };
    const root = new ConfigReader(data);
    const config = readModelOpsConfig(root);
    clusters = ClusterClients.fromConfig(root);
    const knex = await databases.init('SQLITE_3');
    await knex.migrate.latest({ directory: migrationsDir });
    store = new DatabaseDeploymentStore(knex);
    service = new DeploymentService({
      config,
      environments: new EnvironmentService({
        config,
        clusters: clusters.known(),
      }),
      clusters,
      store,
      urlReader: {} as UrlReaderService, // inline manifests only
      logger: mockServices.logger.mock(),
    });
  });

  afterAll(async () => {
    for (const id of ids) {
      await kubectl('dev', [
        'delete',
        '-n',
        NS,
        'deployments,services,configmaps',
        '-l',
        `backstage.io/kubernetes-id=${id}`,
        '--ignore-not-found',
        '--wait=false',
      ]);
    }
    clusters?.close();
  });

  function newTarget(suffix: string): ModelServiceTarget {
    const name = `${runId}-${suffix}`;
    ids.push(name);
    return target(name);
  }

  const deploy = (
    t: ModelServiceTarget,
    manifests: string,
    extra: { dryRun?: boolean; prune?: boolean; environment?: string } = {},
  ) =>
    service.deploy({
      target: t,
      environment: extra.environment ?? 'dev',
      manifests,
      dryRun: extra.dryRun ?? false,
      force: false,
      prune: extra.prune,
      requestedBy: 'user:default/ada',
    });

  it('deploys a model server behind a LoadBalancer inline to dev with no image; the status shows the Service pending an address', async () => {
    const t = newTarget('seed');
    const name = t.contract.kubernetesId!;
    const result = await deploy(t, seedManifests(name));
    expect(result.deployment).toMatchObject({
      revision: 1,
      result: 'succeeded',
      image: SEED_IMAGE,
    });
    expect(result.diff.map(d => [d.kind, d.operation])).toEqual([
      ['Service', 'create'],
      ['Deployment', 'create'],
    ]);
    const live = await kubectlGet('dev', NS, 'deployment', name);
    expect(live.spec.template.spec.containers[0].image).toBe(SEED_IMAGE);
    expect((await kubectlGet('dev', NS, 'service', name)).spec.type).toBe(
      'LoadBalancer',
    );

    const dev = await waitFor('the seed to be Available', async () => {
      const status = await service.status({ target: t });
      const env = status.environments.find(e => e.environment === 'dev')!;
      return env.phase === 'Available' ? env : undefined;
    });
    expect(dev.image).toBe(SEED_IMAGE);
    expect(dev.services).toEqual([
      {
        name,
        type: 'LoadBalancer',
        addresses: [],
        pending: expect.stringContaining(
          'no load-balancer controller on cluster dev has assigned one',
        ),
      },
    ]);

    // Where the environment does not allow it, a LoadBalancer is refused.
    const prod = await service
      .deploy({
        target: t,
        environment: 'staging',
        manifests: seedManifests(`${name}-staging`),
        dryRun: true,
        force: false,
        requestedBy: 'user:default/ada',
      })
      .catch(e => e);
    expect(prod.name).toBe('InputError');
    expect(prod.message).toContain(
      'spec.type LoadBalancer is not allowed (environment "staging" allows ClusterIP Services',
    );
  });

  it('counts revisions by rollout: previews and refused attempts in between take none', async () => {
    const t = newTarget('rev');
    const first = await deploy(t, configMaps([`${t.ref.split('/')[1]}-a`]));
    expect(first.deployment.revision).toBe(1);
    const preview = await deploy(
      t,
      configMaps([`${t.contract.kubernetesId}-b`]),
      {
        dryRun: true,
      },
    );
    expect(preview.deployment).toMatchObject({ dryRun: true });
    expect(preview.deployment.revision).toBeUndefined();
    const refused = await deploy(
      t,
      `apiVersion: v1\nkind: Service\nmetadata: { name: ${t.contract.kubernetesId} }\nspec: { type: NodePort, ports: [{ port: 80 }] }\n`,
    ).catch(e => e);
    expect(refused.name).toBe('InputError');
    expect(refused.message).toContain('spec.type NodePort is not allowed');
    await deploy(t, configMaps([`${t.contract.kubernetesId}-c`]), {
      dryRun: true,
    });
    const second = await deploy(
      t,
      configMaps([`${t.contract.kubernetesId}-a`]),
    );
    expect(second.deployment.revision).toBe(2);
    expect(
      (await kubectlGet('dev', NS, 'configmap', `${t.contract.kubernetesId}-a`))
        .metadata.annotations['modelops/revision'],
    ).toBe('2');

    const history = await store.list({ entityRef: t.ref, limit: 10 });
    expect(
      history.items.map(i => [i.revision, i.dryRun, i.result]).reverse(),
    ).toEqual([
      [1, false, 'succeeded'],
      [undefined, true, 'succeeded'],
      [undefined, false, 'failed'],
      [undefined, true, 'succeeded'],
      [2, false, 'succeeded'],
    ]);
  });

  it("prunes only what the entity's set in that environment dropped, and only when asked", async () => {
    const a = newTarget('prune-a');
    const b = newTarget('prune-b');
    const id = a.contract.kubernetesId!;
    const other = b.contract.kubernetesId!;
    await deploy(a, configMaps([`${id}-keep`, `${id}-drop`]));
    await deploy(a, configMaps([`${id}-staging`]), { environment: 'staging' });
    await deploy(b, configMaps([`${other}-theirs`]));
    // An object claiming a's set but annotated as b's is never a's to delete.
    const forged = await kubectl(
      'dev',
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: `${id}-forged`,
          namespace: NS,
          labels: {
            'backstage.io/kubernetes-id': id,
            'applyset.kubernetes.io/part-of': (
              await kubectlGet('dev', NS, 'configmap', `${id}-keep`)
            ).metadata.labels['applyset.kubernetes.io/part-of'],
          },
          annotations: { 'modelops/entity-ref': b.ref },
        },
      }),
    );
    expect(forged.code).toBe(0);

    const dropped = configMaps([`${id}-keep`]);
    // Without prune nothing is listed for deletion, nor deleted.
    const plain = await deploy(a, dropped, { dryRun: true });
    expect(plain.diff.map(d => d.operation)).not.toContain('delete');

    const preview = await deploy(a, dropped, { dryRun: true, prune: true });
    expect(preview.diff.filter(d => d.operation === 'delete')).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: `${id}-drop`,
        operation: 'delete',
        changes: [],
      },
    ]);
    expect(await kubectlGet('dev', NS, 'configmap', `${id}-drop`)).toBeTruthy();

    const pruned = await deploy(a, dropped, { prune: true });
    expect(pruned.diff.map(d => [d.name, d.operation])).toEqual([
      [`${id}-keep`, 'update'], // its revision annotation
      [`${id}-drop`, 'delete'],
    ]);
    await waitFor('the dropped object to be gone', async () =>
      (await kubectlGet('dev', NS, 'configmap', `${id}-drop`))
        ? undefined
        : true,
    );
    for (const kept of [
      `${id}-keep`,
      `${id}-staging`,
      `${id}-forged`,
      `${other}-theirs`,
    ]) {
      expect(await kubectlGet('dev', NS, 'configmap', kept)).toBeTruthy();
    }
  });
});
