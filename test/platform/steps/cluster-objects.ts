/**
 * What `up` puts in each cluster (both at once): namespaces and the
 * InferenceService CRD, RBAC and the modelops identity (whose token becomes
 * modelops.kubeconfig), the fake node, and the demo workloads.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildkitdConfigMap,
  demoManifests,
  kubeconfig,
} from '../lib/documents.ts';
import { kubectl, type ExecResult } from '../lib/exec.ts';
import {
  BUILDS_NAMESPACE,
  LOG_DIR,
  MANIFESTS_DIR,
  REAL_NODES,
  NAMESPACE,
  type DemoService,
} from '../lib/layout.ts';
import { PlatformError, say } from '../lib/output.ts';
import { waitFor } from '../lib/wait.ts';
import type { ClusterCtx } from './credentials.ts';
import { KWOK_TAINT } from './real-node.ts';

interface DeploymentStatusView {
  metadata?: { name?: string };
  spec?: {
    template?: { spec?: { containers?: { name: string; image?: string }[] } };
  };
  status?: {
    readyReplicas?: number;
    conditions?: { type: string; status: string }[];
  };
}

/**
 * A demo Deployment counts as up when it is Available with at least one
 * ready pod. Its replica count and template belong to whoever deployed it
 * last (ModelOps), so `up` does not insist on the count it created it with.
 */
export function demoDeploymentReady(d: DeploymentStatusView): boolean {
  const available = d.status?.conditions?.some(
    c => c.type === 'Available' && c.status === 'True',
  );
  return available === true && (d.status?.readyReplicas ?? 0) >= 1;
}

/**
 * Whether `up` waits for a demo Deployment: only while it runs the image the
 * platform created it with. Once a user deployed another release (perhaps one
 * that does not start), it is theirs, and `up` reports it instead of failing.
 */
export function runsDemoImage(
  d: DeploymentStatusView,
  service: DemoService,
): boolean {
  return (d.spec?.template?.spec?.containers ?? []).some(
    c => c.image === service.image,
  );
}

/** Pod name per `<cluster>/<service>`: the first pod of each demo Deployment (it names the model server in Prometheus' labels). */
export type PodNames = Record<string, string>;

async function setUpCluster(
  c: ClusterCtx,
  kubectlBin: string,
  services: DemoService[],
  podNames: PodNames,
): Promise<void> {
  const k = (args: string[], input?: string): Promise<ExecResult> =>
    kubectl(kubectlBin, c.adminKubeconfig, args, input);
  const must = async (args: string[], input?: string): Promise<string> => {
    const r = await k(args, input);
    if (r.code !== 0) {
      throw new PlatformError(
        `kubectl (${c.name})`,
        `kubectl ${args.join(' ')} failed: ${r.err.trim()}`,
        path.join(LOG_DIR, `${c.name}-kube-apiserver.log`),
        'look at the apiserver log; `down` then `up` starts from clean data',
      );
    }
    return r.out;
  };
  const kcmLog = path.join(LOG_DIR, `${c.name}-kube-controller-manager.log`);
  await must([
    'apply',
    '-f',
    path.join(MANIFESTS_DIR, '00-base.yaml'),
    '-f',
    path.join(MANIFESTS_DIR, '10-inferenceservice-crd.yaml'),
  ]);
  // With real nodes, kwok's node takes only pods that tolerate it: tainted
  // before any demo pod exists, so none of them is ever placed there.
  if (REAL_NODES)
    await must([
      'taint',
      'node',
      'kwok-node-0',
      `${KWOK_TAINT}:NoExecute`,
      '--overwrite',
    ]);
  await waitFor(
    `kube-controller-manager (${c.name})`,
    'serviceaccount/default in the product namespaces',
    async () => {
      const r = await k([
        'get',
        'serviceaccounts',
        '-A',
        '--field-selector=metadata.name=default',
        '-o',
        'jsonpath={.items[*].metadata.namespace}',
      ]);
      const have = new Set(r.out.split(/\s+/));
      return [NAMESPACE, BUILDS_NAMESPACE, 'modelops-system'].every(n =>
        have.has(n),
      );
    },
    30_000,
    kcmLog,
    'the serviceaccount controller is not running; check the controller-manager log',
  );
  await must([
    'wait',
    '--for=condition=Established',
    '--timeout=30s',
    'crd/inferenceservices.serving.kserve.io',
  ]);
  await must([
    'apply',
    '-f',
    path.join(MANIFESTS_DIR, '20-modelops-rbac.yaml'),
  ]);
  // BuildKit's config for build Jobs: this cluster's bridge address for the registry.
  if (REAL_NODES) await must(['apply', '-f', '-'], buildkitdConfigMap(c.name));
  // Demo workloads are created once; after that they belong to whoever
  // deploys them (ModelOps), so a later `up` never resets a deploy.
  const existing = new Set(
    (
      await must([
        '-n',
        NAMESPACE,
        'get',
        'deployments',
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ])
    ).split(/\s+/),
  );
  const missing = services.filter(svc => !existing.has(svc.id));
  if (missing.length > 0) {
    await must(
      [
        'apply',
        '--server-side',
        '--field-manager=backstage-modelops',
        '-f',
        '-',
      ],
      demoManifests(missing),
    );
  }
  await waitFor(
    `kube-controller-manager (${c.name})`,
    'the modelops token Secret being filled in',
    async () => {
      const r = await k([
        '-n',
        'modelops-system',
        'get',
        'secret',
        'modelops-token',
        '-o',
        'jsonpath={.data.token}',
      ]);
      if (r.code === 0 && r.out.trim())
        c.saToken = Buffer.from(r.out.trim(), 'base64').toString('utf8');
      return !!c.saToken;
    },
    30_000,
    kcmLog,
    'the service-account token controller needs --service-account-private-key-file',
  );
  writeFileSync(
    c.modelopsKubeconfig,
    kubeconfig(c.name, c.server, c.ca, 'modelops', c.saToken!),
    { mode: 0o600 },
  );
  await waitFor(
    `kwok (${c.name})`,
    'node kwok-node-0 Ready',
    async () =>
      (
        await k([
          'get',
          'node',
          'kwok-node-0',
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ])
      ).out === 'True',
    30_000,
    path.join(LOG_DIR, `${c.name}-kwok.log`),
    'kwok did not initialise the fake node; check its stage files',
  );
  // Only the platform's own demo Deployments, by name, and only while they run
  // the demo image: whatever else a user deployed is theirs and must not hold
  // `up` back.
  let changed: string[] = [];
  await waitFor(
    `demo workloads (${c.name})`,
    `the demo Deployments (${services
      .map(s => s.id)
      .join(', ')}) being Available`,
    async () => {
      const r = await k([
        '-n',
        NAMESPACE,
        'get',
        'deployments',
        ...services.map(s => s.id),
        '-o',
        'json',
      ]);
      if (r.code !== 0) return false;
      const items = (JSON.parse(r.out) as { items: DeploymentStatusView[] })
        .items;
      if (items.length !== services.length) return false;
      changed = [];
      return items.every(d => {
        const svc = services.find(s => s.id === d.metadata?.name)!;
        if (runsDemoImage(d, svc)) return demoDeploymentReady(d);
        if (!demoDeploymentReady(d)) changed.push(svc.id);
        return true;
      });
    },
    60_000,
    path.join(LOG_DIR, `${c.name}-kwok.log`),
    'check the scheduler and kwok logs',
  );
  for (const id of changed)
    say(
      `note: ${id} (${c.name}) runs a release deployed after the demo's own and is not Available; up leaves it as it is`,
    );
  const pods = JSON.parse(
    await must([
      '-n',
      NAMESPACE,
      'get',
      'pods',
      '-l',
      'backstage.io/kubernetes-id',
      '-o',
      'json',
    ]),
  ) as {
    items: { metadata: { name: string; labels: Record<string, string> } }[];
  };
  for (const s of services) {
    const names = pods.items
      .filter(p => p.metadata.labels['backstage.io/kubernetes-id'] === s.id)
      .map(p => p.metadata.name)
      .sort();
    podNames[`${c.name}/${s.id}`] = names[0] ?? `${s.id}-0`;
  }
}

/** Sets up every cluster at once; returns the pod names Prometheus' labels use. */
export async function applyClusterObjects(
  ctxs: ClusterCtx[],
  kubectlBin: string,
  services: DemoService[],
): Promise<PodNames> {
  say(
    'applying namespaces, node, InferenceService CRD, RBAC and demo Deployments ...',
  );
  const podNames: PodNames = {};
  await Promise.all(
    ctxs.map(c => setUpCluster(c, kubectlBin, services, podNames)),
  );
  return podNames;
}
