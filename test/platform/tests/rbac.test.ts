/**
 * The modelops ServiceAccount (the identity Backstage uses) can work in the
 * product namespaces and nowhere else, in both clusters.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  apiRequest,
  kubectlOk,
  STATE_DIR,
  requireUp,
  type Status,
} from './helpers.ts';

let st: Status;

before(() => {
  st = requireUp();
});

const configMap = (name: string): unknown => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data: { k: 'v' },
});

describe('modelops service account', () => {
  for (const cluster of ['dev', 'prod']) {
    test(`${cluster}: discovery works, kube-system and default are forbidden (403), models is allowed`, async () => {
      const sa = st.clusters.find(c => c.name === cluster)!.modelopsKubeconfig;
      assert.equal(
        (await apiRequest(sa, 'GET', '/apis')).status,
        200,
        'discovery /apis',
      );
      assert.equal(
        (await apiRequest(sa, 'GET', '/api/v1/namespaces/kube-system/pods'))
          .status,
        403,
        'list pods in kube-system',
      );
      assert.equal(
        (await apiRequest(sa, 'GET', '/api/v1/pods')).status,
        403,
        'list pods cluster-wide',
      );
      assert.equal(
        (await apiRequest(sa, 'GET', '/api/v1/nodes')).status,
        403,
        'list nodes',
      );
      assert.equal(
        (await apiRequest(sa, 'GET', '/api/v1/namespaces/kube-system/secrets'))
          .status,
        403,
        'read secrets',
      );
      const name = `rbac-probe-${Date.now().toString(36)}`;
      assert.equal(
        (
          await apiRequest(
            sa,
            'POST',
            '/api/v1/namespaces/default/configmaps',
            configMap(name),
          )
        ).status,
        403,
        'create in default',
      );
      assert.equal(
        (await apiRequest(sa, 'GET', '/api/v1/namespaces/models/pods')).status,
        200,
        'list pods in models',
      );
      assert.equal(
        (
          await apiRequest(
            sa,
            'GET',
            '/apis/apps/v1/namespaces/models/deployments',
          )
        ).status,
        200,
        'list deployments in models',
      );
      assert.equal(
        (
          await apiRequest(
            sa,
            'GET',
            '/apis/batch/v1/namespaces/modelops-builds/jobs',
          )
        ).status,
        200,
        'list jobs in modelops-builds',
      );
      assert.equal(
        (
          await apiRequest(
            sa,
            'GET',
            '/apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices',
          )
        ).status,
        200,
        'list inferenceservices in models',
      );
      assert.equal(
        (
          await apiRequest(
            sa,
            'POST',
            '/api/v1/namespaces/models/configmaps',
            configMap(name),
          )
        ).status,
        201,
        'create in models',
      );
      assert.equal(
        (
          await apiRequest(
            sa,
            'DELETE',
            `/api/v1/namespaces/models/configmaps/${name}`,
          )
        ).status,
        200,
        'delete in models',
      );
      assert.equal(
        (
          await apiRequest(sa, 'POST', '/api/v1/namespaces/models/secrets', {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name },
          })
        ).status,
        403,
        'secrets are not granted',
      );
      assert.equal(
        (
          await apiRequest(sa, 'POST', '/api/v1/namespaces', {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name },
          })
        ).status,
        403,
        'create namespace',
      );
    });
  }

  test('it is bound to no ClusterRole (no cluster-wide grant, never cluster-admin)', () => {
    for (const c of st.clusters) {
      const crbs = JSON.parse(
        kubectlOk(c.kubeconfig, ['get', 'clusterrolebindings', '-o', 'json']),
      ) as { items: any[] };
      const mine = crbs.items.filter(b =>
        (b.subjects ?? []).some(
          (s: any) =>
            s.kind === 'ServiceAccount' &&
            s.name === 'modelops' &&
            s.namespace === 'modelops-system',
        ),
      );
      assert.deepEqual(
        mine.map(b => b.metadata.name),
        [],
      );
    }
  });

  test('app-config.platform.yaml carries both clusters with the SA token, CA and Prometheus URL', () => {
    const text = readFileSync(
      path.join(STATE_DIR, 'app-config.platform.yaml'),
      'utf8',
    );
    for (const c of st.clusters) {
      assert.ok(
        text.includes(
          `- name: ${c.name}\n          url: ${c.server}\n          authProvider: serviceAccount\n          serviceAccountToken: `,
        ),
        `cluster ${c.name}`,
      );
      const token = /token: (\S+)/.exec(
        readFileSync(c.modelopsKubeconfig, 'utf8'),
      )![1]!;
      assert.ok(text.includes(`serviceAccountToken: ${token}`));
    }
    assert.match(text, /serviceLocatorMethod: \{ type: multiTenant \}/);
    assert.match(text, /caData: [A-Za-z0-9+/=]{100,}/);
    assert.ok(text.includes(`url: ${st.prometheus!.url}`));
    assert.match(text, /dev: \{ cluster: dev, namespace: models \}/);
    assert.match(
      text,
      /builds:\n {4}environment: dev\n {4}namespace: modelops-builds\n/,
    );
  });
});
