// Benchmark: deploying the built-in manifest set through the ModelOps API
// versus `kubectl apply --server-side` of the same objects, as the same
// service account, interleaved in one run. Prints medians and their ratio.
//
// Run with `yarn bench` (scripts/bench), which brings up the local platform
// and the backend first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFloor } from './floor.ts';
import { median, p90 } from './stats.ts';
import { BACKEND, guestToken, postJson } from './backend.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 15);
const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const ENTITY_REF = 'component:default/fraud-detector';
const ID = 'fraud-detector';
const REPOSITORY = 'registry.modelops.local/risk/fraud-detector';
/**
 * Two releases that exist in the platform's registry and behave the same
 * (test/platform/demo-images.json): every apply flips the image between them,
 * so each one is a real change and the pods it rolls out really start.
 */
const RELEASES = [`${REPOSITORY}:0.1.0`, `${REPOSITORY}:0.1.1`] as const;
let live: string = RELEASES[0];
/** The release that is not running: what the next apply (or preview) sets. */
const other = (): string => (live === RELEASES[0] ? RELEASES[1] : RELEASES[0]);
/** Flips to the other release and returns it (for an apply). */
const flip = (): string => (live = other());
const CACHE =
  process.env.MODELOPS_CACHE ?? path.join(os.homedir(), '.cache', 'modelops');

function kubectlBin(): string {
  const bin = path.join(CACHE, 'bin');
  const dir = readdirSync(bin)
    .filter(d => d.startsWith('kubectl-'))
    .sort()
    .pop();
  if (!dir)
    throw new Error(
      `no kubectl under ${bin}; run node test/platform/cli.ts build`,
    );
  return path.join(bin, dir, 'kubectl');
}
const KUBECTL = kubectlBin();
// The backend's own identity: the namespace-scoped modelops service account.
const PLATFORM_STATE =
  process.env.MODELOPS_PLATFORM_DIR ?? path.join(REPO_ROOT, '.platform');
const KUBECONFIG = path.join(PLATFORM_STATE, 'dev', 'modelops.kubeconfig');

async function apiDeploy(auth: string, image: string, dryRun = false) {
  const started = performance.now();
  const res = await fetch(
    `${BACKEND}/api/modelops/deployments`,
    postJson(auth, {
      entityRef: ENTITY_REF,
      environment: 'dev',
      image,
      dryRun,
      force: true,
    }),
  );
  const body = (await res.json()) as any;
  const ms = performance.now() - started;
  if (!res.ok)
    throw new Error(`deploy failed: ${res.status} ${body?.error?.message}`);
  return { ms, body };
}

/** The live objects as an apply set: what the API applied, without server fields. */
function liveObjects(): any[] {
  const out = execFileSync(
    KUBECTL,
    [
      '--kubeconfig',
      KUBECONFIG,
      '-n',
      'models',
      'get',
      'deployment,service,hpa',
      '-l',
      `backstage.io/kubernetes-id=${ID}`,
      '-o',
      'json',
    ],
    { encoding: 'utf8' },
  );
  return (JSON.parse(out).items as any[]).map(o => {
    const { status: _status, ...rest } = o;
    const metadata = { ...rest.metadata };
    for (const k of [
      'managedFields',
      'resourceVersion',
      'uid',
      'creationTimestamp',
      'generation',
    ]) {
      delete metadata[k];
    }
    if (metadata.annotations) {
      delete metadata.annotations['deployment.kubernetes.io/revision'];
    }
    return { ...rest, metadata };
  });
}

function withImage(objects: any[], image: string): any[] {
  return objects.map(o => {
    const copy = structuredClone(o);
    if (copy.kind === 'Deployment') {
      copy.spec.template.spec.containers[0].image = image;
    }
    copy.metadata.annotations = {
      ...copy.metadata.annotations,
      'modelops/revision': `${Date.now()}`,
    };
    return copy;
  });
}

function kubectlApply(dir: string, objects: any[]): number {
  const file = path.join(dir, 'objects.json');
  writeFileSync(
    file,
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
  const started = performance.now();
  const r = spawnSync(
    KUBECTL,
    [
      '--kubeconfig',
      KUBECONFIG,
      'apply',
      '--server-side',
      '--field-manager=backstage-modelops',
      '--force-conflicts',
      '-f',
      file,
    ],
    { encoding: 'utf8' },
  );
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
  return ms;
}

async function main() {
  const auth = await guestToken();
  const before = await fetch(
    `${BACKEND}/api/modelops/deployments/status?entityRef=${encodeURIComponent(
      ENTITY_REF,
    )}`,
    { headers: { Authorization: `Bearer ${auth}` } },
  ).then(r => r.json() as any);
  const original = before.environments.find(
    (e: any) => e.environment === 'dev',
  )?.image;

  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelops-bench-'));
  try {
    // Warm-up: both paths once (the API's discovery cache, kubectl's disk cache).
    if (original === RELEASES[1]) live = RELEASES[1];
    await apiDeploy(auth, flip());
    const objects = liveObjects();
    kubectlApply(dir, withImage(objects, flip()));

    const floor = createFloor(KUBECONFIG);
    await floor.deploy(withImage(objects, flip()));

    const api: number[] = [];
    const dry: number[] = [];
    const kubectl: number[] = [];
    const floorDeploy: number[] = [];
    const floorPreview: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      api.push((await apiDeploy(auth, flip())).ms);
      dry.push((await apiDeploy(auth, other(), true)).ms);
      kubectl.push(kubectlApply(dir, withImage(objects, flip())));
      floorDeploy.push(await floor.deploy(withImage(objects, flip())));
      floorPreview.push(await floor.preview(withImage(objects, other())));
    }

    const fmt = (n: number) => `${n.toFixed(1)} ms`;
    console.log(
      `deploy of the built-in manifest set (Deployment + Service + HPA) to dev, ${ITERATIONS} runs each, interleaved, same service account for every path`,
    );
    console.log(
      `  ModelOps API  POST /deployments        median ${fmt(
        median(api),
      )}  p90 ${fmt(p90(api))}`,
    );
    console.log(
      `  ModelOps API  POST /deployments dryRun median ${fmt(
        median(dry),
      )}  p90 ${fmt(p90(dry))}`,
    );
    console.log(
      `  kubectl apply --server-side            median ${fmt(
        median(kubectl),
      )}  p90 ${fmt(p90(kubectl))}`,
    );
    console.log(
      `  floor: client-node, dry runs + applies median ${fmt(
        median(floorDeploy),
      )}  p90 ${fmt(p90(floorDeploy))}`,
    );
    console.log(
      `  floor: client-node, dry runs only      median ${fmt(
        median(floorPreview),
      )}  p90 ${fmt(p90(floorPreview))}`,
    );
    console.log(
      `  ratio API / kubectl (medians)          ${(
        median(api) / median(kubectl)
      ).toFixed(2)}   (target: under 0.6)`,
    );
    console.log(
      `  ratio API / floor (medians)            ${(
        median(api) / median(floorDeploy)
      ).toFixed(2)}   (target: within 2)`,
    );
    console.log(
      `  ratio API dryRun / floor dry runs      ${(
        median(dry) / median(floorPreview)
      ).toFixed(2)}`,
    );
    console.log(
      '  (the API call includes authentication, the catalog lookup, the permission check,',
    );
    console.log(
      '   validation against discovery, a dry run of every object, the apply and two history writes)',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (original) await apiDeploy(auth, original).catch(() => undefined);
  }
}

await main();
