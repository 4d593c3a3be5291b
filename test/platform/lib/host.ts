/**
 * What a kubelet or containerd changes on the host that no setting avoids:
 * the kubelet sets three kernel parameters at start (protectKernelDefaults
 * would only make it refuse to start), and a few paths are fixed in their
 * code. `up` records the values before the first node starts; `down` puts
 * them back and removes only what did not exist before.
 */
import {
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { HOST_SETTINGS_FILE } from './layout.ts';

/** The kernel parameters the kubelet's container manager sets. */
export const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'kernel/panic',
  'kernel/panic_on_oops',
] as const;

/**
 * Paths the kubelet, containerd or CNI create whatever their configuration:
 * the device-plugin socket dir, the container log symlinks, the shim sockets
 * and the CNI result cache.
 */
export const FIXED_PATHS = [
  '/var/lib/kubelet/device-plugins',
  '/var/lib/kubelet',
  '/var/log/containers',
  '/var/log/pods',
  '/run/containerd/s',
  '/run/containerd',
  '/var/lib/cni/results',
  '/var/lib/cni',
] as const;

export interface HostSettings {
  recordedAt: string;
  sysctls: Record<string, string>;
  /** The FIXED_PATHS that existed before. */
  existing: string[];
}

export function readSysctl(key: string): string {
  return readFileSync(path.join('/proc/sys', key), 'utf8').trim();
}

export function currentHostSettings(): HostSettings {
  return {
    recordedAt: new Date().toISOString(),
    sysctls: Object.fromEntries(KUBELET_SYSCTLS.map(k => [k, readSysctl(k)])),
    existing: FIXED_PATHS.filter(p => existsSync(p)),
  };
}

/** Records the host's values unless a record is already there (a restart after a crash keeps the first one). */
export function recordHostSettings(): HostSettings {
  if (existsSync(HOST_SETTINGS_FILE))
    return JSON.parse(readFileSync(HOST_SETTINGS_FILE, 'utf8')) as HostSettings;
  const s = currentHostSettings();
  writeFileSync(HOST_SETTINGS_FILE, `${JSON.stringify(s, null, 2)}\n`);
  return s;
}

/**
 * Puts the recorded kernel parameters back, deletes the container-log symlinks
 * that point into `ownDirs`, the CNI cache entries of `cniNames`, and the fixed
 * directories that did not exist before (only when empty: another platform may use them).
 */
export function restoreHostSettings(
  ownDirs: string[],
  cniNames: string[],
): string[] {
  if (!existsSync(HOST_SETTINGS_FILE)) return [];
  const s = JSON.parse(
    readFileSync(HOST_SETTINGS_FILE, 'utf8'),
  ) as HostSettings;
  const problems: string[] = [];
  for (const [k, v] of Object.entries(s.sysctls)) {
    try {
      if (readSysctl(k) !== v) writeFileSync(path.join('/proc/sys', k), v);
    } catch (e) {
      problems.push(`could not restore ${k}=${v}: ${String(e)}`);
    }
  }
  if (existsSync('/var/log/containers')) {
    for (const f of readdirSync('/var/log/containers')) {
      const p = path.join('/var/log/containers', f);
      try {
        if (!lstatSync(p).isSymbolicLink()) continue;
        const target = readlinkSync(p);
        if (ownDirs.some(d => target.startsWith(`${d}/`)))
          rmSync(p, { force: true });
      } catch {
        /* gone meanwhile */
      }
    }
  }
  if (existsSync('/var/lib/cni/results')) {
    for (const f of readdirSync('/var/lib/cni/results'))
      if (cniNames.some(n => f.startsWith(`${n}-`)))
        rmSync(path.join('/var/lib/cni/results', f), { force: true });
  }
  for (const p of FIXED_PATHS) {
    if (s.existing.includes(p) || !existsSync(p)) continue;
    // The kubelet's own socket in device-plugins is ours once the kubelets are stopped.
    if (p === '/var/lib/kubelet/device-plugins')
      rmSync(path.join(p, 'kubelet.sock'), { force: true });
    try {
      rmdirSync(p);
    } catch {
      /* not empty: in use by something else */
    }
  }
  rmSync(HOST_SETTINGS_FILE, { force: true });
  return problems;
}
