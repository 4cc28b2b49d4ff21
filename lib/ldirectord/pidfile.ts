/**
 * Pid files and process control for `ldirectord start|stop|status|reload`:
 * one instance per configuration name, found through
 * <rundir>/ldirectord.<configname>.pid as the original does.
 */
import { readFileSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { basename } from 'node:path';

export function pidFilePath(configFile: string, runDir = process.env['LDIRECTORD_RUNDIR'] ?? '/var/run'): string {
  return `${runDir}/ldirectord.${basename(configFile)}.pid`;
}

export function readPid(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** true when `pid` is alive and is an ldirectord (not a recycled pid). */
export function isLdirectord(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ldirectord');
  } catch {
    return false;
  }
}

export type InstanceState = { state: 'running'; pid: number } | { state: 'stale'; pid: number } | { state: 'stopped' };

export function instanceState(path: string): InstanceState {
  const pid = readPid(path);
  if (pid === undefined) return { state: 'stopped' };
  return isLdirectord(pid) ? { state: 'running', pid } : { state: 'stale', pid };
}

/** Written atomically so a concurrent `status` never reads half a number. */
export function writePidFile(path: string, pid = process.pid): void {
  const tmp = `${path}.${pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`);
  renameSync(tmp, path);
}

export function removePidFile(path: string, onlyIfPid = process.pid): void {
  if (readPid(path) !== onlyIfPid) return;
  try { unlinkSync(path); } catch { /* already gone */ }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `pid` is gone; true if it went within `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!isLdirectord(pid)) return true;
    await sleep(100);
  }
  return !isLdirectord(pid);
}
