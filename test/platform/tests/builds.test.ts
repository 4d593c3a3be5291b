/**
 * The git server and image builds: Gitea answers with the pinned version and
 * holds a repository per demo service, the Backstage config names it, and
 * (with real nodes) a BuildKit Job in the dev cluster builds a demo
 * repository's Dockerfile from its git URL on the bridge and pushes the image
 * to the registry, which then serves the digest the build reported.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { podNetwork } from '../lib/network.ts';
import type { GiteaRecord } from '../lib/state.ts';
import { GITEA_PORT, REGISTRY_PORT } from '../ports.ts';
import {
  demoServices,
  HOST,
  hasRealNodes,
  kubectl,
  kubectlOk,
  status,
  STATE_DIR,
  waitUntil,
  type Status,
} from './helpers.ts';

const st: Status = status();
const gitea = st.up
  ? (
      JSON.parse(readFileSync(path.join(STATE_DIR, 'state.json'), 'utf8')) as {
        gitea?: GiteaRecord;
      }
    ).gitea
  : undefined;

/** A Gitea API GET as the platform's admin (its token from state.json). */
async function giteaGet(urlPath: string): Promise<Response> {
  return fetch(`${gitea!.url}/api/v1${urlPath}`, {
    headers: { authorization: `token ${gitea!.token}` },
    signal: AbortSignal.timeout(10_000),
  });
}

describe(
  'git server',
  { skip: st.up ? false : 'the platform is not up' },
  () => {
    test('Gitea answers on loopback with the pinned version 1.26.0', async () => {
      assert.ok(gitea, 'state.json records the git server');
      assert.equal(gitea.url, `http://${HOST}:${GITEA_PORT}`);
      const r = await fetch(`${gitea.url}/api/v1/version`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { version: '1.26.0' });
      const me = await giteaGet('/user');
      assert.equal(me.status, 200, 'the access token in state.json works');
      assert.equal(
        ((await me.json()) as { login: string }).login,
        gitea.username,
      );
      assert.ok(
        st.components.some(c => c.component === 'gitea' && c.running),
        'gitea is a supervised process',
      );
    });

    test('a public repository per demo service, with a Dockerfile FROM the local registry and a catalog-info.yaml', async () => {
      for (const svc of demoServices()) {
        const r = await giteaGet(`/repos/${gitea!.org}/${svc.id}`);
        assert.equal(r.status, 200, `${gitea!.org}/${svc.id} exists`);
        const repo = (await r.json()) as {
          private: boolean;
          default_branch: string;
          empty: boolean;
        };
        assert.equal(repo.private, false);
        assert.equal(repo.default_branch, 'main');
        assert.equal(repo.empty, false);
        const raw = async (f: string): Promise<string> => {
          const res = await fetch(
            `${gitea!.url}/${gitea!.org}/${svc.id}/raw/branch/main/${f}`,
          );
          assert.equal(res.status, 200, `${svc.id}: ${f}`);
          return res.text();
        };
        const dockerfile = await raw('Dockerfile');
        assert.match(
          dockerfile,
          /^ARG NODE_IMAGE=registry\.modelops\.local\//m,
        );
        assert.match(dockerfile, new RegExp(`^ARG MODEL_NAME=${svc.id}$`, 'm'));
        // Nothing in it needs the network: files are copied in, nothing is run.
        assert.doesNotMatch(dockerfile, /^\s*RUN\b/m);
        assert.doesNotMatch(dockerfile, /^# *syntax=/m);
        const entity = parse(await raw('catalog-info.yaml')) as {
          metadata: { name: string; annotations: Record<string, string> };
        };
        assert.equal(entity.metadata.name, svc.id);
        assert.equal(
          entity.metadata.annotations['backstage.io/source-location'],
          `url:${gitea!.url}/${gitea!.org}/${svc.id}`,
        );
        await raw('src/server.ts');
        await raw('package.json');
      }
    });

    test('the Backstage config has the Gitea integration (host, baseUrl, username, token as password)', () => {
      const cfg = parse(
        readFileSync(path.join(STATE_DIR, 'app-config.platform.yaml'), 'utf8'),
      ) as {
        integrations?: {
          gitea?: {
            host: string;
            baseUrl: string;
            username: string;
            password: string;
          }[];
        };
      };
      assert.deepEqual(cfg.integrations?.gitea, [
        {
          host: `${HOST}:${GITEA_PORT}`,
          baseUrl: gitea!.url,
          username: gitea!.username,
          password: gitea!.token,
        },
      ]);
    });
  },
);

describe(
  'image builds (BuildKit Job)',
  {
    skip:
      st.up && hasRealNodes(st)
        ? false
        : 'the platform is not up with real nodes',
  },
  () => {
    test('a Job builds a demo repository from Gitea with BuildKit and pushes the image; the registry serves the digest it reports', async () => {
      const dev = st.clusters.find(c => c.name === 'dev')!.kubeconfig;
      const net = podNetwork('dev');
      // The host's own address on the platform bridge: routed locally, never out of another interface.
      const route = spawnSync('ip', ['-o', 'route', 'get', net.hostIp], {
        encoding: 'utf8',
      }).stdout;
      assert.match(
        route,
        new RegExp(`^local ${net.hostIp.replace(/\./g, '\\.')} dev lo\\b`),
      );
      const addrs = spawnSync(
        'ip',
        ['-4', '-o', 'addr', 'show', 'dev', net.bridge],
        {
          encoding: 'utf8',
        },
      ).stdout;
      assert.ok(
        addrs.includes(` ${net.hostIp}/24 `),
        `${net.hostIp} is on ${net.bridge}`,
      );
      // The config the Job mounts names this cluster's bridge.
      const toml = kubectlOk(dev, [
        '-n',
        'modelops-builds',
        'get',
        'configmap',
        'buildkitd-config',
        '-o',
        'jsonpath={.data.buildkitd\\.toml}',
      ]);
      assert.ok(
        toml.includes(`mirrors = ["${net.hostIp}:${REGISTRY_PORT}"]`),
        toml,
      );

      const svc = demoServices()[0]!;
      const repo = `modelops-test/${svc.id}`;
      const tag = `build-${Date.now().toString(36)}`;
      const name = `build-${svc.id}-${tag.slice(6)}`;
      const context = `http://${net.hostIp}:${GITEA_PORT}/${gitea!.org}/${
        svc.id
      }.git#main`;
      const output = `type=image,name=${net.hostIp}:${REGISTRY_PORT}/${repo}:${tag},push=true`;
      const job = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, namespace: 'modelops-builds' },
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: 900,
          ttlSecondsAfterFinished: 600,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'buildkit',
                  image: 'registry.modelops.local/platform/buildkit:v0.34.2',
                  args: [
                    'build',
                    '--frontend=dockerfile.v0',
                    `--opt=context=${context}`,
                    `--output=${output}`,
                    '--metadata-file=/dev/termination-log',
                  ],
                  env: [
                    {
                      name: 'BUILDKITD_FLAGS',
                      value:
                        '--config=/etc/buildkit/buildkitd.toml --oci-worker-net=host',
                    },
                  ],
                  securityContext: { privileged: true },
                  volumeMounts: [
                    { name: 'state', mountPath: '/var/lib/buildkit' },
                    {
                      name: 'config',
                      mountPath: '/etc/buildkit',
                      readOnly: true,
                    },
                  ],
                },
              ],
              volumes: [
                { name: 'state', emptyDir: {} },
                { name: 'config', configMap: { name: 'buildkitd-config' } },
              ],
            },
          },
        },
      };
      const t0 = Date.now();
      kubectlOk(dev, ['apply', '-f', '-'], JSON.stringify(job));
      try {
        const podLogs = (): string =>
          kubectl(dev, [
            '-n',
            'modelops-builds',
            'logs',
            `job/${name}`,
            '--tail=30',
          ]).stdout;
        const outcome = await waitUntil(
          `Job ${name} Complete or Failed`,
          () => {
            const conds = kubectlOk(dev, [
              '-n',
              'modelops-builds',
              'get',
              'job',
              name,
              '-o',
              'jsonpath={range .status.conditions[?(@.status=="True")]}{.type} {end}',
            ]);
            if (/\bFailed\b/.test(conds)) return 'Failed';
            if (/\bComplete\b/.test(conds)) return 'Complete';
            return undefined;
          },
          900_000,
          2000,
        );
        const seconds = Math.round((Date.now() - t0) / 1000);
        assert.equal(outcome, 'Complete', `the build failed:\n${podLogs()}`);
        process.stdout.write(`# build Job ${name} completed in ${seconds}s\n`);
        const pods = JSON.parse(
          kubectlOk(dev, [
            '-n',
            'modelops-builds',
            'get',
            'pods',
            '-l',
            `job-name=${name}`,
            '-o',
            'json',
          ]),
        ) as {
          items: {
            spec: { nodeName?: string };
            status: {
              containerStatuses?: {
                state: { terminated?: { exitCode: number; message?: string } };
              }[];
            };
          }[];
        };
        assert.equal(pods.items.length, 1);
        assert.equal(pods.items[0]!.spec.nodeName, 'node-0');
        const terminated =
          pods.items[0]!.status.containerStatuses?.[0]?.state.terminated;
        assert.equal(terminated?.exitCode, 0);
        const meta = JSON.parse(terminated!.message!) as Record<
          string,
          unknown
        >;
        const digest = meta['containerimage.digest'] as string;
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);
        const head = await fetch(
          `http://${HOST}:${REGISTRY_PORT}/v2/${repo}/manifests/${tag}`,
          {
            method: 'HEAD',
            headers: {
              accept:
                'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json',
            },
          },
        );
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('docker-content-digest'), digest);
        // The test's image goes again (the registry allows deletes).
        await fetch(
          `http://${HOST}:${REGISTRY_PORT}/v2/${repo}/manifests/${digest}`,
          {
            method: 'DELETE',
          },
        );
      } finally {
        kubectl(dev, [
          '-n',
          'modelops-builds',
          'delete',
          'job',
          name,
          '--cascade=background',
          '--ignore-not-found',
          '--wait=false',
        ]);
      }
    });
  },
);
