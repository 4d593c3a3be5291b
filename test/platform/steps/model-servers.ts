/**
 * The demo model servers and their traffic generators, one of each per
 * service and cluster. They need no cluster, so `up` boots them while the
 * controllers start.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { HOST } from '../ports.ts';
import { assertRoutedToBridge, podNetwork } from '../lib/network.ts';
import { httpOk } from '../lib/http.ts';
import {
  MODEL_SERVER,
  MODEL_SERVER_DIR,
  NAMESPACE,
  TRAFFIC,
  type ClusterName,
  type DemoService,
} from '../lib/layout.ts';
import { say } from '../lib/output.ts';
import type { Launcher, Started } from '../lib/supervisor.ts';
import type { ClusterCtx } from './credentials.ts';

/** Starts every model server, then every traffic generator; records each pair in the state. */
export async function startModelServers(
  launcher: Launcher,
  ctxs: ClusterCtx[],
  services: DemoService[],
): Promise<void> {
  say(
    `starting ${services.length * 2} model servers and ${
      services.length * 2
    } traffic generators (in the background) ...`,
  );
  const servers: [Started, ClusterName, DemoService, number][] = [];
  for (const c of ctxs) {
    services.forEach((s, i) => {
      const port = c.ports.modelServerBase + i;
      servers.push([
        launcher.start({
          name: `${c.name}-model-server-${s.id}`,
          component: 'model-server',
          cluster: c.name,
          service: s.id,
          exe: process.execPath,
          url: `http://${HOST}:${port}`,
          cwd: MODEL_SERVER_DIR,
          args: [
            MODEL_SERVER,
            '--port',
            String(port),
            '--host',
            HOST,
            '--model',
            s.id,
            '--runtime',
            s.runtime,
          ],
        }),
        c.name,
        s,
        port,
      ]);
    });
  }
  await Promise.all(
    servers.map(([st, env, s, port]) =>
      launcher.waitReady(
        st,
        `model server ${s.id} (${env})`,
        () => httpOk(`http://${HOST}:${port}/healthz`),
        'run the model server by hand to see the error',
      ),
    ),
  );
  const traffic: [Started, string, number][] = [];
  for (const c of ctxs) {
    services.forEach((s, i) => {
      const port = c.ports.modelServerBase + i;
      const control = c.ports.trafficControlBase + i;
      const st = launcher.start({
        name: `${c.name}-traffic-${s.id}`,
        component: 'traffic-generator',
        cluster: c.name,
        service: s.id,
        exe: process.execPath,
        url: `http://${HOST}:${control}`,
        cwd: MODEL_SERVER_DIR,
        args: [
          TRAFFIC,
          '--target',
          `http://${HOST}:${port}`,
          '--model',
          s.id,
          '--runtime',
          s.runtime,
          '--rps',
          '5',
          '--control-port',
          String(control),
        ],
      });
      traffic.push([st, `traffic generator ${s.id} (${c.name})`, control]);
      const server = servers.find(
        ([, e, sv]) => e === c.name && sv.id === s.id,
      );
      launcher.state.modelServers.push({
        service: s.id,
        environment: c.name,
        url: `http://${HOST}:${port}`,
        pid: server![0].rec.pid,
        trafficPid: st.rec.pid,
        trafficControlUrl: `http://${HOST}:${control}`,
      });
    });
  }
  await trafficGeneratorsReady(launcher, traffic);
}

/**
 * With real nodes the model servers are the demo pods: only the traffic
 * generators run on the host, each following its Service's ready endpoints
 * (EndpointSlices) inside the cluster's pod network, so a rollout moves the
 * traffic (and the metrics) with it.
 */
export async function startTrafficToPods(
  launcher: Launcher,
  ctxs: ClusterCtx[],
  services: DemoService[],
): Promise<void> {
  say(
    `starting ${
      services.length * 2
    } traffic generators that follow the demo Services' endpoints ...`,
  );
  const traffic: [Started, string, number][] = [];
  for (const c of ctxs) {
    const net = podNetwork(c.name);
    // Every address the generators may use is on the platform's bridge.
    assertRoutedToBridge(net, net.rangeStart);
    assertRoutedToBridge(net, net.rangeEnd);
    const tokenFile = path.join(c.pki, 'traffic.token');
    writeFileSync(tokenFile, c.tokens.admin, { mode: 0o600 });
    services.forEach((s, i) => {
      const control = c.ports.trafficControlBase + i;
      const st = launcher.start({
        name: `${c.name}-traffic-${s.id}`,
        component: 'traffic-generator',
        cluster: c.name,
        service: s.id,
        exe: process.execPath,
        url: `http://${HOST}:${control}`,
        cwd: MODEL_SERVER_DIR,
        args: [
          TRAFFIC,
          '--service',
          `${NAMESPACE}/${s.id}`,
          '--api-server',
          c.server,
          '--ca-file',
          path.join(c.pki, 'ca.crt'),
          '--token-file',
          tokenFile,
          '--pod-cidr',
          net.cidr,
          '--model',
          s.id,
          '--runtime',
          s.runtime,
          '--rps',
          '5',
          '--control-port',
          String(control),
        ],
      });
      traffic.push([st, `traffic generator ${s.id} (${c.name})`, control]);
      launcher.state.modelServers.push({
        service: s.id,
        environment: c.name,
        url: `endpointslices:${NAMESPACE}/${s.id}`,
        pid: st.rec.pid,
        trafficPid: st.rec.pid,
        trafficControlUrl: `http://${HOST}:${control}`,
      });
    });
  }
  await trafficGeneratorsReady(launcher, traffic);
}

/** Waits until every started traffic generator answers on its control port. */
function trafficGeneratorsReady(
  launcher: Launcher,
  traffic: [Started, string, number][],
): Promise<unknown> {
  return Promise.all(
    traffic.map(([st, what, control]) =>
      launcher.waitReady(
        st,
        what,
        () => httpOk(`http://${HOST}:${control}/healthz`),
        'run the traffic generator by hand to see the error',
      ),
    ),
  );
}
