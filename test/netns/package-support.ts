/**
 * A throwaway root for installing the Debian package as an administrator
 * would, without touching the machine: inside a lab node's private mount
 * namespace, an overlay whose lower layer is the host's root filesystem
 * (read-only: Debian's heartbeat installed, its dpkg database, /usr, /etc)
 * and whose upper layer is a tmpfs. `dpkg -i` in a chroot of it writes only
 * to the tmpfs; the mounts vanish with the node's mount namespace.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { ExecResult, Lab, NodeProcess } from './harness/lab.js';

const CHROOT_ENV = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'HOME=/root',
  'LANG=C.UTF-8',
  'DEBIAN_FRONTEND=noninteractive',
];

/** Where the package is seen inside the root. */
export const PKG_MOUNT = '/mnt/heartbeat-ts-pkg';

/**
 * Mounts the root at `<base>/root` in node `node` (base: an empty host
 * directory; debDir: the host directory holding the .deb, bound read-only
 * at PKG_MOUNT). /run and /tmp are fresh tmpfs, as after a boot.
 */
export async function mountThrowawayRoot(lab: Lab, node: number, base: string, debDir: string): Promise<string> {
  const root = `${base}/root`;
  const script = `set -e
mount -t tmpfs -o mode=0755,size=768m hbts-pkg-upper "${base}"
mkdir "${base}/upper" "${base}/work" "${root}"
mount -t overlay hbts-pkg-root -o "lowerdir=/,upperdir=${base}/upper,workdir=${base}/work" "${root}"
mount -t proc proc "${root}/proc"
mount --rbind /dev "${root}/dev"
mount --rbind /sys "${root}/sys"
mount -t tmpfs -o mode=0755 hbts-pkg-run "${root}/run"
mkdir -m 1777 "${root}/run/lock"
mount -t tmpfs -o mode=1777 hbts-pkg-tmp "${root}/tmp"
mkdir -p "${root}${PKG_MOUNT}"
mount --bind "${debDir}" "${root}${PKG_MOUNT}"
mount -o remount,bind,ro "${root}${PKG_MOUNT}"
`;
  const r = await lab.sh(node, script, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`cannot mount the throwaway root in node ${node}: ${r.stderr.trim()}`);
  return root;
}

/** Runs argv chrooted into the throwaway root, with a clean environment. */
export function inRoot(lab: Lab, node: number, root: string, argv: readonly string[], timeoutMs = 120_000, input?: string): Promise<ExecResult> {
  return lab.exec(node, ['chroot', root, 'env', '-i', ...CHROOT_ENV, ...argv], { timeoutMs, ...(input !== undefined ? { input } : {}) });
}

/** `sh -c script` chrooted into the root; fails the test on a non-zero exit. */
export async function shInRoot(lab: Lab, node: number, root: string, script: string, input?: string): Promise<string> {
  const r = await inRoot(lab, node, root, ['/bin/sh', '-c', script], 120_000, input);
  expect(r.code, `${script}\n${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A daemon started in the foreground inside the root (what systemd's ExecStart does). */
export function spawnInRoot(lab: Lab, node: number, root: string, argv: readonly string[], logFile: string): Promise<NodeProcess> {
  return lab.spawn(node, ['chroot', root, 'env', '-i', ...CHROOT_ENV, ...argv], { logFile });
}

/** Writes a file inside the root (mode in octal). */
export async function writeInRoot(lab: Lab, node: number, root: string, path: string, text: string, mode: string): Promise<void> {
  await shInRoot(lab, node, root, `cat > '${path}' && chmod ${mode} '${path}'`, text);
}

/** dpkg's view of a package inside the root: `install ok installed`, `deinstall ok config-files`, or '' if unknown. */
export async function dpkgStatus(lab: Lab, node: number, root: string, pkg: string): Promise<string> {
  const r = await inRoot(lab, node, root, ['dpkg-query', '-W', '-f=${Status}', pkg]);
  return r.code === 0 ? r.stdout.trim() : '';
}

/** `mode owner:group` of paths inside the root. */
export async function statInRoot(lab: Lab, node: number, root: string, paths: readonly string[]): Promise<string[]> {
  const out = await shInRoot(lab, node, root, `stat -c '%a %U:%G %n' ${paths.map((p) => `'${p}'`).join(' ')}`);
  return out.trim().split('\n');
}

/** Fingerprint of what a package install on the host would change (checked before and after the test). */
export function hostFingerprint(): Record<string, string> {
  const sha = (p: string): string => (existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'absent');
  return {
    dpkgStatus: sha('/var/lib/dpkg/status'),
    passwd: sha('/etc/passwd'),
    group: sha('/etc/group'),
    initScript: sha('/etc/init.d/heartbeat'),
    realDaemon: sha('/usr/libexec/heartbeat/heartbeat'),
    realStandby: sha('/usr/share/heartbeat/hb_standby'),
    realClStatus: sha('/usr/bin/cl_status'),
    usrSbinHeartbeat: sha('/usr/sbin/heartbeat'),
    appDir: existsSync('/usr/lib/heartbeat-ts') ? 'present' : 'absent',
    dpkgList: existsSync('/var/lib/dpkg/info/heartbeat-ts.list') ? 'present' : 'absent',
  };
}
