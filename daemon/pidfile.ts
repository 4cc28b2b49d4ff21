/**
 * heartbeat's pid file and "is heartbeat running" check (spec 11.1): a pid
 * file naming a live process whose command line is a heartbeat daemon
 * (ours or the original). The mechanics are in lib/util/pidfile.ts.
 */
import { liveCommandLine, pidState, type PidState } from '../lib/util/pidfile.js';

export { readPid, removePid, writePid } from '../lib/util/pidfile.js';
export type RunState = PidState;

const isHeartbeatArgv = (argv: string[]): boolean => argv.some((a) => /(^|\/)heartbeat(\.js)?$/.test(a) || a.startsWith('heartbeat:'));

/** True when `pid` is alive and runs a heartbeat daemon (ours or the original). */
export function isHeartbeatProcess(pid: number): boolean {
  const argv = liveCommandLine(pid);
  return argv !== undefined && isHeartbeatArgv(argv);
}

export function runState(pidFile: string): RunState {
  return pidState(pidFile, isHeartbeatArgv);
}
