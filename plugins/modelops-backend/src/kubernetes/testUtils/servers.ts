/*
 * Local servers for cluster client tests. Test-only code: real sockets on
 * 127.0.0.1, no mocks.
 */
import http from 'node:http';
import net from 'node:net';

/** One canned answer of a fake API server. */
export interface CannedAnswer {
  status: number;
  body: unknown;
  contentType?: string;
}

/** A request a fake API server received. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A local plain-HTTP server answering `"METHOD /path"` keys from `answers`
 * (404 Status otherwise), recording what it received. While `silent` is
 * true it accepts new connections and never answers them, like an API
 * server that is stopped (SIGSTOP) or a black-holed load balancer.
 */
export interface TestApiServer {
  url: string;
  answers: Record<string, CannedAnswer>;
  requests: SeenRequest[];
  /** Connections accepted so far. */
  connections: number;
  silent: boolean;
  close(): Promise<void>;
}

export async function startTestApiServer(
  options: { answers?: Record<string, CannedAnswer>; silent?: boolean } = {},
): Promise<TestApiServer> {
  const held = new Set<net.Socket>();
  const state: TestApiServer = {
    url: '',
    answers: options.answers ?? {},
    requests: [],
    connections: 0,
    silent: options.silent ?? false,
    close: async () => {},
  };
  const httpServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      state.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = state.answers[`${req.method} ${url.pathname}`] ?? {
        status: 404,
        body: {
          kind: 'Status',
          message: `${url.pathname} not found`,
          reason: 'NotFound',
          code: 404,
        },
      };
      const text =
        typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'content-type':
          answer.contentType ??
          (typeof answer.body === 'string' ? 'text/plain' : 'application/json'),
      });
      res.end(text);
    });
  });
  const server = net.createServer(socket => {
    state.connections += 1;
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('error', () => {});
    if (!state.silent) httpServer.emit('connection', socket);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>(resolve => {
      for (const socket of held) socket.destroy();
      server.close(() => resolve());
    });
  return state;
}
