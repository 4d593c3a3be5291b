/**
 * Follows a Kubernetes Service's ready endpoints (EndpointSlices) so traffic
 * goes where the Service would send it: a rollout to another version moves
 * the traffic with it. Reads the API with a bearer token and the cluster CA
 * (node:https, no client library). Only addresses inside the allowed pod
 * CIDR are ever used: an address outside it is dropped, never contacted.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';

export interface EndpointSourceOptions {
  /** https://127.0.0.1:16443 */
  readonly apiServer: string;
  readonly caFile: string;
  readonly tokenFile: string;
  readonly namespace: string;
  readonly service: string;
  /** The port name of the Service to send to (its EndpointSlices carry it). */
  readonly portName: string;
  /** e.g. 10.160.134.0/24: the pod network the platform created. */
  readonly podCidr: string;
  readonly pollMs?: number;
}

interface EndpointSliceList {
  items: {
    ports?: { name?: string; port?: number }[] | null;
    endpoints?: {
      addresses: string[];
      conditions?: { ready?: boolean; terminating?: boolean };
    }[];
  }[];
}

/** True when the IPv4 `addr` lies inside `cidr` (a.b.c.d/n). */
export function inCidr(addr: string, cidr: string): boolean {
  const [net, bitsRaw] = cidr.split('/');
  const bits = Number(bitsRaw);
  const toInt = (a: string): number | undefined => {
    const p = a.split('.').map(Number);
    if (p.length !== 4 || p.some(x => !Number.isInteger(x) || x < 0 || x > 255))
      return undefined;
    return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  };
  const a = toInt(addr);
  const n = toInt(net ?? '');
  if (a === undefined || n === undefined || !(bits >= 8 && bits <= 32))
    return false;
  const mask = bits === 32 ? 0xffffffff : ~((1 << (32 - bits)) - 1) >>> 0;
  return (a & mask) === (n & mask);
}

/** The ready `ip:port` pairs of a Service's EndpointSlices, inside `podCidr`. */
export function readyEndpoints(
  list: EndpointSliceList,
  portName: string,
  podCidr: string,
): string[] {
  const out: string[] = [];
  for (const slice of list.items) {
    const port = (slice.ports ?? []).find(
      p => (p.name ?? '') === portName,
    )?.port;
    if (!port) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || ep.conditions?.terminating)
        continue;
      for (const a of ep.addresses)
        if (inCidr(a, podCidr)) out.push(`${a}:${port}`);
    }
  }
  return [...new Set(out)].sort();
}

export class EndpointSource {
  readonly #o: EndpointSourceOptions;
  readonly #agent: https.Agent;
  #endpoints: string[] = [];
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  lastError: string | null = null;

  constructor(o: EndpointSourceOptions) {
    if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(o.podCidr))
      throw new Error(`pod CIDR must look like 10.1.2.0/24, got ${o.podCidr}`);
    const api = new URL(o.apiServer);
    if (api.protocol !== 'https:' || !/^127\.\d+\.\d+\.\d+$/.test(api.hostname))
      throw new Error(
        `API server must be an https URL on 127.0.0.0/8, got ${o.apiServer}`,
      );
    this.#o = o;
    this.#agent = new https.Agent({
      ca: readFileSync(o.caFile),
      keepAlive: true,
    });
  }

  get endpoints(): readonly string[] {
    return this.#endpoints;
  }

  /** The next endpoint, round robin; undefined while the Service has none ready. */
  next(): string | undefined {
    if (this.#endpoints.length === 0) return undefined;
    this.#next = (this.#next + 1) % this.#endpoints.length;
    return this.#endpoints[this.#next];
  }

  async refresh(): Promise<void> {
    const o = this.#o;
    const url = new URL(
      `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(
        o.namespace,
      )}/endpointslices`,
      o.apiServer,
    );
    url.searchParams.set(
      'labelSelector',
      `kubernetes.io/service-name=${o.service}`,
    );
    const token = readFileSync(o.tokenFile, 'utf8').trim();
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get(
        url,
        {
          agent: this.#agent,
          headers: { authorization: `Bearer ${token}` },
          timeout: 5000,
        },
        res => {
          let data = '';
          res.setEncoding('utf8').on('data', (d: string) => (data += d));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(data)
              : reject(
                  new Error(
                    `GET ${url.pathname} answered ${
                      res.statusCode
                    }: ${data.slice(0, 200)}`,
                  ),
                ),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
    this.#endpoints = readyEndpoints(
      JSON.parse(body) as EndpointSliceList,
      o.portName,
      o.podCidr,
    );
  }

  /** Polls until stop(); the first refresh is awaited. */
  async start(): Promise<void> {
    const poll = async (): Promise<void> => {
      try {
        await this.refresh();
        this.lastError = null;
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
      }
    };
    await poll();
    this.#timer = setInterval(() => void poll(), this.#o.pollMs ?? 2000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#agent.destroy();
  }
}
