/**
 * Each cluster's control plane, in order: etcd, kube-apiserver, then
 * kube-controller-manager, kube-scheduler and kwok (the kubelet). Both
 * clusters start at once; every step waits until all of its processes are ready.
 */
import path from 'node:path';
import { HOST } from '../ports.ts';
import { kubectl } from '../lib/exec.ts';
import { httpOk } from '../lib/http.ts';
import { LOG_DIR, STAGE_FILES, STAGES_DIR } from '../lib/layout.ts';
import { PlatformError, say } from '../lib/output.ts';
import type { Launcher, Started } from '../lib/supervisor.ts';
import type { Binary } from './binaries.ts';
import { KUBELET_CLIENT, type ClusterCtx } from './credentials.ts';

export type BinPath = (b: Binary) => string;

export async function startEtcd(
  launcher: Launcher,
  ctxs: ClusterCtx[],
  bin: BinPath,
): Promise<void> {
  const etcds = ctxs.map(c => {
    const p = c.ports;
    return launcher.start({
      name: `${c.name}-etcd`,
      component: 'etcd',
      cluster: c.name,
      exe: bin('etcd'),
      url: `http://${HOST}:${p.etcdClient}`,
      args: [
        `--name=${c.name}`,
        `--data-dir=${path.join(c.dir, 'etcd')}`,
        `--listen-client-urls=http://${HOST}:${p.etcdClient}`,
        `--advertise-client-urls=http://${HOST}:${p.etcdClient}`,
        `--listen-peer-urls=http://${HOST}:${p.etcdPeer}`,
        `--initial-advertise-peer-urls=http://${HOST}:${p.etcdPeer}`,
        `--initial-cluster=${c.name}=http://${HOST}:${p.etcdPeer}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
        '--quota-backend-bytes=2147483648',
      ],
    });
  });
  say('starting etcd (dev, prod) ...');
  await Promise.all(
    etcds.map((s, i) =>
      launcher.waitReady(
        s,
        `etcd (${ctxs[i]!.name})`,
        () =>
          httpOk(`http://${HOST}:${ctxs[i]!.ports.etcdClient}/health`, {
            bodyIncludes: '"health":"true"',
          }),
        'a stale etcd data dir or port clash; `down` and `up` again',
      ),
    ),
  );
}

export async function startApiservers(
  launcher: Launcher,
  ctxs: ClusterCtx[],
  bin: BinPath,
): Promise<void> {
  say('starting kube-apiserver (dev, prod) ...');
  const apis = ctxs.map(c =>
    launcher.start({
      name: `${c.name}-kube-apiserver`,
      component: 'kube-apiserver',
      cluster: c.name,
      exe: bin('kube-apiserver'),
      url: c.server,
      args: [
        `--etcd-servers=http://${HOST}:${c.ports.etcdClient}`,
        `--bind-address=${HOST}`,
        `--advertise-address=${HOST}`,
        `--secure-port=${c.ports.apiserver}`,
        '--endpoint-reconciler-type=none',
        `--cert-dir=${c.pki}`,
        `--tls-cert-file=${path.join(c.pki, 'apiserver.crt')}`,
        `--tls-private-key-file=${path.join(c.pki, 'apiserver.key')}`,
        `--client-ca-file=${path.join(c.pki, 'ca.crt')}`,
        `--token-auth-file=${path.join(c.pki, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${path.join(c.pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${path.join(c.pki, 'sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        // Kubelets are reached at their InternalIP only: the real node's is the pod bridge's
        // host address, kwok's is loopback. The default tries the node name first, which
        // would be a DNS lookup off the machine (e.g. for `kubectl logs` of any pod).
        '--kubelet-preferred-address-types=InternalIP',
        // Its identity towards the kubelets (logs, exec): a client certificate of the cluster CA.
        `--kubelet-client-certificate=${path.join(
          c.pki,
          `${KUBELET_CLIENT}.crt`,
        )}`,
        `--kubelet-client-key=${path.join(c.pki, `${KUBELET_CLIENT}.key`)}`,
        '--profiling=false',
        '--v=0',
      ],
    }),
  );
  await Promise.all(
    apis.map((s, i) => {
      const c = ctxs[i]!;
      return launcher.waitReady(
        s,
        `kube-apiserver (${c.name})`,
        () => httpOk(`${c.server}/readyz`, { ca: c.ca, token: c.tokens.admin }),
        'read the first E-line of the log: etcd not reachable, a certificate/flag problem, or (HTTP 401) a token file that does not match .platform/<cluster>/pki/tokens.csv',
      );
    }),
  );
}

/**
 * Runs one kubectl command against every cluster (admin credentials), in parallel; a
 * failure is a PlatformError of that cluster's kubectl, saying what could not be done.
 */
export async function kubectlInEach(
  ctxs: ClusterCtx[],
  bin: BinPath,
  args: string[],
  failure: { what: string; hint: string },
): Promise<void> {
  await Promise.all(
    ctxs.map(async c => {
      const r = await kubectl(bin('kubectl'), c.adminKubeconfig, args);
      if (r.code !== 0)
        throw new PlatformError(
          `kubectl (${c.name})`,
          `${failure.what}: ${r.err.trim()}`,
          path.join(LOG_DIR, `${c.name}-kube-apiserver.log`),
          failure.hint,
        );
    }),
  );
}

/**
 * A cluster kept from an earlier run still has kwok's node Lease, held by the old kwok
 * process: a new kwok would wait for it to expire (40 s) before it manages the node.
 */
export function clearKwokLeases(
  ctxs: ClusterCtx[],
  bin: BinPath,
): Promise<void> {
  return kubectlInEach(
    ctxs,
    bin,
    [
      '-n',
      'kube-node-lease',
      'delete',
      'lease',
      'kwok-node-0',
      '--ignore-not-found',
    ],
    {
      what: "could not clear kwok's old node lease",
      hint: '`down --purge` and `up` start the cluster from scratch',
    },
  );
}

/** kube-controller-manager, kube-scheduler and kwok in both clusters. */
export async function startControllers(
  launcher: Launcher,
  ctxs: ClusterCtx[],
  bin: BinPath,
): Promise<void> {
  say('starting kube-controller-manager, kube-scheduler, kwok (dev, prod) ...');
  const stageArgs = STAGE_FILES.map(
    s => `--config=${path.join(STAGES_DIR, `${s}.yaml`)}`,
  );
  const rest: [Started, string, () => Promise<boolean>, string][] = [];
  for (const c of ctxs) {
    const delegated = (kc: string): string[] => [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      `--bind-address=${HOST}`,
      '--leader-elect=false',
      // no front-proxy here: don't look up requestheader CAs (avoids a log line every few seconds)
      '--authentication-skip-lookup=true',
    ];
    const kcm = launcher.start({
      name: `${c.name}-kube-controller-manager`,
      component: 'kube-controller-manager',
      cluster: c.name,
      exe: bin('kube-controller-manager'),
      url: `https://${HOST}:${c.ports.controllerManager}`,
      args: [
        ...delegated(path.join(c.dir, 'controller-manager.kubeconfig')),
        `--secure-port=${c.ports.controllerManager}`,
        `--root-ca-file=${path.join(c.pki, 'ca.crt')}`,
        `--service-account-private-key-file=${path.join(c.pki, 'sa.key')}`,
        '--use-service-account-credentials=true',
        `--cluster-signing-cert-file=${path.join(c.pki, 'ca.crt')}`,
        `--cluster-signing-key-file=${path.join(c.pki, 'ca.key')}`,
        `--cert-dir=${path.join(c.dir, 'kcm-certs')}`,
        '--profiling=false',
      ],
    });
    rest.push([
      kcm,
      `kube-controller-manager (${c.name})`,
      () =>
        httpOk(`https://${HOST}:${c.ports.controllerManager}/healthz`, {
          insecure: true,
        }),
      'look at the log for RBAC or kubeconfig errors',
    ]);
    const sched = launcher.start({
      name: `${c.name}-kube-scheduler`,
      component: 'kube-scheduler',
      cluster: c.name,
      exe: bin('kube-scheduler'),
      url: `https://${HOST}:${c.ports.scheduler}`,
      args: [
        ...delegated(path.join(c.dir, 'scheduler.kubeconfig')),
        `--secure-port=${c.ports.scheduler}`,
        `--cert-dir=${path.join(c.dir, 'scheduler-certs')}`,
      ],
    });
    rest.push([
      sched,
      `kube-scheduler (${c.name})`,
      () =>
        httpOk(`https://${HOST}:${c.ports.scheduler}/healthz`, {
          insecure: true,
        }),
      'look at the log for RBAC or kubeconfig errors',
    ]);
    const kwok = launcher.start({
      name: `${c.name}-kwok`,
      component: 'kwok',
      cluster: c.name,
      exe: bin('kwok'),
      url: `http://${HOST}:${c.ports.kwok}`,
      args: [
        `--kubeconfig=${path.join(c.dir, 'kwok.kubeconfig')}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--cidr=10.244.0.1/16',
        // The fake node's address: loopback, so anything the API server sends to "its
        // kubelet" (logs, exec) is refused on this machine instead of routed out of it.
        '--node-ip=127.0.0.1',
        '--node-lease-duration-seconds=40',
        `--server-address=${HOST}:${c.ports.kwok}`,
        ...stageArgs,
      ],
    });
    rest.push([
      kwok,
      `kwok (${c.name})`,
      () => httpOk(`http://${HOST}:${c.ports.kwok}/healthz`),
      'look at the log for stage-file or kubeconfig errors',
    ]);
  }
  await Promise.all(
    rest.map(([s, what, check, hint]) =>
      launcher.waitReady(s, what, check, hint),
    ),
  );
}
