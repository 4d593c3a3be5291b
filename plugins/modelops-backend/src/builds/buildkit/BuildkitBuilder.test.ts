import { ConfigReader } from '@backstage/config';
import { readModelOpsConfig } from '../../config';
import { buildJob, gitContext, pushedDigest } from './BuildkitBuilder';

const request = {
  buildId: '019ae0b2-1c2d-7e3f-8a9b-0c1d2e3f4a5b',
  entity: {} as any,
  entityRef: 'component:default/fraud-detector',
  source: {
    url: 'http://127.0.0.1:13000/modelops-demo/fraud-detector.git',
    ref: 'main',
    commit: '0123456789abcdef0123456789abcdef01234567',
    contextPath: 'service',
    dockerfile: 'Dockerfile',
  },
  buildArgs: { MODEL_VERSION: '3' },
  image: {
    repository: 'registry.modelops.local/models/fraud-detector',
    tag: '0123456789ab',
  },
};

const buildkit = (over: object = {}) =>
  readModelOpsConfig(
    new ConfigReader({
      modelops: {
        builds: {
          buildkit: {
            image: 'registry.modelops.local/platform/buildkit:v0.34.2',
            pushRegistries: { 'registry.modelops.local': '10.152.182.1:15000' },
            gitHosts: { '127.0.0.1:13000': '10.152.182.1:13000' },
            ...over,
          },
        },
      },
    }),
  ).builds.buildkit;

describe('buildJob', () => {
  it('clones the commit from where pods reach git and pushes where pods reach the registry', () => {
    expect(
      gitContext(request.source, { '127.0.0.1:13000': '10.0.0.1:13000' }),
    ).toBe(
      'http://10.0.0.1:13000/modelops-demo/fraud-detector.git#0123456789abcdef0123456789abcdef01234567:service',
    );
    const job = buildJob({
      request,
      namespace: 'modelops-builds',
      config: buildkit(),
    });
    const spec = (job.spec as any).template.spec;
    const container = spec.containers[0];
    expect(container.args).toEqual([
      'build',
      '--frontend=dockerfile.v0',
      '--opt=context=http://10.152.182.1:13000/modelops-demo/fraud-detector.git#0123456789abcdef0123456789abcdef01234567:service',
      '--opt=filename=Dockerfile',
      '--opt=build-arg:MODEL_VERSION=3',
      '--output=type=image,name=10.152.182.1:15000/models/fraud-detector:0123456789ab,push=true',
      '--metadata-file=/tmp/buildctl-metadata.json',
    ]);
    // The metadata reaches the termination message through a copy, the
    // arguments through "$@".
    expect(container.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(container.command[2]).toContain('buildctl-daemonless.sh "$@"');
    expect(container.command[2]).toContain('> /dev/termination-log');
    expect(job.metadata).toMatchObject({
      name: `modelops-build-${request.buildId}`,
      namespace: 'modelops-builds',
      labels: { 'modelops/build-id': request.buildId },
      annotations: {
        'modelops/entity-ref': 'component:default/fraud-detector',
      },
    });
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 1800,
      ttlSecondsAfterFinished: 3600,
    });
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(container.resources).toEqual({
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { memory: '4Gi' },
    });
  });

  it('runs rootless by default, and privileged only when configured so', () => {
    const rootless = (
      buildJob({ request, namespace: 'b', config: buildkit() }).spec as any
    ).template;
    expect(rootless.spec.containers[0].securityContext).toEqual({
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: 'Unconfined' },
    });
    expect(rootless.spec.containers[0].env).toContainEqual({
      name: 'BUILDKITD_FLAGS',
      value: '--oci-worker-net=host --oci-worker-no-process-sandbox',
    });
    const privileged = (
      buildJob({
        request,
        namespace: 'b',
        config: buildkit({ mode: 'privileged', configMap: 'buildkitd-config' }),
      }).spec as any
    ).template.spec;
    expect(privileged.containers[0].securityContext).toEqual({
      privileged: true,
    });
    expect(privileged.containers[0].env).toContainEqual({
      name: 'BUILDKITD_FLAGS',
      value: '--oci-worker-net=host --config=/etc/buildkit/buildkitd.toml',
    });
    expect(privileged.volumes).toContainEqual({
      name: 'config',
      configMap: { name: 'buildkitd-config' },
    });
  });

  it('mounts registry credentials from a Secret, never as arguments', () => {
    const spec = (
      buildJob({
        request,
        namespace: 'b',
        config: buildkit({ registrySecret: 'registry-push' }),
      }).spec as any
    ).template.spec;
    expect(JSON.stringify(spec.containers[0].args)).not.toContain(
      'registry-push',
    );
    expect(spec.volumes).toContainEqual({
      name: 'registry',
      secret: {
        secretName: 'registry-push',
        items: [{ key: '.dockerconfigjson', path: 'config.json' }],
      },
    });
    expect(spec.containers[0].env).toContainEqual({
      name: 'DOCKER_CONFIG',
      value: '/home/user/.docker',
    });
  });

  it('says what to configure when no BuildKit image is set', () => {
    expect(() =>
      buildJob({
        request,
        namespace: 'b',
        config: buildkit({ image: undefined }),
      }),
    ).toThrow('modelops.builds.buildkit.image is not configured');
  });
});

describe('pushedDigest', () => {
  const digest = `sha256:${'c'.repeat(64)}`;
  const pod = (state: object, name = 'buildkit') =>
    ({
      metadata: { name: 'modelops-build-x' },
      status: { containerStatuses: [{ name, state }] },
    } as any);
  const exited = (exitCode: number, message?: string) =>
    pod({ terminated: { exitCode, ...(message ? { message } : {}) } });

  it('reads the digest buildctl reported once the build container exited 0', () => {
    expect(
      pushedDigest(
        exited(0, JSON.stringify({ 'containerimage.digest': digest })),
      ),
    ).toBe(digest);
  });

  it('has none while the container runs, after a failure, or without a well-formed digest', () => {
    const metadata = JSON.stringify({ 'containerimage.digest': digest });
    expect(pushedDigest(undefined)).toBeUndefined();
    expect(pushedDigest(pod({ running: {} }))).toBeUndefined();
    expect(pushedDigest(exited(1, metadata))).toBeUndefined();
    expect(
      pushedDigest(
        pod({ terminated: { exitCode: 0, message: metadata } }, 'x'),
      ),
    ).toBeUndefined();
    expect(pushedDigest(exited(0))).toBeUndefined();
    expect(pushedDigest(exited(0, 'not json'))).toBeUndefined();
    expect(
      pushedDigest(
        exited(0, JSON.stringify({ 'containerimage.digest': 'sha256:abc' })),
      ),
    ).toBeUndefined();
  });
});
