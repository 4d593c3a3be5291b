/** Before anything starts: every port free, openssl there, the model server sources present. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  CLUSTER_PORTS,
  GITEA_PORT,
  HOST,
  PROMETHEUS_PORT,
  REGISTRY_PORT,
} from '../ports.ts';
import { which } from '../lib/exec.ts';
import { portTaken } from '../lib/http.ts';
import {
  CLUSTERS,
  MODEL_SERVER,
  REAL_NODES,
  REPO_ROOT,
  TRAFFIC,
  type DemoService,
} from '../lib/layout.ts';
import { PlatformError, say } from '../lib/output.ts';

/** Every port the platform will listen on, with who will listen there. */
function wantedPorts(services: DemoService[]): [number, string][] {
  const wanted: [number, string][] = [
    [PROMETHEUS_PORT, 'prometheus'],
    [GITEA_PORT, 'gitea'],
  ];
  if (REAL_NODES) wanted.push([REGISTRY_PORT, 'image registry']);
  for (const c of CLUSTERS) {
    const p = CLUSTER_PORTS[c];
    if (REAL_NODES)
      wanted.push(
        [p.kubeletHealthz, `${c} kubelet (healthz)`],
        [p.containerdStream, `${c} containerd (CRI streaming)`],
      );
    wanted.push(
      [p.etcdClient, `${c} etcd (client)`],
      [p.etcdPeer, `${c} etcd (peer)`],
      [p.apiserver, `${c} kube-apiserver`],
      [p.controllerManager, `${c} kube-controller-manager`],
      [p.scheduler, `${c} kube-scheduler`],
      [p.kwok, `${c} kwok`],
    );
    services.forEach((s, i) =>
      wanted.push(
        [p.modelServerBase + i, `${c} model server ${s.id}`],
        [p.trafficControlBase + i, `${c} traffic generator ${s.id}`],
      ),
    );
  }
  return wanted;
}

export async function preflight(services: DemoService[]): Promise<void> {
  say('checking ports ...');
  for (const [port, who] of wantedPorts(services)) {
    const holder = await portTaken(port);
    if (holder) {
      throw new PlatformError(
        who,
        `port ${HOST}:${port} is already taken (${holder})`,
        undefined,
        `stop whatever listens on ${port} (see \`ss -ltnp 'sport = :${port}'\`), or change the port in test/platform/ports.ts (or shift them all with MODELOPS_PORT_OFFSET)`,
      );
    }
  }
  if (!which('openssl'))
    throw new PlatformError(
      'pki',
      "'openssl' is not installed",
      undefined,
      'apt-get install -y openssl',
    );
  for (const f of [MODEL_SERVER, TRAFFIC]) {
    if (!existsSync(f))
      throw new PlatformError(
        'model servers',
        `${path.relative(REPO_ROOT, f)} is missing`,
        undefined,
        'the demo model server lives in test/platform/model-server/; check out a tree that has it',
      );
  }
}
