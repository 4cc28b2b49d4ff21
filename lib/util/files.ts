/**
 * Writing a small file that root owns without trusting what is at its path:
 * the pid file, hb_generation, hb_uuid, hostcache (README "Files, modes and
 * owners").
 */
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';

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
