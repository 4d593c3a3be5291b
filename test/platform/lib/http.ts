/** Loopback HTTP(S) probes and port checks. */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { HOST } from '../ports.ts';

export interface Probe {
  status: number;
  body: string;
}

export interface ProbeOptions {
  ca?: string;
  token?: string;
  insecure?: boolean;
  timeoutMs?: number;
}

/** GET over http(s) with an optional CA and bearer token; rejects on network errors. */
export function probe(url: string, opts: ProbeOptions = {}): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      {
        method: 'GET',
        ca: opts.ca,
        rejectUnauthorized: !opts.insecure,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        timeout: opts.timeoutMs ?? 3000,
        agent: false,
      },
      res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Like probe(), but true only for HTTP 200; any other answer throws so waitReady can report it. */
export async function httpOk(
  url: string,
  opts: Omit<ProbeOptions, 'timeoutMs'> & { bodyIncludes?: string } = {},
): Promise<boolean> {
  const r = await probe(url, opts);
  if (
    r.status !== 200 ||
    (opts.bodyIncludes && !r.body.includes(opts.bodyIncludes))
  ) {
    throw new Error(
      `GET ${url} answered HTTP ${r.status}: ${r.body.trim().slice(0, 120)}`,
    );
  }
  return true;
}

/** Resolves to a description of who holds the port, or undefined when it is free. */
export function portTaken(port: number): Promise<string | undefined> {
  return new Promise(resolve => {
    const srv = net.createServer();
    srv.once('error', () => {
      const ss = spawnSync('ss', ['-Hltnp', `sport = :${port}`], {
        encoding: 'utf8',
      });
      resolve((ss.stdout ?? '').trim() || 'in use');
    });
    srv.listen({ port, host: HOST, exclusive: true }, () =>
      srv.close(() => resolve(undefined)),
    );
  });
}
