/**
 * Filesystem locations, heartbeat's by default. Each can be moved with an
 * environment variable so an unprivileged user can run a node from a scratch
 * directory; the test suite also runs with the defaults inside namespaces.
 */
import { join } from 'node:path';

export interface Paths {
  /** /etc/ha.d — ha.cf, authkeys, haresources, resource.d, rc.d */
  haDir: string;
  /** /var/lib/heartbeat — hb_generation, hb_uuid, hostcache, fifo */
  stateDir: string;
  /** /var/run/heartbeat — API socket, rsctmp */
  runDir: string;
  /** /var/run/heartbeat.pid */
  pidFile: string;
  /** Where the resource scripts are looked up, in order. */
  resourceDirs: string[];
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  const haDir = env['HA_DIR'] ?? '/etc/ha.d';
  const stateDir = env['HA_VARLIB'] ?? '/var/lib/heartbeat';
  const runDir = env['HA_VARRUN'] ?? '/var/run/heartbeat';
  const pidFile = env['HA_PIDFILE'] ?? '/var/run/heartbeat.pid';
  const initDir = env['HA_INITDIR'] ?? '/etc/init.d';
  return {
    haDir,
    stateDir,
    runDir,
    pidFile,
    resourceDirs: [join(haDir, 'resource.d'), initDir],
  };
}

export const apiSocketPath = (p: Paths): string => join(p.runDir, 'register');
/** Pid and state files of our resource scripts (their default HA_RSCTMP); emptied at start. */
export const rsctmpPath = (p: Paths): string => join(p.runDir, 'rsctmp');
export const fifoPath = (p: Paths): string => join(p.stateDir, 'fifo');
/** heartbeat-ts's own JSON protocol for its tools (cl_status, hb_standby, ipfail), beside Heartbeat's `register`. */
export const toolSocketPath = (p: Paths): string => join(p.runDir, 'heartbeat-ts.sock');
