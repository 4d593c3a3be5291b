/**
 * `up`: starts everything, in order, and records each process as it starts;
 * idempotent. On any failure (or ^C) it reports the component, its log and
 * the likely fix, and stops exactly what this run had started.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { appConfig, mergedKubeconfig } from '../lib/documents.ts';
import {
  APP_CONFIG,
  LOG_DIR,
  MERGED_KUBECONFIG,
  REAL_NODES,
  REPO_ROOT,
  loadDemoServices,
} from '../lib/layout.ts';
import {
  PlatformError,
  asPlatformError,
  reportUpFailure,
  say,
} from '../lib/output.ts';
import { loadState, newState, removeState, saveState } from '../lib/state.ts';
import { Launcher, isRunning, stopProcesses } from '../lib/supervisor.ts';
import {
  binPath,
  binVersions,
  ensureBinaries,
  ensurePrometheus,
  type Binary,
} from '../steps/binaries.ts';
import { applyClusterObjects } from '../steps/cluster-objects.ts';
import {
  clearKwokLeases,
  startApiservers,
  startControllers,
  startEtcd,
} from '../steps/control-plane.ts';
import { prepareClusters } from '../steps/credentials.ts';
import {
  startModelServers,
  startTrafficToPods,
} from '../steps/model-servers.ts';
import { preflight } from '../steps/preflight.ts';
import { startPrometheus } from '../steps/prometheus.ts';
import { buildkitImage, ensureImages } from '../steps/images.ts';
import {
  ensureDemoRepos,
  startGitea,
  startGiteaRelay,
} from '../steps/gitea.ts';
import {
  cleanUpRealNodes,
  forgetImages,
  dropRealNodes,
  startRealNodes,
} from '../steps/real-node.ts';
import { startRegistry, startRegistryRelay } from '../steps/registry.ts';

/** True when a complete platform already runs; stops a half-running one first. */
async function alreadyUp(): Promise<boolean> {
  const existing = loadState();
  if (!existing) return false;
  const down = existing.processes.filter(p => !isRunning(p));
  if (existing.phase === 'up' && down.length === 0) {
    say(
      `already up (started ${existing.startedAt}); nothing to do. \`status\` shows it, \`down\` stops it.`,
    );
    return true;
  }
  say(
    `a previous platform is half-running (${down.length} of ${existing.processes.length} processes down, phase ${existing.phase}): stopping it first`,
  );
  await stopProcesses(existing.processes);
  removeState();
  return false;
}

export async function up(): Promise<number> {
  const t0 = Date.now();
  if (await alreadyUp()) return 0;

  const services = loadDemoServices();
  const state = newState();
  const launcher = new Launcher(state);

  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const checkInterrupted = (): void => {
    if (interrupted) throw new PlatformError('up', 'interrupted');
  };

  try {
    // Cluster data (PKI, tokens, etcd) and Prometheus data persist across down/up, so a
    // Backstage backend started with the generated config keeps working after a restart.
    // `down --purge` wipes them. Logs are overwritten per process.
    rmSync(APP_CONFIG, { force: true });
    mkdirSync(LOG_DIR, { recursive: true });

    // 1. preflight: ports, packages, model server sources
    await preflight(services);
    const prometheusBin = ensurePrometheus();
    checkInterrupted();

    // 2. binaries
    const versions = binVersions();
    await ensureBinaries(versions);
    const bin = (b: Binary): string => binPath(b, versions);
    checkInterrupted();

    // 3. per-cluster PKI, tokens, kubeconfigs
    const ctxs = prepareClusters();

    // 3a. the git server with the demo repositories, set up while the control plane starts
    const giteaReady: Promise<unknown> = startGitea(launcher, bin('gitea'))
      .then(async g => {
        await ensureDemoRepos(g, services);
        state.gitea = g;
        return undefined;
      })
      .catch((e: unknown) => e);

    // 3b. real nodes: the registry, then the images built and pushed while the control plane starts
    let imagesReady: Promise<unknown> = Promise.resolve(undefined);
    let pushed: string[] = [];
    if (REAL_NODES) {
      await startRegistry(launcher);
      imagesReady = ensureImages(services, {
        version: versions.buildkitd,
        buildkitd: bin('buildkitd'),
        buildctl: bin('buildctl'),
        daemonless: path.join(
          path.dirname(bin('buildctl')),
          'buildctl-daemonless.sh',
        ),
      }).then(
        refs => {
          pushed = refs;
          return undefined;
        },
        (e: unknown) => e,
      );
    }

    // 4. etcd, 5. kube-apiserver
    await startEtcd(launcher, ctxs, bin);
    checkInterrupted();
    await startApiservers(launcher, ctxs, bin);
    checkInterrupted();
    await clearKwokLeases(ctxs, bin);

    // 6a. the model servers and traffic generators need no cluster: boot them while the controllers start
    const modelServersReady: Promise<unknown> = (
      REAL_NODES
        ? Promise.resolve()
        : startModelServers(launcher, ctxs, services)
    ).then(
      () => undefined,
      (e: unknown) => e,
    );

    // 6. controller-manager, scheduler, kwok
    await startControllers(launcher, ctxs, bin);
    checkInterrupted();

    // 6b. a real node per cluster (containerd + kubelet); kwok's node only for pods that tolerate it
    if (REAL_NODES) {
      const imgErr = await imagesReady;
      if (imgErr) throw imgErr;
      checkInterrupted();
      await startRealNodes(launcher, ctxs, bin);
      // A tag pushed anew names new content: the nodes must not keep the old one.
      forgetImages(ctxs, pushed);
      await startRegistryRelay(
        launcher,
        ctxs.map(c => c.name),
      );
      // Build pods clone the demo repositories from the bridge address too.
      const gitErr = await giteaReady;
      if (gitErr) throw gitErr;
      await startGiteaRelay(
        launcher,
        ctxs.map(c => c.name),
      );
      checkInterrupted();
    } else {
      await dropRealNodes(ctxs, bin);
    }

    // 7. cluster objects: namespaces, fake node, CRD, RBAC, the modelops identity, demo workloads
    const podNames = await applyClusterObjects(ctxs, bin('kubectl'), services);
    state.clusters = ctxs.map(c => ({
      name: c.name,
      server: c.server,
      kubeconfig: c.adminKubeconfig,
      modelopsKubeconfig: c.modelopsKubeconfig,
    }));
    writeFileSync(
      MERGED_KUBECONFIG,
      mergedKubeconfig(ctxs.map(c => ({ ...c, token: c.tokens.admin }))),
      { mode: 0o600 },
    );
    saveState(state);
    checkInterrupted();

    // 8. model servers and traffic generators (started earlier, in the background)
    const msErr = await modelServersReady;
    if (msErr) throw msErr;
    if (REAL_NODES) await startTrafficToPods(launcher, ctxs, services);
    saveState(state);
    checkInterrupted();

    // 9. Prometheus
    // Debian's Prometheus has no Kubernetes discovery; real nodes use the one built from the Go proxy.
    await startPrometheus(
      launcher,
      REAL_NODES ? bin('prometheus') : prometheusBin,
      services,
      podNames,
      ctxs,
    );

    // 10. the Backstage config
    const gitErr = await giteaReady;
    if (gitErr) throw gitErr;
    writeFileSync(
      APP_CONFIG,
      appConfig(
        ctxs.map(c => ({ ...c, token: c.saToken! })),
        state.gitea,
        REAL_NODES ? buildkitImage(versions.buildkitd) : undefined,
      ),
      { mode: 0o600 },
    );
    state.phase = 'up';
    state.upSeconds = Math.round((Date.now() - t0) / 100) / 10;
    saveState(state);
    say(
      `up in ${state.upSeconds}s. Backstage config: ${path.relative(
        REPO_ROOT,
        APP_CONFIG,
      )}; kubeconfig (admin, both contexts): ${path.relative(
        REPO_ROOT,
        MERGED_KUBECONFIG,
      )}`,
    );
    return 0;
  } catch (e) {
    reportUpFailure(asPlatformError(e, 'up'));
    launcher.closed = true;
    if (launcher.started.length > 0) {
      process.stderr.write(
        `[platform] tearing down the ${launcher.started.length} processes this run started ...\n`,
      );
      await stopProcesses(launcher.started.map(s => s.rec));
    }
    if (REAL_NODES) await cleanUpRealNodes();
    removeState();
    rmSync(APP_CONFIG, { force: true });
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
