/**
 * state.json: every process `up` started (by pid and executable), the clusters,
 * Prometheus and the model servers. `down` and `status` read it.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { STATE_DIR, STATE_FILE, type ClusterName } from './layout.ts';

export interface ProcRecord {
  name: string;
  component: string;
  pid: number;
  exe: string;
  args: string[];
  log: string;
  cluster?: ClusterName;
  service?: string;
  url?: string;
}

export interface ClusterRecord {
  name: ClusterName;
  server: string;
  kubeconfig: string;
  modelopsKubeconfig: string;
}

export interface ModelServerRecord {
  service: string;
  environment: ClusterName;
  url: string;
  pid: number;
  trafficPid: number;
  trafficControlUrl: string;
}

/** The git server and what `up` made in it (the admin's password and token: state.json is mode 0600). */
export interface GiteaRecord {
  url: string;
  version: string;
  username: string;
  password: string;
  token: string;
  org: string;
  /** `<org>/<repo>`, one per demo service. */
  repositories: string[];
}

export interface State {
  version: 1;
  phase: 'starting' | 'up';
  startedAt: string;
  upSeconds?: number;
  processes: ProcRecord[];
  clusters: ClusterRecord[];
  prometheus?: { url: string };
  gitea?: GiteaRecord;
  modelServers: ModelServerRecord[];
}

export function newState(): State {
  return {
    version: 1,
    phase: 'starting',
    startedAt: new Date().toISOString(),
    processes: [],
    clusters: [],
    modelServers: [],
  };
}

export function loadState(): State | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State;
}

export function saveState(state: State): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(`${STATE_FILE}.tmp`, `${JSON.stringify(state, null, 2)}\n`, {
    mode: 0o600,
  });
  // rename is atomic: a reader never sees half a file
  renameSync(`${STATE_FILE}.tmp`, STATE_FILE);
}

export function removeState(): void {
  rmSync(STATE_FILE, { force: true });
}
