/**
 * The real parts of resource management the daemon gathers for the node
 * (lib/node/assemble.ts): resource scripts run as processes with heartbeat's
 * environment, the reboot when a resource will not stop, and user rc.d
 * hooks (notify_world) for message types heartbeat-ts does not handle
 * natively.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HaConfig, ResourceGroup } from '../lib/config/types.js';
import type { Cluster } from '../lib/membership/cluster.js';
import type { Attachment, NodeHandle } from '../lib/node/runtime.js';
import { InProcessIpScripts } from '../lib/resources/inprocess-ip.js';
import { DEFAULT_TIMEOUTS, type ResourceScripts, ScriptRunner } from '../lib/resources/script-runner.js';
import type { Clock } from '../lib/util/clock.js';
import { findScript } from '../lib/util/files.js';
import type { Logger } from '../lib/util/log.js';
import { createSyslogWriter, type SyslogWriter } from '../lib/util/syslog.js';
import { F, T } from '../lib/wire/fields.js';
import type { HaMsg } from '../lib/wire/message.js';
import { nativeIpKernel } from './inprocess-ip-native.js';
import type { Paths } from './paths.js';

/** Types whose stock rc.d scripts heartbeat-ts implements natively (never run twice). */
const NATIVE_TYPES = new Set<string>([
  T.STATUS, T.IP_REQUEST, T.IP_REQUEST_RESP, T.HB_TAKEOVER, T.ASK_RESOURCES, T.STARTING, T.RESOURCE, T.SHUTDONE,
]);

export interface ResourcesDeps {
  config: HaConfig;
  groups: ResourceGroup[];
  paths: Paths;
  nodename: string;
  log: Logger;
  /** heartbeat-ts.cf `inprocess_ip` (default on). */
  inprocessIp?: boolean;
}

/**
 * The heartbeat-ts tree this code runs from: the nearest directory above
 * this file that holds dist/daemon/ (a checkout, or /usr/lib/heartbeat-ts).
 */
export function installRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'dist', 'daemon'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The environment heartbeat gives resource and rc.d scripts (spec 6.7),
 * plus HEARTBEAT_TS_HOME and HEARTBEAT_TS_NODE (unless already set): our own
 * scripts (resource.d/ldirectord) run programs of this tree, and a copy of
 * them in /etc/ha.d/resource.d cannot find the tree from its own path.
 */
export function scriptEnvironment(d: ResourcesDeps): Record<string, string> {
  const env: Record<string, string> = {
    HA_CURHOST: d.nodename,
    HA_DIR: `${d.paths.haDir}/`,
    HA_RCDIR: `${d.paths.haDir}/rc.d`,
    HA_RESOURCEDIR: `${d.paths.haDir}/resource.d`,
    HA_FUNCS: `${d.paths.haDir}//shellfuncs`,
    HA_DATEFMT: '%Y/%m/%d_%T\t',
    HA_LOGD: d.config.useLogd ? 'yes' : 'no',
    HA_debug: String(d.config.debug),
    OCF_ROOT: '/usr/lib/ocf',
    HA_NOARCHBIN: '/usr/share/heartbeat',
    HA_VARLIB: d.paths.stateDir,
  };
  if (d.config.logfile) env['HA_LOGFILE'] = d.config.logfile;
  if (d.config.debugfile) env['HA_DEBUGLOG'] = d.config.debugfile;
  if (d.config.logfacility) env['HA_LOGFACILITY'] = d.config.logfacility;
  if (d.config.autoFailback !== 'legacy') env['HA_NICEFAILBACK'] = 'yes';
  for (const [k, v] of Object.entries(d.config.env)) env[`HA_${k}`] = v;
  const home = installRoot();
  if (process.env['HEARTBEAT_TS_HOME'] === undefined && home !== undefined) env['HEARTBEAT_TS_HOME'] = home;
  if (process.env['HEARTBEAT_TS_NODE'] === undefined) env['HEARTBEAT_TS_NODE'] = process.execPath;
  return env;
}

/**
 * Resource scripts as processes, on the daemon's clock, with heartbeat's
 * environment; our own IPaddr/IPaddr2 in-process (lib/resources/inprocess-ip.ts).
 */
export function realScripts(d: ResourcesDeps, clock: Clock): ResourceScripts {
  const env = scriptEnvironment(d);
  const runner = new ScriptRunner({
    resourceDirs: d.paths.resourceDirs,
    clock,
    env,
    timeoutMs: timeoutsFromEnv(),
    killGraceMs: 5000,
    outputFile: d.config.debugfile,
  });
  if (d.inprocessIp === false) return runner;
  let syslog: SyslogWriter | undefined;
  return new InProcessIpScripts(runner, {
    clock, env, kernel: nativeIpKernel, log: d.log, outputFile: d.config.debugfile,
    syslog: () => (syslog ??= createSyslogWriter()),
  });
}

/** HA_STOPRETRYMAX, default 10. */
export function stopRetryMaxFromEnv(): number {
  const v = Number(process.env['HA_STOPRETRYMAX'] ?? '10');
  return Number.isFinite(v) ? v : 10;
}

/**
 * A resource that will not stop: heartbeat reboots to guarantee release.
 * Nothing may reach the peers after this (no shutdone, no more status):
 * a shutdone would let them take the resource over at once while it still
 * runs here. So the reboot runs synchronously, and if it returns at all we
 * die silently; the peers then find us dead after deadtime.
 */
export function unstoppable(log: Logger): (spec: string) => void {
  return (spec) => {
    const action = process.env['HA_STOPFAIL_ACTION'] ?? 'reboot';
    log.crit(`Resource ${spec} could not be stopped; action: ${action}.`);
    if (action === 'reboot') {
      const r = spawnSync('reboot', ['-nf'], { stdio: 'ignore', timeout: 10_000 });
      log.crit(`Unable to force reboot (${r.error?.message ?? `reboot exited with ${String(r.status ?? r.signal)}`}); killing heartbeat.`);
    }
    process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * notify_world for user hooks: `<haDir>/rc.d/<type>` runs (one at a time)
 * with every string field as HA_<name>, for types heartbeat-ts does not
 * implement natively, once communications are up.
 */
export class RcHooks implements Attachment {
  readonly name = 'rc.d hooks';
  private readonly env: Record<string, string>;
  private queue: Promise<void> = Promise.resolve();
  private unbind: (() => void) | null = null;

  constructor(private readonly d: ResourcesDeps, private readonly clock: Clock) {
    this.env = scriptEnvironment(d);
  }

  start(node: NodeHandle): void {
    this.bind(node.cluster);
  }

  rebind(node: NodeHandle): void {
    this.bind(node.cluster);
  }

  shutdown(): Promise<void> {
    this.unbind?.();
    this.unbind = null;
    return Promise.resolve();
  }

  private bind(c: Cluster): void {
    this.unbind?.();
    const onMessage = (msg: HaMsg): void => {
      if (c.isCommUp) this.notify(msg, c.me.status);
    };
    c.on('message', onMessage);
    this.unbind = () => c.off('message', onMessage);
  }

  private notify(msg: HaMsg, ownStatus: string): void {
    const type = (msg.get(F.TYPE) ?? '').toLowerCase();
    if (type === '' || NATIVE_TYPES.has(type) || !/^[a-z0-9_.-]+$/.test(type)) return;
    const script = findScript([join(this.d.paths.haDir, 'rc.d')], type);
    if (script === undefined) return;
    const env: Record<string, string> = { ...this.env, HA_OSTATUS: ownStatus };
    for (const [k, v] of Object.entries(msg.toRecord())) env[`HA_${k}`] = v;
    const log = this.d.log.script('harc(default)');
    this.queue = this.queue.then(() => new Promise<void>((resolve) => {
      log.info(`Running ${this.d.paths.haDir}//rc.d/${type} ${type}`);
      const child = spawn(script, [type], { env: { ...process.env, ...env }, stdio: 'ignore', detached: true });
      const timer = this.clock.setTimer(() => {
        if (child.pid !== undefined) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      }, DEFAULT_TIMEOUTS.start);
      child.on('error', (err) => { log.error(`cannot run ${script}: ${err.message}`); timer.cancel(); resolve(); });
      child.on('exit', () => { timer.cancel(); resolve(); });
    }));
  }
}

/** The deadlines of resource script runs: HA_START_TIMEOUT etc. (seconds), else the defaults (hb_rsctest uses them too). */
export function timeoutsFromEnv(): typeof DEFAULT_TIMEOUTS {
  const read = (name: string, dflt: number): number => {
    const v = Number(process.env[name]);
    return Number.isFinite(v) && v > 0 ? v * 1000 : dflt;
  };
  return {
    start: read('HA_START_TIMEOUT', DEFAULT_TIMEOUTS.start),
    stop: read('HA_STOP_TIMEOUT', DEFAULT_TIMEOUTS.stop),
    status: read('HA_STATUS_TIMEOUT', DEFAULT_TIMEOUTS.status),
  };
}
