/** `down [--purge]`: stops exactly the processes `up` recorded, by pid. */
import { rmSync } from 'node:fs';
import path from 'node:path';
import {
  APP_CONFIG,
  CLUSTERS,
  GITEA_DIR,
  IMAGES_DIR,
  MERGED_KUBECONFIG,
  PROMETHEUS_DIR,
  REGISTRY_DIR,
  STATE_DIR,
} from '../lib/layout.ts';
import { say } from '../lib/output.ts';
import { loadState, removeState } from '../lib/state.ts';
import { isRunning, stopProcesses } from '../lib/supervisor.ts';
import { cleanUpRealNodes } from '../steps/real-node.ts';

/** Wipes the cluster data (etcd, PKI, tokens), Prometheus data, images, the registry and Gitea's data. */
function purge(): void {
  for (const c of CLUSTERS)
    rmSync(path.join(STATE_DIR, c), { recursive: true, force: true });
  rmSync(PROMETHEUS_DIR, { recursive: true, force: true });
  rmSync(REGISTRY_DIR, { recursive: true, force: true });
  rmSync(IMAGES_DIR, { recursive: true, force: true });
  rmSync(GITEA_DIR, { recursive: true, force: true });
  rmSync(MERGED_KUBECONFIG, { force: true });
  say(
    'purged cluster data (etcd, PKI, tokens), Prometheus data, built images, registry data and the git server (users, tokens, repositories): the next up starts from scratch.',
  );
}

export async function down(purgeData: boolean): Promise<number> {
  const state = loadState();
  if (!state) {
    say('not up (no state file); nothing to stop.');
    rmSync(APP_CONFIG, { force: true });
    await cleanUpRealNodes();
    if (purgeData) purge();
    return 0;
  }
  say(`stopping ${state.processes.length} processes started by up ...`);
  await stopProcesses(state.processes);
  const left = state.processes.filter(p => isRunning(p));
  if (left.length > 0) {
    process.stderr.write(
      `[platform] still running: ${left
        .map(p => `${p.name} (pid ${p.pid})`)
        .join(', ')}\n`,
    );
    return 1;
  }
  // What the real nodes leave without a pid of their own: containers, shims, mounts, the bridges, host settings.
  const problems = await cleanUpRealNodes();
  if (problems.length > 0) {
    process.stderr.write(`[platform] left behind: ${problems.join('; ')}\n`);
    return 1;
  }
  removeState();
  rmSync(APP_CONFIG, { force: true });
  say('down: nothing left running. Logs kept in .platform/logs/.');
  if (purgeData) purge();
  return 0;
}
