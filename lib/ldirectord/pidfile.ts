/**
 * Pid files and process control for `ldirectord start|stop|status|reload`:
 * one instance per configuration name, found through
 * <rundir>/ldirectord.<configname>.pid as the original does. The pid file
 * mechanics are heartbeat's (lib/util/pidfile.ts).
 */
import { basename } from 'node:path';
import { liveCommandLine, pidState, removePid, writePid } from '../util/pidfile.js';

export { readPid } from '../util/pidfile.js';

export function pidFilePath(configFile: string, runDir = process.env['LDIRECTORD_RUNDIR'] ?? '/var/run'): string {
  return `${runDir}/ldirectord.${basename(configFile)}.pid`;
}

/** true when `pid` is alive and is an ldirectord (not a recycled pid). */
export function isLdirectord(pid: number): boolean {
  return liveCommandLine(pid)?.join('\0').includes('ldirectord') ?? false;
}

export type InstanceState = { state: 'running'; pid: number } | { state: 'stale'; pid: number } | { state: 'stopped' };

export function instanceState(path: string): InstanceState {
  const s = pidState(path, (argv) => argv.join('\0').includes('ldirectord'));
  return s.state === 'none' ? { state: 'stopped' } : s;
}

export function writePidFile(path: string, pid = process.pid): void {
  writePid(path, pid);
}

export function removePidFile(path: string, onlyIfPid = process.pid): void {
  removePid(path, onlyIfPid);
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
