/**
 * Every loopback port the local platform listens on, in one place.
 * All are on 127.0.0.1, below Linux's ephemeral range (32768+) and away from
 * the defaults of the same programs (2379/2380, 6443, 9090, 10257, 10259, ...)
 * so a stray system service cannot collide with them. `up` refuses to start
 * if any of them is already taken.
 *
 * MODELOPS_PORT_OFFSET (an integer, default 0) shifts every one of them, so a
 * second platform (with its own MODELOPS_PLATFORM_DIR) can run beside the
 * default one: `MODELOPS_PORT_OFFSET=1000` puts dev's API server on 17443.
 */

export interface ClusterPorts {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  readonly kwok: number;
  /** First model server port; service i listens on modelServerBase + i. */
  readonly modelServerBase: number;
  /** First traffic-generator control port; service i uses trafficControlBase + i. */
  readonly trafficControlBase: number;
  /** The real node's kubelet API (on the pod bridge's host address, for the API server). */
  readonly kubelet: number;
  /** The kubelet's /healthz (127.0.0.1). */
  readonly kubeletHealthz: number;
  /** containerd's CRI streaming server (exec, attach, port-forward; 127.0.0.1). */
  readonly containerdStream: number;
}

/** The unshifted ports; the lowest is 12379, the highest 28183. */
const BASE_PORTS: Readonly<Record<'dev' | 'prod', ClusterPorts>> = {
  dev: {
    etcdClient: 12379,
    etcdPeer: 12380,
    apiserver: 16443,
    controllerManager: 16257,
    scheduler: 16259,
    kwok: 16247,
    modelServerBase: 18081,
    trafficControlBase: 18181,
    kubelet: 16250,
    kubeletHealthz: 16248,
    containerdStream: 16251,
  },
  prod: {
    etcdClient: 22379,
    etcdPeer: 22380,
    apiserver: 26443,
    controllerManager: 26257,
    scheduler: 26259,
    kwok: 26247,
    modelServerBase: 28081,
    trafficControlBase: 28181,
    kubelet: 26250,
    kubeletHealthz: 26248,
    containerdStream: 26251,
  },
};

const BASE_PROMETHEUS_PORT = 19090;
const BASE_REGISTRY_PORT = 15000;
const BASE_GITEA_PORT = 13000;
const LOWEST = 12379;
const HIGHEST = 28183; // prod traffic control of the third demo service

/** Shifts stay above the privileged ports and below Linux's ephemeral range. */
export const MIN_PORT_OFFSET = 1024 - LOWEST;
export const MAX_PORT_OFFSET = 32767 - HIGHEST;

/** Reads a MODELOPS_PORT_OFFSET value (unset or empty: 0); throws an Error naming the allowed range. */
export function portOffset(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < MIN_PORT_OFFSET || n > MAX_PORT_OFFSET) {
    throw new Error(
      `MODELOPS_PORT_OFFSET must be an integer from ${MIN_PORT_OFFSET} to ${MAX_PORT_OFFSET} (every platform port then stays in 1024-32767), got "${raw}"`,
    );
  }
  return n;
}

export const PORT_OFFSET = portOffset(process.env.MODELOPS_PORT_OFFSET);

function shift(p: ClusterPorts): ClusterPorts {
  return {
    etcdClient: p.etcdClient + PORT_OFFSET,
    etcdPeer: p.etcdPeer + PORT_OFFSET,
    apiserver: p.apiserver + PORT_OFFSET,
    controllerManager: p.controllerManager + PORT_OFFSET,
    scheduler: p.scheduler + PORT_OFFSET,
    kwok: p.kwok + PORT_OFFSET,
    modelServerBase: p.modelServerBase + PORT_OFFSET,
    trafficControlBase: p.trafficControlBase + PORT_OFFSET,
    kubelet: p.kubelet + PORT_OFFSET,
    kubeletHealthz: p.kubeletHealthz + PORT_OFFSET,
    containerdStream: p.containerdStream + PORT_OFFSET,
  };
}

export const CLUSTER_PORTS: Readonly<Record<'dev' | 'prod', ClusterPorts>> = {
  dev: shift(BASE_PORTS.dev),
  prod: shift(BASE_PORTS.prod),
};

export const PROMETHEUS_PORT = BASE_PROMETHEUS_PORT + PORT_OFFSET;

/** The local image registry (distribution v2, plain HTTP on 127.0.0.1). */
export const REGISTRY_PORT = BASE_REGISTRY_PORT + PORT_OFFSET;

/** The git server (Gitea, plain HTTP on 127.0.0.1; relayed to the pod bridges on the same port). */
export const GITEA_PORT = BASE_GITEA_PORT + PORT_OFFSET;

export const HOST = '127.0.0.1';
