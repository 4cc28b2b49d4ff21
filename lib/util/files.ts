/**
 * File rules shared by the daemon and its tools:
 * - writing a small file that root owns without trusting what is at its path:
 *   the pid file, hb_generation, hb_uuid, hostcache (README "Files, modes and
 *   owners");
 * - heartbeat's rule for finding a resource or hook script: a regular,
 *   executable file of that plain name (no path) in the first of the
 *   directories that has one (resource.d, then init.d; rc.d for hooks).
 */
import {
  accessSync, closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, rmSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** Mode of the pid file and of the state files (Heartbeat 3.0.6: 0644 root). */
export const PUBLIC_FILE_MODE = 0o644;

/**
 * Replaces `path` with a new file holding `data`: written to a temporary
 * name created with O_EXCL|O_NOFOLLOW (never an existing file or a symlink
 * someone put there), fsynced, then renamed over the old one. The old
 * `path` itself is never opened, so a symlink there is replaced, not followed.
 */
export function writeFileReplacing(path: string, data: string | Buffer, mode = PUBLIC_FILE_MODE): void {
  const tmp = `${path}.tmp${process.pid}`;
  try {
    unlinkSync(tmp);
  } catch {
    /* no leftover */
  }
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    try {
      if (typeof data === 'string') writeSync(fd, data);
      else writeSync(fd, data);
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    // A full disk must not also collect one stray temporary file per attempt.
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of script `name` in `dirs`, or undefined (also for names with a path or `.`/`..`). */
export function findScript(dirs: readonly string[], name: string): string | undefined {
  if (name.includes('/') || name === '' || name === '.' || name === '..') return undefined;
  for (const dir of dirs) {
    const path = join(dir, name);
    if (isExecutableFile(path)) return path;
  }
  return undefined;
}
