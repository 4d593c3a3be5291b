/**
 * The default image builder: one Kubernetes Job per build in the build
 * cluster and namespace, running BuildKit's daemonless `buildctl` against
 * the git repository (cloned by BuildKit itself at the commit) and pushing
 * to the entity's image repository. Its result, the pushed digest, is the
 * container's termination message (`--metadata-file=/dev/termination-log`),
 * so no log is parsed for it.
 */
import {
  ModelOpsBuildLogs,
  ModelOpsBuildRequest,
  ModelOpsBuildStatus,
  ModelOpsImageBuilder,
  ModelOpsTriggeredBuild,
} from '@modelops/plugin-modelops-node';
import { ModelOpsConfig } from '../../config';
import { ClusterClients } from '../../kubernetes/ClusterClients';
import { KubeObject } from '../../kubernetes/types';

export const BUILDKIT_BUILDER = 'buildkit';
export const LABEL_BUILD_ID = 'modelops/build-id';
export const ANNOTATION_BUILD_ENTITY = 'modelops/entity-ref';
const CONTAINER = 'buildkit';
/** Where buildctl writes its result metadata (JSON with the pushed digest). */
const METADATA = '/tmp/buildctl-metadata.json';
/**
 * Runs upstream's daemonless buildctl with the Job's arguments ("$@", never
 * interpolated), then copies the metadata into the termination message. buildctl
 * replaces its metadata file by a rename, which the file the kubelet
 * bind-mounts at /dev/termination-log refuses (EBUSY), so it writes to /tmp.
 */
const ENTRYPOINT = [
  'buildctl-daemonless.sh "$@"',
  'status=$?',
  `if [ -s ${METADATA} ]; then cat ${METADATA} > /dev/termination-log; fi`,
  'exit $status',
].join('\n');
/** Log bytes read from the pod per request at most. */
const LOG_READ_BYTES = 8 << 20;
/** Waiting reasons from which a build pod never starts. */
const STUCK = new Set([
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

type BuildkitConfig = ModelOpsConfig['builds']['buildkit'];

/** `cluster/namespace/job`. */
function parseRef(externalRef: string) {
  const [cluster, namespace, job] = externalRef.split('/');
  if (!cluster || !namespace || !job)
    throw new Error(`not a buildkit build reference: ${externalRef}`);
  return { cluster, namespace, job };
}

/** The host of an image repository (its first path part when it looks like one). */
function splitRepository(repository: string): { host?: string; path: string } {
  const [first, ...rest] = repository.split('/');
  if (rest.length && /[.:]|^localhost$/.test(first!))
    return { host: first, path: rest.join('/') };
  return { path: repository };
}

/** The git context BuildKit clones: `url#commit-or-ref[:dir]`, the host as the build pod reaches it. */
export function gitContext(
  source: ModelOpsBuildRequest['source'],
  gitHosts: Record<string, string>,
): string {
  const url = new URL(source.url);
  const alias = gitHosts[url.host];
  if (alias) url.host = alias;
  const dir = source.contextPath === '.' ? '' : `:${source.contextPath}`;
  return `${url.toString()}#${source.commit ?? source.ref}${dir}`;
}

/** The Job of one build, as applied. */
export function buildJob(options: {
  request: ModelOpsBuildRequest;
  namespace: string;
  config: BuildkitConfig;
}): KubeObject {
  const { request, namespace, config } = options;
  if (!config.image)
    throw new Error(
      'modelops.builds.buildkit.image is not configured: it names the BuildKit image the build Job runs',
    );
  const { host, path } = splitRepository(request.image.repository);
  const pushHost = host ? config.pushRegistries[host] ?? host : undefined;
  const destination = `${pushHost ? `${pushHost}/` : ''}${path}:${
    request.image.tag
  }`;
  const rootless = config.mode === 'rootless';
  const home = rootless ? '/home/user' : '/root';
  const flags = ['--oci-worker-net=host'];
  if (rootless) flags.push('--oci-worker-no-process-sandbox');
  if (config.configMap) flags.push('--config=/etc/buildkit/buildkitd.toml');
  const args = [
    'build',
    '--frontend=dockerfile.v0',
    `--opt=context=${gitContext(request.source, config.gitHosts)}`,
    `--opt=filename=${request.source.dockerfile}`,
    ...Object.entries(request.buildArgs).map(
      ([k, v]) => `--opt=build-arg:${k}=${v}`,
    ),
    `--output=type=image,name=${destination},push=true`,
    `--metadata-file=${METADATA}`,
  ];
  const volumes: Record<string, unknown>[] = [{ name: 'state', emptyDir: {} }];
  const mounts: Record<string, unknown>[] = [
    {
      name: 'state',
      mountPath: rootless
        ? `${home}/.local/share/buildkit`
        : '/var/lib/buildkit',
    },
  ];
  const env: Record<string, unknown>[] = [
    { name: 'BUILDKITD_FLAGS', value: flags.join(' ') },
    // buildkitd gets about 30 s to answer, not the script's 2 s: a busy node needs it.
    { name: 'BUILDCTL_CONNECT_RETRIES_MAX', value: '50' },
  ];
  if (config.configMap) {
    volumes.push({ name: 'config', configMap: { name: config.configMap } });
    mounts.push({ name: 'config', mountPath: '/etc/buildkit', readOnly: true });
  }
  if (config.registrySecret) {
    volumes.push({
      name: 'registry',
      secret: {
        secretName: config.registrySecret,
        items: [{ key: '.dockerconfigjson', path: 'config.json' }],
      },
    });
    mounts.push({
      name: 'registry',
      mountPath: `${home}/.docker`,
      readOnly: true,
    });
    env.push({ name: 'DOCKER_CONFIG', value: `${home}/.docker` });
  }
  const name = `modelops-build-${request.buildId}`;
  const labels = {
    'app.kubernetes.io/managed-by': 'backstage-modelops',
    'app.kubernetes.io/component': 'image-build',
    [LABEL_BUILD_ID]: request.buildId,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace,
      labels,
      annotations: { [ANNOTATION_BUILD_ENTITY]: request.entityRef },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: config.activeDeadlineSeconds,
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
      template: {
        metadata: {
          labels,
          annotations: rootless
            ? {
                'container.apparmor.security.beta.kubernetes.io/buildkit':
                  'unconfined',
              }
            : {},
        },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [
            {
              name: CONTAINER,
              image: config.image,
              command: ['/bin/sh', '-c', ENTRYPOINT, 'buildctl'],
              args,
              env,
              securityContext: rootless
                ? {
                    runAsUser: 1000,
                    runAsGroup: 1000,
                    seccompProfile: { type: 'Unconfined' },
                  }
                : { privileged: true },
              resources: config.resources,
              terminationMessagePolicy: 'File',
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

/** Where the previous log page ended: a line's timestamp and how many lines of that timestamp were given. */
function parseCursor(
  after: string | undefined,
): { ts: string; n: number } | undefined {
  if (!after) return undefined;
  const m = /^(\S+) (\d+)$/.exec(after);
  if (!m) throw new Error(`invalid log cursor ${JSON.stringify(after)}`);
  return { ts: m[1]!, n: Number(m[2]) };
}

/** The build container's status in a build pod (state: waiting, running or terminated). */
function buildContainer(pod: KubeObject | undefined): any {
  return ((pod?.status as any)?.containerStatuses ?? []).find(
    (c: any) => c.name === CONTAINER,
  );
}

/**
 * The digest of the image a build pod pushed, from buildctl's result
 * metadata in the build container's termination message; undefined until
 * the container has exited 0, or when the message holds no digest.
 */
export function pushedDigest(pod: KubeObject | undefined): string | undefined {
  const terminated = buildContainer(pod)?.state?.terminated;
  if (terminated?.exitCode !== 0) return undefined;
  try {
    const d = JSON.parse(terminated.message ?? '{}')['containerimage.digest'];
    return typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d)
      ? d
      : undefined;
  } catch {
    // No metadata: no digest.
    return undefined;
  }
}

export class BuildkitBuilder implements ModelOpsImageBuilder {
  readonly type = BUILDKIT_BUILDER;

  constructor(
    private readonly options: {
      config: ModelOpsConfig;
      clusters: ClusterClients;
    },
  ) {}

  /** The cluster builds run in: that of `modelops.builds.environment`, else of the first environment. */
  private buildCluster(): string {
    const { builds, environments } = this.options.config;
    const env =
      (builds.environment && environments[builds.environment]) ||
      Object.values(environments)[0];
    if (!env)
      throw new Error(
        'no environment is configured, so no cluster runs builds (modelops.builds.environment)',
      );
    return env.cluster;
  }

  async trigger(options: {
    request: ModelOpsBuildRequest;
  }): Promise<ModelOpsTriggeredBuild> {
    const { builds } = this.options.config;
    const cluster = this.buildCluster();
    const job = buildJob({
      request: options.request,
      namespace: builds.namespace,
      config: builds.buildkit,
    });
    const client = this.options.clusters.get(cluster);
    const jobs = await client.requireResource('batch/v1', 'Job');
    await client.apply(jobs, job, {
      fieldManager: 'backstage-modelops',
      force: false,
      dryRun: false,
    });
    return {
      externalRef: `${cluster}/${builds.namespace}/${job.metadata.name}`,
    };
  }

  private async read(externalRef: string) {
    const { cluster, namespace, job } = parseRef(externalRef);
    const client = this.options.clusters.get(cluster);
    const [jobs, pods] = await Promise.all([
      client.requireResource('batch/v1', 'Job'),
      client.requireResource('v1', 'Pod'),
    ]);
    const object = await client.get(jobs, namespace, job);
    const list = await client.list(pods, namespace, {
      labelSelector: `batch.kubernetes.io/job-name=${job}`,
    });
    const pod = list.sort((a, b) =>
      String(b.metadata.creationTimestamp ?? '').localeCompare(
        String(a.metadata.creationTimestamp ?? ''),
      ),
    )[0];
    return { client, namespace, job, object, pod, jobs };
  }

  async status(options: { externalRef: string }): Promise<ModelOpsBuildStatus> {
    const { object, pod, client, namespace, job, jobs } = await this.read(
      options.externalRef,
    );
    if (!object)
      return {
        phase: 'failed',
        reason: 'lost',
        message: `the build Job ${namespace}/${job} no longer exists`,
      };
    const status = (object.status ?? {}) as any;
    const conditions = (status.conditions ?? []) as any[];
    const holds = (type: string) =>
      conditions.find(c => c.type === type && c.status === 'True');
    const container = buildContainer(pod);
    const terminated = container?.state?.terminated;
    const times = {
      ...(status.startTime ? { startedAt: status.startTime } : {}),
      ...(status.completionTime ? { finishedAt: status.completionTime } : {}),
    };
    const complete = holds('Complete') ?? holds('SuccessCriteriaMet');
    if (complete) {
      const digest = pushedDigest(pod);
      return { phase: 'succeeded', ...(digest ? { digest } : {}), ...times };
    }
    const failed = holds('Failed') ?? holds('FailureTarget');
    if (failed) {
      const tail = await this.tail(client, namespace, pod?.metadata.name);
      return {
        phase: 'failed',
        reason: failed.reason ?? 'Failed',
        message: [
          failed.message,
          terminated?.exitCode !== undefined
            ? `buildctl exited with ${terminated.exitCode}`
            : undefined,
          tail ? `last lines of the log:\n${tail}` : undefined,
        ]
          .filter(Boolean)
          .join('; '),
        ...times,
        finishedAt:
          failed.lastTransitionTime ?? status.completionTime ?? undefined,
      };
    }
    // buildctl has pushed once it exits 0 with the image's digest: the build
    // is done then, not a second or two later when the kubelet has stopped
    // the pod and the Job controller has marked the Job complete.
    const digest = pushedDigest(pod);
    if (digest)
      return {
        phase: 'succeeded',
        digest,
        ...times,
        ...(terminated?.finishedAt
          ? { finishedAt: terminated.finishedAt }
          : {}),
      };
    const waiting = container?.state?.waiting;
    if (waiting && STUCK.has(waiting.reason)) {
      // It can never start: end it now instead of at its deadline.
      await client.delete(jobs, namespace, job);
      return {
        phase: 'failed',
        reason: waiting.reason,
        message: `the build pod cannot start: ${
          waiting.message ?? waiting.reason
        }`,
      };
    }
    if (container?.state?.running) return { phase: 'running', ...times };
    return { phase: 'queued', ...times };
  }

  private async tail(
    client: ReturnType<ClusterClients['get']>,
    namespace: string,
    pod: string | undefined,
  ): Promise<string | undefined> {
    if (!pod) return undefined;
    try {
      const text = await client.podLog(namespace, pod, {
        container: CONTAINER,
        limitBytes: LOG_READ_BYTES,
      });
      return text?.trimEnd().split('\n').slice(-20).join('\n') || undefined;
    } catch {
      return undefined;
    }
  }

  async logs(options: {
    externalRef: string;
    after?: string;
    limitBytes: number;
  }): Promise<ModelOpsBuildLogs> {
    const cursor = parseCursor(options.after);
    const { object, pod, client, namespace } = await this.read(
      options.externalRef,
    );
    // The log is whole once the build container has exited (the build
    // reports its outcome then), or the Job has ended.
    const container = buildContainer(pod);
    const finished =
      Boolean(container?.state?.terminated) ||
      ((object?.status as any)?.conditions ?? []).some(
        (c: any) =>
          [
            'Complete',
            'Failed',
            'SuccessCriteriaMet',
            'FailureTarget',
          ].includes(c.type) && c.status === 'True',
      );
    // A container that has not started has no log yet (the API answers 400).
    const started =
      pod &&
      !container?.state?.waiting &&
      (pod.status as any)?.phase !== 'Pending';
    const raw = started
      ? await client.podLog(namespace, pod.metadata.name, {
          container: CONTAINER,
          timestamps: true,
          limitBytes: LOG_READ_BYTES,
        })
      : undefined;
    if (raw === undefined)
      return {
        text: '',
        complete: !object || finished,
        ...(options.after ? { next: options.after } : {}),
      };
    const lines = raw.split('\n').filter(Boolean);
    let text = '';
    let last: { ts: string; n: number } | undefined = cursor;
    let seenOfTs = 0;
    let prevTs = '';
    let more = false;
    for (const line of lines) {
      const space = line.indexOf(' ');
      const ts = space > 0 ? line.slice(0, space) : '';
      seenOfTs = ts === prevTs ? seenOfTs + 1 : 1;
      prevTs = ts;
      if (
        cursor &&
        (ts < cursor.ts || (ts === cursor.ts && seenOfTs <= cursor.n))
      )
        continue;
      const body = `${line.slice(space + 1)}\n`;
      if (Buffer.byteLength(text + body) > options.limitBytes) {
        more = true;
        break;
      }
      text += body;
      last = { ts, n: seenOfTs };
    }
    return {
      text,
      ...(last ? { next: `${last.ts} ${last.n}` } : {}),
      complete: finished && !more,
      ...(raw.length >= LOG_READ_BYTES ? { truncated: true } : {}),
    };
  }

  async cancel(options: {
    externalRef: string;
  }): Promise<{ cancelled: boolean }> {
    const { cluster, namespace, job } = parseRef(options.externalRef);
    const client = this.options.clusters.get(cluster);
    const jobs = await client.requireResource('batch/v1', 'Job');
    return { cancelled: await client.delete(jobs, namespace, job) };
  }
}
