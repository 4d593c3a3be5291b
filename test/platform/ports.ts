/**
 * Every loopback port the local platform listens on, in one place.
 * All are on 127.0.0.1, below Linux's ephemeral range (32768+) and away from
 * the defaults of the same programs (2379/2380, 6443, 9090, 10257, 10259, ...)
 * so a stray system service cannot collide with them. `up` refuses to start
 * if any of them is already taken.
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
}

export const CLUSTER_PORTS: Readonly<Record<'dev' | 'prod', ClusterPorts>> = {
  dev: {
    etcdClient: 12379,
    etcdPeer: 12380,
    apiserver: 16443,
    controllerManager: 16257,
    scheduler: 16259,
    kwok: 16247,
    modelServerBase: 18081,
    trafficControlBase: 18181,
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
  },
};

export const PROMETHEUS_PORT = 19090;

export const HOST = '127.0.0.1';
