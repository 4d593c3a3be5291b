/**
 * The images the real nodes run, all made here and pushed to the local
 * registry: a Debian base (mmdebstrap from Debian packages), the Node 22
 * runtime (the toolchain's Node binary; pushed too, as the base the demo
 * repositories' Dockerfiles build FROM), the pause image (compiled from
 * images/pause/pause.c), every demo service's model server image in the
 * versions of demo-images.json, built from model-server/Dockerfile, and
 * BuildKit for build Jobs (images/buildkit/: a Debian base with git and runc
 * plus buildkitd and buildctl from the Go module proxy).
 *
 * Builder: buildah, daemonless (overlay storage under .platform/images,
 * chroot isolation), so nothing keeps running after a build and nothing
 * touches the host's network set-up. No RUN step runs during a build: every
 * image is files copied in, so no build needs the network.
 *
 * Each image is rebuilt only when its inputs change: the hash of its
 * Dockerfile, context files, build args and parent image is kept with what
 * was pushed (.platform/images/pushed.json) and checked against the registry.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { HOST, REGISTRY_PORT } from '../ports.ts';
import { which } from '../lib/exec.ts';
import {
  CACHE_DIR,
  IMAGES_DIR,
  IMAGE_SOURCES_DIR,
  LOG_DIR,
  MODEL_SERVER_DIR,
  PLATFORM_DIR,
  type DemoService,
} from '../lib/layout.ts';
import { PlatformError, say } from '../lib/output.ts';

/** The name every image is pushed under; containerd resolves it to the local registry. */
export const REGISTRY_HOST = 'registry.modelops.local';
export const PAUSE_IMAGE = `${REGISTRY_HOST}/platform/pause:3.10`;
/** The Node runtime image, as the demo repositories' Dockerfiles name it. */
export const NODE_IMAGE = `${REGISTRY_HOST}/platform/node:${process.version.slice(
  1,
)}`;
/** What build Jobs run; the tag is the pinned buildkit version (build/buildkit/go.mod). */
export const buildkitImage = (version: string): string =>
  `${REGISTRY_HOST}/platform/buildkit:${version}`;
const DEBIAN_SUITE = 'bookworm';

export interface DemoImageVersion {
  tag: string;
  description: string;
  latencyMs?: number;
  errorRate?: number;
  /** Non-empty: the server exits at start with this message. */
  startFailure?: string;
}

export function demoImageVersions(): DemoImageVersion[] {
  return (
    JSON.parse(
      readFileSync(path.join(PLATFORM_DIR, 'demo-images.json'), 'utf8'),
    ) as { versions: DemoImageVersion[] }
  ).versions;
}

/** `registry.modelops.local/risk/fraud-detector:0.1.0` -> `risk/fraud-detector` */
export function repositoryOf(image: string): string {
  const noTag = image.replace(/:[^/:]+$/, '');
  return noTag.slice(noTag.indexOf('/') + 1);
}

const STORAGE = path.join(IMAGES_DIR, 'storage');
const RUNROOT = path.join(IMAGES_DIR, 'run');
const PUSHED_FILE = path.join(IMAGES_DIR, 'pushed.json');
const BUILD_LOG = path.join(LOG_DIR, 'image-builds.log');

function exec(
  cmd: string,
  args: string[],
  what: string,
): Promise<{ out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nice', ['-n', '19', 'ionice', '-c3', cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', e => (err += String(e)));
    child.on('close', code => {
      writeFileSync(
        BUILD_LOG,
        `$ ${cmd} ${args.join(' ')}\n${out}${err}\n(exit ${code})\n`,
        { flag: 'a' },
      );
      if (code === 0) resolve({ out });
      else
        reject(
          new PlatformError(
            'images',
            `${what} failed (exit ${code}): ${
              err.trim().split('\n').slice(-3).join(' | ') || out.trim()
            }`,
            BUILD_LOG,
            'read the log; a full disk, or a Debian mirror apt cannot reach (mmdebstrap uses the host apt sources)',
          ),
        );
    });
  });
}

const buildah = (args: string[], what: string): Promise<{ out: string }> =>
  exec(
    'buildah',
    [
      '--root',
      STORAGE,
      '--runroot',
      RUNROOT,
      '--storage-driver',
      'overlay',
      ...args,
    ],
    what,
  );

function hashOf(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(String(p.length));
    h.update(p);
  }
  return h.digest('hex').slice(0, 16);
}

/** Every file under `dir` (sorted), as path + content, for an input hash. */
function treeParts(dir: string, only?: string[]): (string | Buffer)[] {
  const parts: (string | Buffer)[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else parts.push(path.relative(dir, p), readFileSync(p));
    }
  };
  for (const e of only ?? readdirSync(dir).sort()) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else parts.push(e, readFileSync(p));
  }
  return parts;
}

/** The apt sources mmdebstrap is given: the host's own (the mirror apt already uses). */
function aptSources(): string {
  const files = ['/etc/apt/sources.list'];
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d))
    for (const f of readdirSync(d).sort())
      if (f.endsWith('.list') || f.endsWith('.sources'))
        files.push(path.join(d, f));
  return files
    .filter(f => existsSync(f))
    .map(f => readFileSync(f, 'utf8'))
    .join('\n');
}

/**
 * A Debian minbase root filesystem (with `include`d packages) as a tarball,
 * cached outside the platform dir (it survives `down --purge`).
 */
async function debianRootfs(
  include: string[],
): Promise<{ tar: string; hash: string }> {
  const args = [
    '--variant=minbase',
    `--include=${include.join(',')}`,
    DEBIAN_SUITE,
  ];
  const hash = hashOf([...args, aptSources()]);
  const dir = path.join(CACHE_DIR, 'images');
  const tar = path.join(dir, `debian-${DEBIAN_SUITE}-minbase-${hash}.tar`);
  if (existsSync(tar)) return { tar, hash };
  if (!which('mmdebstrap'))
    throw new PlatformError(
      'images',
      "Debian's 'mmdebstrap' is not installed",
      undefined,
      'apt-get install -y mmdebstrap buildah containerd runc docker-registry containernetworking-plugins (scripts/lib/system-packages.sh does it)',
    );
  mkdirSync(dir, { recursive: true });
  say(
    `building a Debian ${DEBIAN_SUITE} root filesystem (${include.join(
      ', ',
    )}) with mmdebstrap (first time only, ~40 s) ...`,
  );
  await exec('mmdebstrap', [...args, `${tar}.tmp`], 'mmdebstrap');
  renameSync(`${tar}.tmp`, tar);
  return { tar, hash };
}

/** The rootfs tarball as a one-layer local image named `name` (once). */
async function importRootfs(tar: string, name: string): Promise<void> {
  if (await localImageExists(name)) return;
  say(`importing ${name} ...`);
  const ctr = (await buildah(['from', 'scratch'], 'buildah from')).out.trim();
  await buildah(['add', ctr, tar, '/'], `buildah add ${path.basename(tar)}`);
  await buildah(['commit', '-q', '--rm', ctr, name], `buildah commit ${name}`);
}

type Pushed = Record<string, string>;

function loadPushed(): Pushed {
  return existsSync(PUSHED_FILE)
    ? (JSON.parse(readFileSync(PUSHED_FILE, 'utf8')) as Pushed)
    : {};
}

async function inRegistry(ref: string): Promise<boolean> {
  const repo = repositoryOf(ref);
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  try {
    const r = await fetch(
      `http://${HOST}:${REGISTRY_PORT}/v2/${repo}/manifests/${tag}`,
      {
        method: 'HEAD',
        headers: {
          accept:
            'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
        },
      },
    );
    return r.ok;
  } catch {
    return false;
  }
}

async function localImageExists(name: string): Promise<boolean> {
  try {
    await buildah(['inspect', '--type', 'image', name], `inspect ${name}`);
    return true;
  } catch {
    return false;
  }
}

interface LocalImage {
  name: string;
  hash: string;
}

/** Builds `name` from a Dockerfile in `context` unless an image with the same input hash exists. */
async function buildLocal(
  name: string,
  context: string,
  buildArgs: Record<string, string>,
  hashParts: (string | Buffer)[],
): Promise<LocalImage> {
  const hash = hashOf([...hashParts, ...Object.entries(buildArgs).flat()]);
  const tagged = `${name}-${hash}`;
  if (!(await localImageExists(tagged))) {
    const args = ['build', '-q', '--isolation', 'chroot', '--pull=never'];
    for (const [k, v] of Object.entries(buildArgs))
      args.push('--build-arg', `${k}=${v}`);
    args.push(
      '--label',
      `io.modelops.input-hash=${hash}`,
      '-t',
      tagged,
      context,
    );
    await buildah(args, `buildah build ${name}`);
  }
  return { name: tagged, hash };
}

async function push(
  image: LocalImage,
  ref: string,
  pushed: Pushed,
): Promise<boolean> {
  if (pushed[ref] === image.hash && (await inRegistry(ref))) return false;
  await buildah(
    [
      'push',
      '-q',
      '--tls-verify=false',
      image.name,
      `docker://${HOST}:${REGISTRY_PORT}/${repositoryOf(ref)}:${ref.slice(
        ref.lastIndexOf(':') + 1,
      )}`,
    ],
    `push ${ref}`,
  );
  pushed[ref] = image.hash;
  writeFileSync(PUSHED_FILE, `${JSON.stringify(pushed, null, 2)}\n`);
  return true;
}

/** What the BuildKit image is made of: the cached builds of build.sh. */
export interface BuildkitBinaries {
  version: string;
  buildkitd: string;
  buildctl: string;
  /** buildctl-daemonless.sh, copied from the module source beside buildctl. */
  daemonless: string;
}

/** Builds what changed and pushes what the registry lacks; returns the refs pushed this time. */
export async function ensureImages(
  services: DemoService[],
  buildkit: BuildkitBinaries,
): Promise<string[]> {
  for (const tool of ['buildah', 'gcc'])
    if (!which(tool))
      throw new PlatformError(
        'images',
        `'${tool}' is not installed`,
        undefined,
        'apt-get install -y buildah gcc libc6-dev (scripts/lib/system-packages.sh installs what the platform needs)',
      );
  mkdirSync(STORAGE, { recursive: true });
  mkdirSync(LOG_DIR, { recursive: true });
  const t0 = Date.now();
  const pushed = loadPushed();
  const done: string[] = [];
  const scratch = mkdtempSync(path.join(IMAGES_DIR, 'ctx-'));
  try {
    // 1. base: the rootfs tarball as a one-layer image
    const rootfs = await debianRootfs(['ca-certificates']);
    const base = `localhost/modelops/base:${DEBIAN_SUITE}-${rootfs.hash}`;
    await importRootfs(rootfs.tar, base);

    // 2. Node runtime: the binary that runs this CLI (the toolchain's Node 22)
    const nodeCtx = path.join(scratch, 'node');
    mkdirSync(nodeCtx);
    copyFileSync(
      path.join(IMAGE_SOURCES_DIR, 'node', 'Dockerfile'),
      path.join(nodeCtx, 'Dockerfile'),
    );
    copyFileSync(process.execPath, path.join(nodeCtx, 'node'));
    const nodeVersion = process.version.slice(1);
    const nodeImage = await buildLocal(
      `localhost/modelops/node:${nodeVersion}`,
      nodeCtx,
      { BASE_IMAGE: base },
      [
        readFileSync(path.join(nodeCtx, 'Dockerfile')),
        nodeVersion,
        process.execPath,
        base,
      ],
    );
    // The demo repositories' Dockerfiles build FROM it (with BuildKit, in a build Job).
    if (await push(nodeImage, NODE_IMAGE, pushed)) done.push(NODE_IMAGE);

    // 3. pause, compiled from source into a FROM scratch image
    const pauseSrc = path.join(IMAGE_SOURCES_DIR, 'pause');
    const pauseCtx = path.join(scratch, 'pause');
    mkdirSync(pauseCtx);
    copyFileSync(
      path.join(pauseSrc, 'Dockerfile'),
      path.join(pauseCtx, 'Dockerfile'),
    );
    // gcc takes well under a second; the image is rebuilt only when pause.c or its Dockerfile change.
    await exec(
      'gcc',
      [
        '-Os',
        '-static',
        '-Wall',
        '-Wextra',
        '-Werror',
        '-s',
        '-o',
        path.join(pauseCtx, 'pause'),
        path.join(pauseSrc, 'pause.c'),
      ],
      'gcc pause.c',
    );
    const pause = await buildLocal(
      'localhost/modelops/pause',
      pauseCtx,
      {},
      treeParts(pauseSrc),
    );
    if (await push(pause, PAUSE_IMAGE, pushed)) done.push(PAUSE_IMAGE);

    // 4. the demo model servers: one image per service and version
    const msParts = [
      ...treeParts(MODEL_SERVER_DIR, ['Dockerfile', 'package.json', 'src']),
      nodeImage.hash,
    ];
    const versions = demoImageVersions();
    for (const svc of services) {
      for (const v of versions) {
        const ref = `${REGISTRY_HOST}/${repositoryOf(svc.image)}:${v.tag}`;
        const img = await buildLocal(
          `localhost/modelops/${svc.id}:${v.tag}`,
          MODEL_SERVER_DIR,
          {
            NODE_IMAGE: nodeImage.name,
            MODEL_NAME: svc.id,
            MODEL_RUNTIME: svc.runtime,
            MODEL_VERSION: v.tag,
            MODEL_FAULT_LATENCY_MS: String(v.latencyMs ?? 0),
            MODEL_FAULT_ERROR_RATE: String(v.errorRate ?? 0),
            MODEL_START_FAILURE: v.startFailure ?? '',
          },
          msParts,
        );
        if (await push(img, ref, pushed)) done.push(ref);
      }
    }

    // 5. BuildKit: its own rootfs (git and runc bring perl, curl, libseccomp: kept
    // apart so the demo images' base does not grow), then the binaries.
    const bkRootfs = await debianRootfs(['ca-certificates', 'git', 'runc']);
    const bkBase = `localhost/modelops/buildkit-base:${DEBIAN_SUITE}-${bkRootfs.hash}`;
    await importRootfs(bkRootfs.tar, bkBase);
    const bkCtx = path.join(scratch, 'buildkit');
    mkdirSync(bkCtx);
    for (const f of ['Dockerfile', 'buildctl-build.sh'])
      copyFileSync(
        path.join(IMAGE_SOURCES_DIR, 'buildkit', f),
        path.join(bkCtx, f),
      );
    for (const f of [
      buildkit.buildkitd,
      buildkit.buildctl,
      buildkit.daemonless,
    ])
      copyFileSync(f, path.join(bkCtx, path.basename(f)));
    const bkRef = buildkitImage(buildkit.version);
    const bkImage = await buildLocal(
      `localhost/modelops/buildkit:${buildkit.version}`,
      bkCtx,
      { BASE_IMAGE: bkBase },
      [
        ...treeParts(path.join(IMAGE_SOURCES_DIR, 'buildkit')),
        buildkit.version,
        // the binaries by size: a rebuild with other flags changes them
        ...[buildkit.buildkitd, buildkit.buildctl].map(f =>
          String(statSync(f).size),
        ),
        readFileSync(buildkit.daemonless),
        bkBase,
      ],
    );
    if (await push(bkImage, bkRef, pushed)) done.push(bkRef);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  say(
    done.length > 0
      ? `images: pushed ${
          done.length
        } to ${HOST}:${REGISTRY_PORT} in ${Math.round(
          (Date.now() - t0) / 1000,
        )}s`
      : `images: all in the registry and up to date (${Math.round(
          (Date.now() - t0) / 1000,
        )}s)`,
  );
  return done;
}
