/**
 * Pid files for the daemons (heartbeat, ldirectord): a pid file names a
 * process that runs only while that process is alive and is the program the
 * file belongs to (a pid recycled by another program is stale). Written
 * atomically (a concurrent reader never sees half a number) without
 * following a symlink at the path.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { PUBLIC_FILE_MODE, writeFileReplacing } from './files.js';

export type PidState =
  | { state: 'running'; pid: number }
  | { state: 'stale'; pid: number }
  | { state: 'none' };

export function readPid(pidFile: string): number | undefined {
  try {
    const text = readFileSync(pidFile, 'latin1').trim();
    const pid = /^\d+$/.test(text) ? Number(text) : NaN;
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The command line of a live process (argv), or undefined when it is gone. */
export function liveCommandLine(pid: number): string[] | undefined {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
  } catch {
    return undefined;
  }
}

/** What the pid file says, judged by `isOurs` on the live process's argv. */
export function pidState(pidFile: string, isOurs: (argv: string[]) => boolean): PidState {
  const pid = readPid(pidFile);
  if (pid === undefined) return { state: 'none' };
  const argv = liveCommandLine(pid);
  return argv !== undefined && isOurs(argv) ? { state: 'running', pid } : { state: 'stale', pid };
}

/** 0644, through a new file renamed into place: a symlink at the path is replaced, never followed. */
export function writePid(pidFile: string, pid: number, mode = PUBLIC_FILE_MODE): void {
  writeFileReplacing(pidFile, `${pid}\n`, mode);
}

/** Removes the pid file only while it still names `pid` (a successor's file stays). */
export function removePid(pidFile: string, pid: number): void {
  if (readPid(pidFile) !== pid) return;
  try { unlinkSync(pidFile); } catch { /* already gone */ }
}
