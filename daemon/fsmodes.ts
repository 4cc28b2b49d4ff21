/**
 * Directories and small files the daemon creates as root, each with
 * Heartbeat 3.0.6's mode and owner (README "Files, modes and owners"):
 *
 *   <runDir>              0750 hacluster:haclient   (API sockets live here)
 *   <runDir>/rsctmp       1755 root:root            (resource scripts' pid/state files)
 *   $HA_RSCTMP            1755 root:root            (/run/resource-agents, OCF agents)
 *   <stateDir>            0755 root:root, never group/other writable
 *   pid file, state files 0644 root:root, written to a new file then renamed
 *
 * Directories are changed through a descriptor opened with O_NOFOLLOW, so a
 * symlink put in place of one is refused rather than followed, and one owned
 * by an unprivileged user is refused (it may hold anything by now). When the
 * daemon does not run as root (tests, a scratch node), ownership is left
 * alone and the owner expected is the daemon's own uid.
 */
import {
  closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, rmSync, unlinkSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { HbError } from '../lib/util/errors.js';
import type { IdTables } from './api/auth.js';
import { readIdTables } from './api/auth.js';

export interface DirSpec {
  mode: number;
  /** Owner names; unknown names (no hacluster user on this system) fall back to root. */
  user?: string;
  group?: string;
}

export const RUN_DIR_SPEC: DirSpec = { mode: 0o750, user: 'hacluster', group: 'haclient' };
export const RSCTMP_SPEC: DirSpec = { mode: 0o1755 };
export const STATE_DIR_SPEC: DirSpec = { mode: 0o755 };
/** Mode of the pid file and of hb_generation, hb_uuid, hostcache (3.0.6: 0644 root). */
export { PUBLIC_FILE_MODE, writeFileReplacing } from '../lib/util/files.js';

const euid = (): number => process.geteuid?.() ?? 0;

function owners(spec: DirSpec, ids: IdTables): { uid: number; gid: number } {
  if (euid() !== 0) return { uid: euid(), gid: process.getegid?.() ?? 0 };
  return { uid: (spec.user && ids.users.get(spec.user)) || 0, gid: (spec.group && ids.groups.get(spec.group)) || 0 };
}

/**
 * Makes `path` a directory with the spec's mode and owner, creating it (and
 * missing parents, 0755) when absent. Throws HbError FILE_UNSAFE when the
 * path is a symlink or not a directory, or belongs to another unprivileged
 * user. Returns what was corrected, for a log line.
 */
export function ensureDir(path: string, spec: DirSpec, ids: IdTables = readIdTables()): string[] {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  try {
    mkdirSync(path, { mode: spec.mode & 0o777 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw new HbError('FILE_UNSAFE', `${path} is not a directory (a symlink or another file): refusing to use it; remove it`);
    throw err;
  }
  const changed: string[] = [];
  try {
    const want = owners(spec, ids);
    const st = fstatSync(fd);
    if (st.uid !== 0 && st.uid !== want.uid && st.uid !== euid()) {
      throw new HbError('FILE_UNSAFE', `${path} belongs to uid ${st.uid}, not to root or uid ${want.uid}: refusing to use it; remove it`);
    }
    if (euid() === 0 && (st.uid !== want.uid || st.gid !== want.gid)) {
      fchownSync(fd, want.uid, want.gid);
      changed.push(`owner ${st.uid}:${st.gid} -> ${want.uid}:${want.gid}`);
    }
    // chmod after chown: chown clears the set-id bits, and mkdir drops sticky/umask bits.
    if ((st.mode & 0o7777) !== spec.mode) {
      fchmodSync(fd, spec.mode);
      changed.push(`mode ${(st.mode & 0o7777).toString(8)} -> ${spec.mode.toString(8)}`);
    }
  } finally {
    closeSync(fd);
  }
  return changed;
}

/** Empties a directory by removing and recreating it (rm does not follow symlinks inside). */
export function recreateDir(path: string, spec: DirSpec, ids?: IdTables): void {
  rmSync(path, { recursive: true, force: true });
  ensureDir(path, spec, ids);
}

/** Removes a socket left by an earlier run (any server of the daemon); refuses to remove anything else. */
export function removeStaleSocket(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  unlinkSync(path);
}
