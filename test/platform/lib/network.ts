/**
 * The pod network of each cluster's real node: a Linux bridge in the host
 * namespace, its own /24, no gateway for pods, no forwarding, no NAT. The host
 * reaches pods over the bridge's connected route; pods reach only the bridge
 * and each other. Names and ranges follow MODELOPS_PORT_OFFSET, so two
 * platforms on one machine never share a bridge or an address.
 */
import { spawnSync } from 'node:child_process';
import { PORT_OFFSET, MIN_PORT_OFFSET } from '../ports.ts';
import { CLUSTERS, type ClusterName } from './layout.ts';
import { PlatformError } from './output.ts';

export interface PodNetwork {
  /** The bridge's name (at most 15 characters, Linux's limit). */
  readonly bridge: string;
  /** e.g. 10.160.134.0/24 */
  readonly cidr: string;
  /** The bridge's address on the host: the node IP, where the kubelet listens. */
  readonly hostIp: string;
  /** First and last address handed to pods. */
  readonly rangeStart: string;
  readonly rangeEnd: string;
  /** The CNI network's name (also the prefix of its cache files). */
  readonly cniName: string;
}

/**
 * 10.64.0.0-10.191.255.0: one /24 per (offset, cluster). Offsets span at most
 * 16 000 values, two clusters each: 32 000 of the 32 768 /24s in that block.
 */
export function podNetwork(
  cluster: ClusterName,
  offset = PORT_OFFSET,
): PodNetwork {
  const i =
    (offset - MIN_PORT_OFFSET) * CLUSTERS.length + CLUSTERS.indexOf(cluster);
  const net = `10.${64 + (i >> 8)}.${i & 255}`;
  const tag = offset >= 0 ? String(offset) : `n${-offset}`;
  return {
    bridge: `mo${cluster}${tag}`,
    cidr: `${net}.0/24`,
    hostIp: `${net}.1`,
    rangeStart: `${net}.10`,
    rangeEnd: `${net}.250`,
    cniName: `modelops-${cluster}-${tag}`,
  };
}

function ip(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return {
    code: r.status ?? 1,
    out: r.stdout ?? '',
    err: (r.stderr ?? '') + (r.error ? String(r.error) : ''),
  };
}

export function bridgeExists(net: PodNetwork): boolean {
  return ip(['link', 'show', 'dev', net.bridge]).code === 0;
}

/** Creates (or keeps) the bridge with the host address; never enables forwarding. */
export function ensureBridge(net: PodNetwork): void {
  if (!bridgeExists(net)) {
    const r = ip(['link', 'add', net.bridge, 'type', 'bridge']);
    if (r.code !== 0)
      throw new PlatformError(
        `pod network (${net.bridge})`,
        `ip link add ${net.bridge} type bridge failed: ${r.err.trim()}`,
        undefined,
        'creating a bridge needs root (CAP_NET_ADMIN)',
      );
  }
  const addrs = ip(['-4', '-o', 'addr', 'show', 'dev', net.bridge]).out;
  if (!addrs.includes(` ${net.hostIp}/24 `)) {
    const r = ip(['addr', 'add', `${net.hostIp}/24`, 'dev', net.bridge]);
    if (r.code !== 0)
      throw new PlatformError(
        `pod network (${net.bridge})`,
        `ip addr add ${net.hostIp}/24 dev ${
          net.bridge
        } failed: ${r.err.trim()}`,
        undefined,
        `another interface may already hold ${net.cidr}; see \`ip -4 addr\``,
      );
  }
  ip(['link', 'set', net.bridge, 'up']);
  assertRoutedToBridge(net, net.rangeStart);
}

export function removeBridge(net: PodNetwork): void {
  if (bridgeExists(net)) ip(['link', 'del', net.bridge]);
}

/** The interface the host would send a packet for `addr` out of (`ip route get`). */
export function routeInterface(addr: string): string | undefined {
  const r = ip(['-o', 'route', 'get', addr]);
  if (r.code !== 0) return undefined;
  return /\bdev (\S+)/.exec(r.out)?.[1];
}

/**
 * Throws unless the host's route to `addr` is the platform's bridge: a packet
 * to a pod address with no such route would leave through the real interface.
 */
export function assertRoutedToBridge(net: PodNetwork, addr: string): void {
  const dev = routeInterface(addr);
  if (dev !== net.bridge)
    throw new PlatformError(
      `pod network (${net.bridge})`,
      `the host's route to ${addr} is ${
        dev ? `via ${dev}` : 'missing'
      }, not the platform bridge ${net.bridge}: nothing is sent there`,
      undefined,
      `check \`ip route get ${addr}\`; \`down\` then \`up\` recreates the bridge`,
    );
}

/**
 * Throws unless `net.hostIp` is this host's address on the platform bridge
 * (the kernel routes it locally, via `lo`): a relay listening there, and a
 * probe sent there, never leave the host.
 */
export function assertHostAddressOnBridge(net: PodNetwork): void {
  const addrs = ip(['-4', '-o', 'addr', 'show', 'dev', net.bridge]).out;
  const dev = routeInterface(net.hostIp);
  if (
    !addrs.includes(` ${net.hostIp}/24 `) ||
    (dev !== 'lo' && dev !== net.bridge)
  )
    throw new PlatformError(
      `pod network (${net.bridge})`,
      `${net.hostIp} is not this host's address on ${net.bridge} (route ${
        dev ?? 'missing'
      }): nothing is sent there`,
      undefined,
      `check \`ip -4 addr show dev ${net.bridge}\`; \`down\` then \`up\` recreates the bridge`,
    );
}
