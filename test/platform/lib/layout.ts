/**
 * Where the platform keeps things, and the fixed facts about what it runs.
 * Runtime state lives in ${MODELOPS_PLATFORM_DIR:-<repo>/.platform}/ (gitignored);
 * binaries in ${MODELOPS_CACHE:-~/.cache/modelops}/bin/<component>-<version>/.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PLATFORM_DIR = path.resolve(import.meta.dirname, '..');
export const REPO_ROOT = path.resolve(PLATFORM_DIR, '..', '..');
export const STATE_DIR =
  process.env.MODELOPS_PLATFORM_DIR ?? path.join(REPO_ROOT, '.platform');
export const STATE_FILE = path.join(STATE_DIR, 'state.json');
export const LOCK_FILE = path.join(STATE_DIR, 'lock');
export const LOG_DIR = path.join(STATE_DIR, 'logs');
export const APP_CONFIG = path.join(STATE_DIR, 'app-config.platform.yaml');
/** The admin kubeconfig with both clusters as contexts. */
export const MERGED_KUBECONFIG = path.join(STATE_DIR, 'kubeconfig');
export const PROMETHEUS_DIR = path.join(STATE_DIR, 'prometheus');
/** Prometheus' query log (`global.query_log_file`): every query it ran, one JSON line each. */
export const PROMETHEUS_QUERY_LOG = path.join(PROMETHEUS_DIR, 'query.log');
export const CACHE_DIR =
  process.env.MODELOPS_CACHE ?? path.join(os.homedir(), '.cache', 'modelops');
export const BUILD_SCRIPT = path.join(PLATFORM_DIR, 'build', 'build.sh');
export const MODEL_SERVER_DIR = path.join(PLATFORM_DIR, 'model-server');
export const MODEL_SERVER = path.join(MODEL_SERVER_DIR, 'src', 'server.ts');
export const TRAFFIC = path.join(MODEL_SERVER_DIR, 'src', 'traffic.ts');
export const MANIFESTS_DIR = path.join(PLATFORM_DIR, 'manifests');
export const STAGES_DIR = path.join(PLATFORM_DIR, 'stages');
const DEMO_SERVICES_FILE = path.join(PLATFORM_DIR, 'demo-services.json');

/**
 * By default each cluster also gets a real node (containerd + kubelet) whose
 * pods run the demo images from the local registry; kwok's node is then tainted
 * so only pods that tolerate it land there. MODELOPS_REAL_NODES=0 keeps the
 * clusters kwok-only (every pod turns Ready whatever image it names).
 */
export const REAL_NODES = process.env.MODELOPS_REAL_NODES !== '0';
/** Images built here (builder storage), the registry's data, the base rootfs cache. */
export const IMAGES_DIR = path.join(STATE_DIR, 'images');
export const REGISTRY_DIR = path.join(STATE_DIR, 'registry');
/** The git server's config, database, repositories and admin credentials. */
export const GITEA_DIR = path.join(STATE_DIR, 'gitea');
/** The Gitea organisation that holds one repository per demo service. */
export const GITEA_ORG = 'modelops-demo';
export const IMAGE_SOURCES_DIR = path.join(PLATFORM_DIR, 'images');
/** The real node's name in each cluster. */
export const REAL_NODE = 'node-0';
/** The host-side values `up` found before it started a kubelet; `down` puts them back. */
export const HOST_SETTINGS_FILE = path.join(STATE_DIR, 'host-settings.json');

export const CLUSTERS = ['dev', 'prod'] as const;
export type ClusterName = (typeof CLUSTERS)[number];
export const NAMESPACE = 'models';
export const BUILDS_NAMESPACE = 'modelops-builds';
export const READY_TIMEOUT_MS = Number(
  process.env.MODELOPS_READY_TIMEOUT_MS ?? 90_000,
);
export const STAGE_FILES = [
  'node-initialize',
  'node-heartbeat',
  'pod-ready',
  'pod-complete',
  'pod-delete',
  'chaos',
];

export interface DemoService {
  readonly id: string;
  readonly runtime: 'kserve' | 'triton' | 'generic';
  /** The image the demo workload runs, in the entity's modelops/image repository. */
  readonly image: string;
}

export function loadDemoServices(): DemoService[] {
  return JSON.parse(readFileSync(DEMO_SERVICES_FILE, 'utf8')) as DemoService[];
}
