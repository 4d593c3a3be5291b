import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ModelOpsClient } from './ModelOpsClient';

// A real HTTP server on loopback stands in for the backend's routes.
describe('ModelOpsClient', () => {
  let server: Server;
  let baseUrl: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url!);
      if (req.url!.includes('missing')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: {
              name: 'NotFoundError',
              message: 'No entity named component:default/missing',
            },
            request: { method: 'GET', url: req.url },
            response: { statusCode: 404 },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          entityRef: 'component:default/svc',
          runtime: 'generic',
          problems: [],
          environments: [],
        }),
      );
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${
      (server.address() as AddressInfo).port
    }/api/modelops`;
  });

  afterAll(() => new Promise(resolve => server.close(resolve)));

  const client = () =>
    new ModelOpsClient({
      discoveryApi: { getBaseUrl: async id => baseUrl.replace('modelops', id) },
    });

  it('encodes the entity ref and returns the body', async () => {
    const res = await client().getEnvironments({
      entityRef: 'component:default/svc',
    });
    expect(res.entityRef).toBe('component:default/svc');
    expect(seen).toContain(
      '/api/modelops/environments?entityRef=component%3Adefault%2Fsvc',
    );
  });

  it('throws a ResponseError carrying the backend message', async () => {
    const error = await client()
      .getEnvironments({ entityRef: 'component:default/missing' })
      .catch(e => e);
    expect(error.name).toBe('ResponseError');
    expect(error.statusCode).toBe(404);
    expect(error.body.error.message).toBe(
      'No entity named component:default/missing',
    );
  });
});
