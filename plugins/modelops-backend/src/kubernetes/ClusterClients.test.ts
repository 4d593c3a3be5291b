import { ConfigReader } from '@backstage/config';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { ClusterClients } from './ClusterClients';

const TOKEN = 'secret-token-value-123';

function clusters(list: object[], extraMethods: object[] = []) {
  return ClusterClients.fromConfig(
    new ConfigReader({
      kubernetes: {
        clusterLocatorMethods: [
          { type: 'config', clusters: list },
          ...extraMethods,
        ],
      },
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
});

describe('ClusterClient against a local HTTP server', () => {
  let server: http.Server;
  let url: string;
  const seenAuth: string[] = [];
  const responses: Record<string, { status: number; body: unknown }> = {
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
        resources: [
          { name: 'deployments', kind: 'Deployment', namespaced: true },
        ],
      },
    },
    'GET /apis/broken.example.com/v1': { status: 503, body: 'unavailable' },
  };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seenAuth.push(String(req.headers.authorization));
      const path = req.url!.split('?')[0];
      const answer = responses[`${req.method} ${path}`] ?? {
        status: 404,
        body: { kind: 'Status', message: `${path} not found`, code: 404 },
      };
      res.writeHead(answer.status, {
        'content-type':
          typeof answer.body === 'string' ? 'text/plain' : 'application/json',
      });
      res.end(
        typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body),
      );
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise(r => server.close(r)));

  function client() {
    return clusters([
      {
        name: 'local',
        url,
        authProvider: 'serviceAccount',
        serviceAccountToken: TOKEN,
      },
    ]).get('local');
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
    expect(seenAuth.every(a => a === `Bearer ${TOKEN}`)).toBe(true);
    // cached: no new requests
    const before = seenAuth.length;
    await c.discover();
    expect(seenAuth.length).toBe(before);
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
      responses['PATCH /api/v1/namespaces/models/configmaps/x'] = {
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
    }
    // Unrecognised answers (a proxy's redirect, a teapot) are 503s too.
    for (const status of [302, 418]) {
      responses['PATCH /api/v1/namespaces/models/configmaps/x'] = {
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
    c.close();
  });

  it('reports a write into a namespace that does not exist as a 400 naming it', async () => {
    const c = client();
    const cm = (await c.discover()).lookup('v1', 'ConfigMap')!;
    responses['PATCH /api/v1/namespaces/nope/configmaps/x'] = {
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
    responses['PATCH /api/v1/namespaces/models/configmaps/gone'] = {
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
    expect(error.message).toMatch(
      /^Cluster gone at https:\/\/127\.0\.0\.1:1 is unreachable: ECONNREFUSED/,
    );
    expect(error.message).not.toContain(TOKEN);
    c.close();
  });
});
