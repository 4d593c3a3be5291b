/**
 * Each cluster's identity: its directory, CA and serving certificate (openssl),
 * service-account keys, static tokens and the kubeconfigs made from them.
 * Kept across down/up when complete, so a Backstage backend started with the
 * generated config keeps working after a restart.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { CLUSTER_PORTS, HOST, type ClusterPorts } from '../ports.ts';
import { kubeconfig } from '../lib/documents.ts';
import {
  CLUSTERS,
  REAL_NODE,
  REPO_ROOT,
  STATE_DIR,
  type ClusterName,
} from '../lib/layout.ts';
import { PlatformError, say } from '../lib/output.ts';

export interface ClusterCtx {
  name: ClusterName;
  ports: ClusterPorts;
  dir: string;
  pki: string;
  server: string;
  ca: string;
  tokens: Record<
    'admin' | 'controllerManager' | 'scheduler' | 'kwok' | 'kubelet',
    string
  >;
  adminKubeconfig: string;
  modelopsKubeconfig: string;
  /** The modelops service account's token, once the controller-manager has filled it in. */
  saToken?: string;
}

/** A fresh context per cluster: new tokens, no CA yet. */
function newContexts(): ClusterCtx[] {
  return CLUSTERS.map(name => {
    const dir = path.join(STATE_DIR, name);
    const tok = (): string => randomBytes(24).toString('hex');
    return {
      name,
      ports: CLUSTER_PORTS[name],
      dir,
      pki: path.join(dir, 'pki'),
      server: `https://${HOST}:${CLUSTER_PORTS[name].apiserver}`,
      ca: '',
      tokens: {
        admin: tok(),
        controllerManager: tok(),
        scheduler: tok(),
        kwok: tok(),
        kubelet: tok(),
      },
      adminKubeconfig: path.join(dir, 'admin.kubeconfig'),
      modelopsKubeconfig: path.join(dir, 'modelops.kubeconfig'),
    };
  });
}

function openssl(c: ClusterCtx, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: c.pki, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new PlatformError(
      `pki (${c.name})`,
      `openssl ${args[0]} failed: ${(r.stderr || String(r.error)).trim()}`,
      undefined,
      "install Debian's 'openssl' package",
    );
  }
}

const EC_KEY = [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  '-nodes',
];

/** `<name>.key` and `<name>.crt` signed by the cluster's CA, with the given subject and extensions. */
function issue(
  c: ClusterCtx,
  name: string,
  subject: string,
  extensions: string[],
): void {
  openssl(
    c,
    'req',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  );
  writeFileSync(
    path.join(c.pki, `${name}.ext`),
    [...extensions, ''].join('\n'),
  );
  openssl(
    c,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '3650',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  );
}

function makePki(c: ClusterCtx): void {
  mkdirSync(c.pki, { recursive: true });
  openssl(
    c,
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '3650',
    '-subj',
    `/CN=modelops-${c.name}-ca`,
  );
  issue(c, 'apiserver', '/CN=kube-apiserver', [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
  ]);
  openssl(
    c,
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    'sa.key',
  );
  openssl(c, 'pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
  c.ca = readFileSync(path.join(c.pki, 'ca.crt'), 'utf8');
}

/**
 * The API server's client certificate towards kubelets (logs, exec,
 * port-forward). The kubelet trusts the cluster CA for client certificates and
 * asks the API server whether this user may use its API: as a member of
 * system:masters it may. Also made for a kept cluster that predates it.
 */
export const KUBELET_CLIENT = 'apiserver-kubelet-client';
function ensureKubeletClientCert(c: ClusterCtx): void {
  if (existsSync(path.join(c.pki, `${KUBELET_CLIENT}.crt`))) return;
  issue(
    c,
    KUBELET_CLIENT,
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=clientAuth',
    ],
  );
}

const PKI_FILES = [
  'ca.crt',
  'ca.key',
  'apiserver.crt',
  'apiserver.key',
  'sa.key',
  'sa.pub',
  'tokens.csv',
];

/** Keeps an earlier run's PKI and tokens when all of it is there; false means start the cluster afresh. */
function reusePki(c: ClusterCtx): boolean {
  if (!PKI_FILES.every(f => existsSync(path.join(c.pki, f)))) return false;
  const byUser = new Map<string, string>();
  for (const line of readFileSync(path.join(c.pki, 'tokens.csv'), 'utf8').split(
    '\n',
  )) {
    const [token, user] = line.split(',');
    if (token && user) byUser.set(user, token);
  }
  const admin = byUser.get('modelops-platform-admin');
  const kcm = byUser.get('system:kube-controller-manager');
  const sched = byUser.get('system:kube-scheduler');
  const kwok = byUser.get('kwok');
  if (!admin || !kcm || !sched || !kwok) return false;
  // The real node's kubelet came later: a kept cluster without its token gets a new one.
  const kubelet = byUser.get(`system:node:${REAL_NODE}`) ?? c.tokens.kubelet;
  c.tokens = { admin, controllerManager: kcm, scheduler: sched, kwok, kubelet };
  c.ca = readFileSync(path.join(c.pki, 'ca.crt'), 'utf8');
  return true;
}

/** The API server's static token file: the platform admin, the controllers and kwok. */
function tokensCsv(c: ClusterCtx): string {
  return [
    `${c.tokens.admin},modelops-platform-admin,uid-platform-admin,"system:masters"`,
    `${c.tokens.controllerManager},system:kube-controller-manager,uid-kcm`,
    `${c.tokens.scheduler},system:kube-scheduler,uid-scheduler`,
    `${c.tokens.kwok},kwok,uid-kwok,"system:masters"`,
    `${c.tokens.kubelet},system:node:${REAL_NODE},uid-${REAL_NODE},"system:nodes"`,
    '',
  ].join('\n');
}

/**
 * Per cluster: reuses or creates the PKI and tokens, then (re)writes the token
 * file and the kubeconfigs of the admin, the controllers and kwok.
 */
export function prepareClusters(): ClusterCtx[] {
  const ctxs = newContexts();
  for (const c of ctxs) {
    if (reusePki(c)) {
      say(
        `${
          c.name
        }: reusing the cluster's data, CA and tokens from ${path.relative(
          REPO_ROOT,
          c.dir,
        )}/`,
      );
    } else {
      rmSync(c.dir, { recursive: true, force: true }); // new keys invalidate any old etcd data
      makePki(c);
    }
    ensureKubeletClientCert(c);
    const secret = { mode: 0o600 };
    writeFileSync(path.join(c.pki, 'tokens.csv'), tokensCsv(c), secret);
    const write = (file: string, user: string, token: string): void =>
      writeFileSync(
        file,
        kubeconfig(c.name, c.server, c.ca, user, token),
        secret,
      );
    write(c.adminKubeconfig, 'platform-admin', c.tokens.admin);
    write(
      path.join(c.dir, 'controller-manager.kubeconfig'),
      'kube-controller-manager',
      c.tokens.controllerManager,
    );
    write(
      path.join(c.dir, 'scheduler.kubeconfig'),
      'kube-scheduler',
      c.tokens.scheduler,
    );
    write(path.join(c.dir, 'kwok.kubeconfig'), 'kwok', c.tokens.kwok);
    write(
      path.join(c.dir, 'kubelet.kubeconfig'),
      `system:node:${REAL_NODE}`,
      c.tokens.kubelet,
    );
  }
  return ctxs;
}
