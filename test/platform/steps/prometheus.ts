/** Prometheus scraping the model servers, with a generated, checked config. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HOST, PROMETHEUS_PORT } from '../ports.ts';
import { prometheusConfig, prometheusPodConfig } from '../lib/documents.ts';
import { podNetwork } from '../lib/network.ts';
import type { ClusterCtx } from './credentials.ts';
import { which } from '../lib/exec.ts';
import { httpOk } from '../lib/http.ts';
import { PROMETHEUS_DIR, REAL_NODES, type DemoService } from '../lib/layout.ts';
import { PlatformError, say } from '../lib/output.ts';
import type { Launcher } from '../lib/supervisor.ts';

/** Writes prometheus.yml (checked with promtool when there is one), starts Prometheus and waits until it is ready. */
export async function startPrometheus(
  launcher: Launcher,
  prometheusBin: string,
  services: DemoService[],
  podNames: Record<string, string>,
  ctxs: ClusterCtx[],
): Promise<void> {
  say(`starting Prometheus on ${HOST}:${PROMETHEUS_PORT} ...`);
  mkdirSync(path.join(PROMETHEUS_DIR, 'data'), { recursive: true });
  const promConfig = path.join(PROMETHEUS_DIR, 'prometheus.yml');
  writeFileSync(
    promConfig,
    REAL_NODES
      ? prometheusPodConfig(
          ctxs.map(c => {
            const net = podNetwork(c.name);
            return {
              cluster: c.name,
              kubeconfig: c.adminKubeconfig,
              podIpRegex: `${net.cidr
                .slice(0, net.cidr.lastIndexOf('.'))
                .replace(/\./g, '\\.')}\\.\\d+`,
            };
          }),
        )
      : prometheusConfig(services, podNames),
  );
  // Debian's promtool (2.42) knows no Kubernetes discovery: it checks only the static config.
  const promtool = REAL_NODES ? undefined : which('promtool');
  if (promtool) {
    const r = spawnSync(promtool, ['check', 'config', promConfig], {
      encoding: 'utf8',
    });
    if (r.status !== 0)
      throw new PlatformError(
        'prometheus',
        `generated config is invalid: ${r.stderr || r.stdout}`,
        promConfig,
        'a bug in prometheusConfig() in test/platform/lib/documents.ts',
      );
  }
  const prom = launcher.start({
    name: 'prometheus',
    component: 'prometheus',
    exe: prometheusBin,
    url: `http://${HOST}:${PROMETHEUS_PORT}`,
    args: [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${path.join(PROMETHEUS_DIR, 'data')}`,
      `--web.listen-address=${HOST}:${PROMETHEUS_PORT}`,
      '--storage.tsdb.retention.time=2d',
      '--log.level=warn',
    ],
  });
  await launcher.waitReady(
    prom,
    'prometheus',
    () => httpOk(`http://${HOST}:${PROMETHEUS_PORT}/-/ready`),
    'look at the log; the config is at .platform/prometheus/prometheus.yml',
  );
  launcher.state.prometheus = { url: `http://${HOST}:${PROMETHEUS_PORT}` };
}
