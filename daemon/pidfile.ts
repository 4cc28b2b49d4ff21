/**
 * The pid file and "is heartbeat running" checks (spec 11.1): a pid file
 * naming a live process whose command line is a heartbeat daemon.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { writeFileReplacing } from '../lib/util/files.js';

export type RunState =
  | { state: 'running'; pid: number }
  | { state: 'stale'; pid: number }
  | { state: 'none' };

export function readPid(pidFile: string): number | undefined {
  try {
    const text = readFileSync(pidFile, 'latin1').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and runs a heartbeat daemon (ours or the original). */
export function isHeartbeatProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    return argv.some((a) => /(^|\/)heartbeat(\.js)?$/.test(a) || a.startsWith('heartbeat:'));
  } catch {
    return false;
  }
}

export function runState(pidFile: string): RunState {
  const pid = readPid(pidFile);
  if (pid === undefined) return { state: 'none' };
  return isHeartbeatProcess(pid) ? { state: 'running', pid } : { state: 'stale', pid };
}

/** 0644, through a new file renamed into place: a symlink at the path is replaced, never followed. */
export function writePid(pidFile: string, pid: number): void {
  writeFileReplacing(pidFile, `${pid}\n`);
}

export function removePid(pidFile: string, pid: number): void {
  if (readPid(pidFile) === pid) {
    try { unlinkSync(pidFile); } catch { /* already gone */ }
  }
}
