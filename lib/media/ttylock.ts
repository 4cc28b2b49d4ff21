/**
 * UUCP-style device locks (FHS /var/lock, HDB format), so that heartbeat,
 * getty, minicom and we never share a serial line.
 *
 * Name: `LCK..` + the device path without `/dev/`, keeping only letters and
 * digits (`/dev/ttyS0` → `LCK..ttyS0`, `/dev/pts/3` → `LCK..pts3`), as
 * heartbeat's ttylock names it, so both lock the same file. Like it, we
 * drop the first five characters of any path (`/tmp/x/A` → `LCK..xA`,
 * not `LCK..A`) and keep at most 63 characters of the name.
 * Content: the pid as 10 right-aligned ASCII digits and a newline.
 * Taking the lock: write a private temp file, then link() it to the lock
 * name, which fails if a lock exists; a lock whose process is gone is stale
 * and removed. A lock held by a live process (this one included) is refused.
 */
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HbError } from '../util/errors.js';
import { MEDIA } from './codes.js';
import { errnoOf } from './report.js';

export const DEFAULT_LOCK_DIR = '/var/lock';
const LOCK_LEN = 11;

export function lockNameFor(device: string): string {
  // glue's st_ttylock skips strlen("/dev/") characters whatever the path is.
  return `LCK..${device.slice('/dev/'.length).replace(/[^A-Za-z0-9]/g, '').slice(0, 63)}`;
}

export interface TtyLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Never throws. */
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) === 'EPERM';
  }
}

type Holder = { kind: 'pid'; pid: number } | { kind: 'unreadable'; ageMs: number } | { kind: 'gone' };

function readHolder(path: string): Holder {
  let buf: Buffer;
  let ageMs: number;
  try {
    buf = readFileSync(path);
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return { kind: 'gone' };
  }
  const text = buf.toString('latin1');
  const m = /^\s*(\d+)/.exec(text);
  if (m?.[1] !== undefined) return { kind: 'pid', pid: Number(m[1]) };
  // Old binary lock files hold the pid as a native int.
  if (buf.length === 4) return { kind: 'pid', pid: buf.readInt32LE(0) };
  return { kind: 'unreadable', ageMs };
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

export async function acquireTtyLock(device: string, lockDir: string = DEFAULT_LOCK_DIR, pid: number = process.pid): Promise<TtyLock> {
  const name = lockNameFor(device);
  const lockPath = join(lockDir, name);
  const content = `${String(pid).padStart(LOCK_LEN - 1)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const tmp = join(lockDir, `tmp${pid}-${attempt}-${name.slice(5)}`);
    try {
      // The lock directory is world-writable (1777): never write through
      // whatever someone else put at our temporary name (a symlink would
      // make root overwrite its target). 'wx' = O_CREAT|O_EXCL.
      removeQuietly(tmp);
      writeFileSync(tmp, content, { flag: 'wx', mode: 0o644 });
    } catch (err) {
      throw new HbError(MEDIA.SERIAL_LOCK_FAILED, `serial ${device}: cannot create lock file in ${lockDir}: ${errnoOf(err)}`, { cause: err });
    }
    try {
      linkSync(tmp, lockPath);
      removeQuietly(tmp);
      return {
        path: lockPath,
        release: () => {
          const h = readHolder(lockPath);
          if (h.kind === 'pid' && h.pid === pid) removeQuietly(lockPath);
        },
      };
    } catch (err) {
      removeQuietly(tmp);
      if (errnoOf(err) !== 'EEXIST') {
        throw new HbError(MEDIA.SERIAL_LOCK_FAILED, `serial ${device}: cannot create ${lockPath}: ${errnoOf(err)}`, { cause: err });
      }
    }
    const holder = readHolder(lockPath);
    if (holder.kind === 'pid') {
      if (holder.pid > 0 && isAlive(holder.pid)) {
        const who = holder.pid === pid ? 'this process' : `process ${holder.pid}`;
        throw new HbError(MEDIA.SERIAL_LOCKED, `serial ${device}: device is locked by ${who} (${lockPath})`);
      }
      removeQuietly(lockPath); // stale: its process is gone
    } else if (holder.kind === 'unreadable') {
      // Someone may be between creating and filling it; give them a second.
      if (holder.ageMs < 1000) await sleep(1000 - holder.ageMs);
      else removeQuietly(lockPath);
    }
  }
  throw new HbError(MEDIA.SERIAL_LOCK_FAILED, `serial ${device}: could not take ${lockPath} (it keeps reappearing)`);
}
