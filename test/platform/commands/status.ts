/**
 * `status [--json]`: what `up` recorded and whether each process still runs.
 * Exits 0 when everything runs, 1 when something is down or still starting,
 * 3 when the platform is not up at all.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { APP_CONFIG, REPO_ROOT } from '../lib/layout.ts';
import { say } from '../lib/output.ts';
import { loadState, type State } from '../lib/state.ts';
import { isRunning } from '../lib/supervisor.ts';

/** The `status --json` shape when there is no state file. */
const NOT_UP = {
  up: false,
  clusters: [],
  prometheus: null,
  gitea: null,
  modelServers: [],
  components: [],
};

/** The `status --json` document of a recorded platform. */
function report(state: State) {
  const byPid = new Map(state.processes.map(p => [p.pid, p]));
  const running = (pid: number): boolean => {
    const p = byPid.get(pid);
    return !!p && isRunning(p);
  };
  const components = state.processes.map(p => ({
    name: p.name,
    component: p.component,
    cluster: p.cluster ?? null,
    pid: p.pid,
    url: p.url ?? null,
    log: p.log,
    running: isRunning(p),
  }));
  const allRunning = components.every(c => c.running) && state.phase === 'up';
  return {
    up: allRunning,
    phase: state.phase,
    startedAt: state.startedAt,
    clusters: state.clusters.map(c => ({
      name: c.name,
      server: c.server,
      kubeconfig: c.kubeconfig,
      modelopsKubeconfig: c.modelopsKubeconfig,
    })),
    prometheus: state.prometheus
      ? {
          url: state.prometheus.url,
          running: components.some(
            c => c.component === 'prometheus' && c.running,
          ),
        }
      : null,
    modelServers: state.modelServers.map(m => ({
      service: m.service,
      environment: m.environment,
      url: m.url,
      pid: m.pid,
      running: running(m.pid),
      traffic: {
        pid: m.trafficPid,
        controlUrl: m.trafficControlUrl,
        running: running(m.trafficPid),
      },
    })),
    // No secrets here: the admin's password and token are in state.json (mode 0600).
    gitea: state.gitea
      ? {
          url: state.gitea.url,
          version: state.gitea.version,
          username: state.gitea.username,
          org: state.gitea.org,
          repositories: state.gitea.repositories,
          running: components.some(c => c.component === 'gitea' && c.running),
        }
      : null,
    appConfig: existsSync(APP_CONFIG) ? APP_CONFIG : null,
    components,
  };
}

function printHuman(state: State, out: ReturnType<typeof report>): void {
  say(
    `${
      out.up ? 'UP' : state.phase === 'starting' ? 'STARTING' : 'DEGRADED'
    } (started ${state.startedAt}${
      state.upSeconds ? `, up took ${state.upSeconds}s` : ''
    })`,
  );
  for (const c of out.clusters)
    process.stdout.write(
      `  cluster ${c.name.padEnd(5)} ${c.server}   kubeconfig ${path.relative(
        REPO_ROOT,
        c.kubeconfig,
      )}\n`,
    );
  if (out.prometheus)
    process.stdout.write(`  prometheus    ${out.prometheus.url}\n`);
  if (out.gitea)
    process.stdout.write(
      `  gitea         ${out.gitea.url} (${out.gitea.version}; ${out.gitea.repositories.length} repositories in ${out.gitea.org})\n`,
    );
  if (out.appConfig)
    process.stdout.write(
      `  backstage     ${path.relative(REPO_ROOT, out.appConfig)}\n`,
    );
  process.stdout.write('  processes:\n');
  for (const c of out.components) {
    process.stdout.write(
      `    ${c.running ? 'running' : 'DOWN   '}  ${c.name.padEnd(
        40,
      )} pid ${String(c.pid).padEnd(8)} ${c.url ?? ''}${
        c.running ? '' : `   log: ${path.relative(REPO_ROOT, c.log)}`
      }\n`,
    );
  }
}

export function status(json: boolean): number {
  const state = loadState();
  if (!state) {
    if (json) process.stdout.write(`${JSON.stringify(NOT_UP, null, 2)}\n`);
    else
      say(
        'down (no state file). Start it with `node test/platform/cli.ts up`.',
      );
    return 3;
  }
  const out = report(state);
  if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else printHuman(state, out);
  return out.up ? 0 : 1;
}
