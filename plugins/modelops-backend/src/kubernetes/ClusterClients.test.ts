import { ConfigReader } from '@backstage/config';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClusterClients } from './ClusterClients';
import { ClusterUnreachableError } from './errors';
import { clusterKubeConfig } from './kubeConfig';
import { startTestApiServer, TestApiServer } from './testUtils/servers';

const TOKEN = 'secret-token-value-123';

function clusters(
  list: object[],
  extraMethods: object[] = [],
  modelops: object = {},
) {
  return ClusterClients.fromConfig(
    new ConfigReader({
      kubernetes: {
        clusterLocatorMethods: [
          { type: 'config', clusters: list },
          ...extraMethods,
        ],
      },
      modelops,
    }),
  );
}

describe('ClusterClients', () => {
  it('lists configured clusters and names them for an unknown one', () => {
    const c = clusters(
      [
        {
          name: 'dev',
          url: 'https://127.0.0.1:1',
          authProvider: 'serviceAccount',
          serviceAccountToken: TOKEN,
        },
        {
          name: 'prod',
          url: 'https://127.0.0.1:2',
          authProvider: 'serviceAccount',
          serviceAccountToken: TOKEN,
        },
      ],
      [{ type: 'catalog' }],
    );
    expect(c.names()).toEqual(['dev', 'prod']);
    // The catalog locator may find more clusters at run time.
    expect(c.known()).toEqual({
      names: new Set(['dev', 'prod']),
      complete: false,
    });
    expect(c.get('dev')).toBe(c.get('dev'));
    let error: any;
    try {
      c.get('staging');
    } catch (e) {
      error = e;
    }
    // Platform misconfiguration, not a bad request: 503.
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toContain(
      'Cluster "staging" is not configured in kubernetes.clusterLocatorMethods',
    );
    expect(error.message).toContain('configured: dev, prod');
    expect(error.message).toContain('locator types catalog');
  });

  it('refuses clusters with an unsupported auth provider when used', () => {
    const c = clusters([
      { name: 'eks', url: 'https://127.0.0.1:1', authProvider: 'aws' },
    ]);
    expect(c.names()).toEqual(['eks']);
    expect(c.known()).toEqual({ names: new Set(['eks']), complete: true });
    expect(() => c.get('eks')).toThrow(ServiceUnavailableError);
    expect(() => c.get('eks')).toThrow(/authProvider "aws"/);
  });

  it.each(['aws', 'google', 'azure', 'oidc', 'googleServiceAccount'])(
    'refuses the cloud auth provider %s with a 503 naming it',
    provider => {
      const c = clusters([
        {
          name: 'cloud',
          url: 'https://127.0.0.1:1',
          authProvider: provider,
          serviceAccountToken: TOKEN,
        },
      ]);
      let error: any;
      try {
        c.get('cloud');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error.message).toContain(
        `Cluster cloud uses authProvider "${provider}"`,
      );
      expect(error.message).toContain('authProvider: serviceAccount');
      expect(error.message).not.toContain(TOKEN);
    },
  );

  it('refuses plain http without skipTLSVerify, and a CA file it cannot read', () => {
    const c = clusters([
      {
        name: 'plain',
        url: 'http://127.0.0.1:1',
        authProvider: 'serviceAccount',
        serviceAccountToken: TOKEN,
      },
      {
        name: 'noca',
        url: 'https://127.0.0.1:1',
        authProvider: 'serviceAccount',
        serviceAccountToken: TOKEN,
        caFile: '/nonexistent/ca.crt',
      },
    ]);
    expect(() => c.get('plain')).toThrow(ServiceUnavailableError);
    expect(() => c.get('plain')).toThrow(
      /plain http:\/\/ url .*skipTLSVerify: true/,
    );
    expect(() => c.get('noca')).toThrow(
      /Cluster noca: cannot read caFile \/nonexistent\/ca\.crt/,
    );
  });

  it('reads the request timeout and cool-down from modelops.kubernetes', () => {
    expect(() =>
      clusters([], [], { kubernetes: { requestTimeoutMs: -1 } }),
    ).toThrow(/modelops\.kubernetes\.requestTimeoutMs: must be a positive/);
  });
});

describe('clusterKubeConfig', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelops-kc-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds a KubeConfig with the token, CA data and TLS setting', () => {
    const caData = Buffer.from('-----BEGIN CERTIFICATE-----').toString(
      'base64',
    );
    const entry = clusterKubeConfig(
      new ConfigReader({
        name: 'dev',
        url: 'https://10.0.0.1:6443',
        authProvider: 'serviceAccount',
        serviceAccountToken: TOKEN,
        caData,
      }),
    );
    if (entry.kind !== 'ok') throw new Error(entry.message);
    const kc = entry.kubeConfig;
    expect(kc.getCurrentCluster()).toMatchObject({
      name: 'dev',
      server: 'https://10.0.0.1:6443',
      caData,
      skipTLSVerify: false,
    });
    expect(kc.getCurrentUser()).toMatchObject({ token: TOKEN });
  });

  it('uses a CA file, and the mounted token file when no token is configured', () => {
    const tokenPath = path.join(tmp, 'token');
    const caPath = path.join(tmp, 'ca.crt');
    fs.writeFileSync(tokenPath, 'from-file');
    fs.writeFileSync(caPath, 'pem');
    const entry = clusterKubeConfig(
      new ConfigReader({
        name: 'incluster',
        url: 'https://kubernetes.default.svc',
        authProvider: 'serviceAccount',
        skipTLSVerify: true,
      }),
      { tokenPath, caPath },
    );
    if (entry.kind !== 'ok') throw new Error(entry.message);
    expect(entry.kubeConfig.getCurrentCluster()).toMatchObject({
      caFile: caPath,
      skipTLSVerify: true,
    });
    expect(entry.kubeConfig.getCurrentUser()).toMatchObject({
      authProvider: { name: 'tokenFile', config: { tokenFile: tokenPath } },
    });
    expect(entry.kubeConfig.getCurrentUser()?.token).toBeUndefined();

    const missing = clusterKubeConfig(
      new ConfigReader({
        name: 'outside',
        url: 'https://10.0.0.1',
        authProvider: 'serviceAccount',
      }),
      { tokenPath: path.join(tmp, 'absent') },
    );
    expect(missing).toMatchObject({ kind: 'unsupported' });
    expect(missing.kind === 'unsupported' && missing.message).toMatch(
      /Cluster outside has no serviceAccountToken .*set serviceAccountToken for cluster outside/,
    );
  });
});

describe('ClusterClient against a local API server', () => {
  let server: TestApiServer;

  const discoveryAnswers = () => ({
    'GET /api': {
      status: 200,
      body: { kind: 'APIVersions', versions: ['v1'] },
    },
    'GET /apis': {
      status: 200,
      body: {
        kind: 'APIGroupList',
        groups: [
          {
            name: 'apps',
            versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
          },
          {
            name: 'broken.example.com',
            versions: [
              { groupVersion: 'broken.example.com/v1', version: 'v1' },
            ],
            preferredVersion: { groupVersion: 'broken.example.com/v1' },
          },
        ],
      },
    },
    'GET /api/v1': {
      status: 200,
      body: {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          {
            name: 'configmaps',
            kind: 'ConfigMap',
            namespaced: true,
            verbs: ['get'],
          },
          { name: 'pods/log', kind: 'Pod', namespaced: true },
          { name: 'namespaces', kind: 'Namespace', namespaced: false },
        ],
      },
    },
    'GET /apis/apps/v1': {
      status: 200,
      body: {
        kind: 'APIResourceList',
        groupVersion: 'apps/v1',
        resources: [
          { name: 'deployments', kind: 'Deployment', namespaced: true },
        ],
      },
    },
    'GET /apis/broken.example.com/v1': { status: 503, body: 'unavailable' },
  });

  beforeEach(async () => {
    server = await startTestApiServer({ answers: discoveryAnswers() });
  });
  afterEach(() => server.close());

  function client(modelops: object = {}) {
    return clusters(
      [
        {
          name: 'local',
          url: server.url,
          authProvider: 'serviceAccount',
          serviceAccountToken: TOKEN,
          skipTLSVerify: true,
        },
      ],
      [],
      modelops,
    ).get('local');
  }

  it('falls back to per-group discovery and skips unavailable groups', async () => {
    const c = client();
    const index = await c.discover();
    expect(index.lookup('v1', 'ConfigMap')).toMatchObject({
      plural: 'configmaps',
      namespaced: true,
    });
    expect(index.lookup('apps/v1', 'Deployment')).toMatchObject({
      group: 'apps',
      preferred: true,
    });
    expect(index.lookup('v1', 'Pod')).toBeUndefined(); // subresources are not kinds
    expect(index.lookup('v1', 'Namespace')?.namespaced).toBe(false);
    expect(
      server.requests.every(r => r.headers.authorization === `Bearer ${TOKEN}`),
    ).toBe(true);
    // cached: no new requests
    const before = server.requests.length;
    expect(await c.discover()).toBe(index);
    expect(server.requests.length).toBe(before);
    // one keep-alive connection pool, not a connection per request
    expect(server.connections).toBeLessThan(server.requests.length);
    expect(c.lastReachableAt).toBeDefined();
    c.close();
  });

  it('uses aggregated discovery when the server has it', async () => {
    const aggregated = (items: object[]) => ({
      status: 200,
      contentType:
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
      body: { kind: 'APIGroupDiscoveryList', items },
    });
    server.answers['GET /api'] = aggregated([
      {
        metadata: { name: '' },
        versions: [
          {
            version: 'v1',
            resources: [
              {
                resource: 'configmaps',
                responseKind: { kind: 'ConfigMap' },
                scope: 'Namespaced',
                verbs: ['get', 'patch'],
              },
            ],
          },
        ],
      },
    ]);
    server.answers['GET /apis'] = aggregated([
      {
        metadata: { name: 'serving.knative.dev' },
        versions: [
          {
            version: 'v1',
            resources: [
              {
                resource: 'services',
                responseKind: { kind: 'Service' },
                scope: 'Namespaced',
              },
            ],
          },
        ],
      },
    ]);
    const c = client();
    const index = await c.discover();
    expect(index.lookup('serving.knative.dev/v1', 'Service')).toMatchObject({
      plural: 'services',
      preferred: true,
    });
    expect(index.lookup('v1', 'ConfigMap')?.verbs).toEqual(['get', 'patch']);
    expect(server.requests.map(r => r.path)).toEqual(['/api', '/apis']);
    expect(String(server.requests[0].headers.accept)).toContain(
      'as=APIGroupDiscoveryList',
    );
    c.close();
  });

  it('server-side applies the object as given: field manager, force, dry run', async () => {
    const c = client();
    const deployments = (await c.discover()).lookup('apps/v1', 'Deployment')!;
    const object = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'm', namespace: 'models', labels: { a: 'b' } },
      // Fields client-node's typed models do not know must reach the server.
      spec: { replicas: 2, notAField: true },
    };
    const stored = { ...object, metadata: { ...object.metadata, uid: 'u1' } };
    server.answers['PATCH /apis/apps/v1/namespaces/models/deployments/m'] = {
      status: 200,
      body: {
        ...stored,
        metadata: {
          ...stored.metadata,
          creationTimestamp: '2026-01-01T00:00:00Z',
        },
      },
    };
    const result = await c.apply(deployments, object, {
      fieldManager: 'backstage-modelops',
      force: true,
      dryRun: true,
    });
    const sent = server.requests.find(r => r.method === 'PATCH')!;
    expect(sent.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(Object.fromEntries(sent.query)).toEqual({
      fieldManager: 'backstage-modelops',
      force: 'true',
      dryRun: 'All',
      fieldValidation: 'Strict',
    });
    expect(JSON.parse(sent.body)).toEqual(object);
    // The answer as the server sent it: timestamps stay strings.
    expect(result.metadata.creationTimestamp).toBe('2026-01-01T00:00:00Z');
    expect((result as any).spec.notAField).toBe(true);

    await c.apply(deployments, object, {
      fieldManager: 'backstage-modelops',
      force: false,
      dryRun: false,
    });
    const second = server.requests.filter(r => r.method === 'PATCH')[1];
    expect(second.query.get('dryRun')).toBeNull();
    expect(second.query.get('force')).toBe('false');

    server.answers['GET /apis/apps/v1/namespaces/models/deployments'] = {
      status: 200,
      body: { kind: 'DeploymentList', items: [{ metadata: { name: 'm' } }] },
    };
    const listed = await c.list(deployments, 'models', {
      labelSelector: 'a=b',
    });
    expect(listed).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'm' } },
    ]);
    expect(server.requests.at(-1)!.query.get('labelSelector')).toBe('a=b');
    c.close();
  });

  it('maps API errors to @backstage/errors naming the cluster', async () => {
    const c = client();
    const cm = (await c.discover()).lookup('v1', 'ConfigMap')!;
    const cases: Array<[number, any]> = [
      [400, InputError],
      [422, InputError],
      [403, NotAllowedError],
      [409, ConflictError],
      [503, ServiceUnavailableError],
      [401, ServiceUnavailableError],
    ];
    for (const [status, type] of cases) {
      server.answers['PATCH /api/v1/namespaces/models/configmaps/x'] = {
        status,
        body: { kind: 'Status', message: `nope ${status}`, code: status },
      };
      const error = await c
        .apply(
          cm,
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'x', namespace: 'models' },
          },
          {
            fieldManager: 'm',
            force: false,
            dryRun: true,
          },
        )
        .catch(e => e);
      expect(error).toBeInstanceOf(type);
      expect(error.message).toContain('local');
      expect(error.message).not.toContain(TOKEN);
      expect(error.message).toContain(
        status === 401 ? 'HTTP 401' : `nope ${status}`,
      );
    }
    // Unrecognised answers (a proxy's redirect, a teapot) are 503s too.
    for (const status of [302, 418]) {
      server.answers['PATCH /api/v1/namespaces/models/configmaps/x'] = {
        status,
        body: '<html>moved</html>',
      };
      const error = await c
        .apply(
          cm,
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'x', namespace: 'models' },
          },
          { fieldManager: 'm', force: false, dryRun: false },
        )
        .catch(e => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error.message).toContain(`Cluster local answered HTTP ${status}`);
      expect(error.message).toContain('kubernetes.clusterLocatorMethods');
    }
    expect(await c.get(cm, 'models', 'missing')).toBeUndefined();
    expect(await c.delete(cm, 'models', 'missing')).toBe(false);
    server.answers['DELETE /api/v1/namespaces/models/configmaps/there'] = {
      status: 200,
      body: { kind: 'Status', status: 'Success' },
    };
    expect(await c.delete(cm, 'models', 'there')).toBe(true);
    expect(server.requests.at(-1)!.query.get('propagationPolicy')).toBe(
      'Background',
    );
    c.close();
  });

  it('reports a write into a namespace that does not exist as a 400 naming it', async () => {
    const c = client();
    const cm = (await c.discover()).lookup('v1', 'ConfigMap')!;
    server.answers['PATCH /api/v1/namespaces/nope/configmaps/x'] = {
      status: 404,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: 'namespaces "nope" not found',
        reason: 'NotFound',
        details: { name: 'nope', kind: 'namespaces' },
        code: 404,
      },
    };
    const error = await c
      .apply(
        cm,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'x', namespace: 'nope' },
        },
        { fieldManager: 'm', force: false, dryRun: true },
      )
      .catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(
      'namespace "nope" does not exist on cluster local',
    );
    // Any other 404 stays a NotFoundError.
    server.answers['PATCH /api/v1/namespaces/models/configmaps/gone'] = {
      status: 404,
      body: {
        kind: 'Status',
        message: 'the server could not find the requested resource',
        reason: 'NotFound',
        code: 404,
      },
    };
    const other = await c
      .apply(
        cm,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'gone', namespace: 'models' },
        },
        { fieldManager: 'm', force: false, dryRun: true },
      )
      .catch(e => e);
    expect(other).toBeInstanceOf(NotFoundError);
    c.close();
  });

  it('reports an unreachable cluster with its name and URL only', async () => {
    const c = clusters([
      {
        name: 'gone',
        url: 'https://127.0.0.1:1',
        authProvider: 'serviceAccount',
        serviceAccountToken: TOKEN,
      },
    ]).get('gone');
    const error = await c.discover().catch(e => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.name).toBe('ServiceUnavailableError');
    expect(error.message).toMatch(
      /^Cluster gone at https:\/\/127\.0\.0\.1:1 is unreachable: ECONNREFUSED/,
    );
    expect(error.message).toContain(
      'it has not answered since the backend started',
    );
    expect(error.lastReachableAt).toBeUndefined();
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    c.close();
  });

  it('gives up on a cluster that accepts connections and never answers, then fails fast until a probe is answered', async () => {
    const c = client({
      kubernetes: { requestTimeoutMs: 300, unreachableCooldownMs: 800 },
    });
    // Reachable once, so errors can say when it last answered.
    const cm = (await c.discover()).lookup('v1', 'ConfigMap')!;
    const reachableAt = c.lastReachableAt!;
    c.close(); // no pooled connection: the next ones meet the silent server
    server.silent = true;

    let started = Date.now();
    const first = await c.get(cm, 'models', 'x').catch(e => e);
    const firstMs = Date.now() - started;
    expect(first).toBeInstanceOf(ClusterUnreachableError);
    expect(first).toBeInstanceOf(ServiceUnavailableError);
    expect(first.name).toBe('ServiceUnavailableError');
    expect(first.message).toContain(
      `Cluster local at ${server.url} is unreachable: no answer within 300 ms`,
    );
    expect(first.message).toContain(`it last answered at ${reachableAt}`);
    expect(first.lastReachableAt).toBe(reachableAt);
    expect(firstMs).toBeGreaterThanOrEqual(250);
    expect(firstMs).toBeLessThan(2000);

    // Cooling down: fails at once, without a new connection.
    const connections = server.connections;
    started = Date.now();
    const fast = await Promise.all([
      c.list(cm, 'models').catch(e => e),
      c.discover({ refresh: true }).catch(e => e),
    ]);
    expect(Date.now() - started).toBeLessThan(100);
    for (const error of fast) {
      expect(error).toBeInstanceOf(ClusterUnreachableError);
      expect(error.message).toMatch(
        /is unreachable: no answer within 300 ms \(\d+ s ago; ModelOps tries again after /,
      );
      expect(error.lastReachableAt).toBe(reachableAt);
    }
    expect(server.connections).toBe(connections);

    // After the cool-down one probe goes out; still silent, so it fails too.
    await new Promise(r => setTimeout(r, 850));
    started = Date.now();
    const probed = await Promise.all([
      c.get(cm, 'models', 'x').catch(e => e),
      c.get(cm, 'models', 'y').catch(e => e),
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.connections).toBe(connections + 1);
    for (const error of probed) {
      expect(error).toBeInstanceOf(ClusterUnreachableError);
    }

    // The cluster answers again: the probe after the next cool-down succeeds.
    server.silent = false;
    await new Promise(r => setTimeout(r, 850));
    const before = server.requests.length;
    expect(await c.get(cm, 'models', 'x')).toBeUndefined();
    expect(server.requests.slice(before).map(r => r.path)).toEqual([
      '/version',
      '/api/v1/namespaces/models/configmaps/x',
    ]);
    expect(c.lastReachableAt! > reachableAt).toBe(true);
    c.close();
  });

  it('times out a TLS handshake that never completes', async () => {
    server.silent = true;
    const c = clusters(
      [
        {
          name: 'stalled',
          url: server.url.replace('http:', 'https:'),
          authProvider: 'serviceAccount',
          serviceAccountToken: TOKEN,
        },
      ],
      [],
      { kubernetes: { requestTimeoutMs: 300 } },
    ).get('stalled');
    const started = Date.now();
    const error = await c.discover().catch(e => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(ClusterUnreachableError);
    expect(error.message).toMatch(
      /^Cluster stalled at https:\/\/127\.0\.0\.1:\d+ is unreachable: no answer within 300 ms/,
    );
    expect(error.message).not.toContain(TOKEN);
    c.close();
  });
});
