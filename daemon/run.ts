/**
 * The daemon process itself (after option handling): pid file, logging,
 * the node, signals, graceful shutdown and reload.
 */
import type { HbtsConfig, HttpListen } from '../lib/config/hbts-cf.js';
import type { AuthKeys, HaConfig, ResourceGroup } from '../lib/config/types.js';
import type { MonitorEntry } from '../lib/resources/monitor.js';
import { NodeRuntime, type Attachment } from '../lib/node/runtime.js';
import type { Clock } from '../lib/util/clock.js';
import type { ResourceController } from '../lib/resources/controller.js';
import { describeError, HbError } from '../lib/util/errors.js';
import { createLogRoot, type LogRoot, type LogSinkConfig, type Logger } from '../lib/util/log.js';
import { realParts } from './node.js';
import { Reloader } from './reload.js';
import type { DaemonOptions } from './options.js';
import { ensureDir, recreateDir, RSCTMP_SPEC, RUN_DIR_SPEC, STATE_DIR_SPEC } from './fsmodes.js';
import { rsctmpPath, type Paths } from './paths.js';
import { removePid, runState, writePid } from './pidfile.js';
import { SdNotifier } from './systemd.js';
import { EventLog } from './overview.js';
import { applyRealtime } from './realtime.js';
import { observe, startHttp } from './http/setup.js';
import type { ObservedState } from './http/observed.js';
import { hostname } from 'node:os';

export const VERSION = '3.0.6';

export type { Attachment } from '../lib/node/runtime.js';

/** What the daemon's attachments are made from (API, FIFO, respawn, rc.d hooks). */
export interface AttachmentContext {
  log: Logger;
  config: HaConfig;
  groups: ResourceGroup[];
  paths: Paths;
  nodename: string;
  options: DaemonOptions;
  /** The node's resource controller, when it manages resources. */
  resources: ResourceController | undefined;
  /** heartbeat-ts.cf monitored resources with their failure counts (`rscstatus -v`). */
  monitors: () => MonitorEntry[];
  /** The node's one clock: attachments time their work on it too. */
  clock: Clock;
  /** systemd's notify socket, when the daemon runs under a Type=notify unit. */
  systemd?: SdNotifier | undefined;
  /** True once a shutdown (not a restart) has begun. */
  stopping: () => boolean;
  /** Recent cluster events, kept across restarts (hb_status). */
  events: EventLog;
  /** What /metrics and the status page show, kept across restarts. */
  observed: ObservedState;
}

export interface RunContext {
  options: DaemonOptions;
  paths: Paths;
  nodename: string;
  config: HaConfig;
  keys: AuthKeys;
  groups: ResourceGroup[];
  /** heartbeat-ts.cf (absent: `present` false, 3.0.6's behaviour). */
  hbts?: HbtsConfig;
  /** Called once the node runs (or failed to start) so a detaching parent can exit. */
  notifyReady: (error?: { code: number; message: string }) => void;
  makeAttachments: (ctx: AttachmentContext) => Attachment[];
}

export function sinkConfig(config: HaConfig, foreground: boolean, debugBoost: number): LogSinkConfig {
  const noSink = config.logfile === undefined && config.debugfile === undefined && config.logfacility === undefined;
  return {
    logfile: config.logfile,
    debugfile: config.debugfile,
    logfacility: config.logfacility,
    syslogmsgfmt: config.syslogmsgfmt,
    stderr: foreground && noSink,
    debugLevel: config.debug + debugBoost,
  };
}

/**
 * Run-time directories heartbeat and the OCF agents expect; /run is often a
 * tmpfs, so they are created at every start (the init script does the same,
 * but the daemon may be started directly), with 3.0.6's modes and owners
 * (./fsmodes.ts). rsctmp is emptied, as heartbeat does.
 */
function prepareRunDirs(paths: Paths, log: Logger): void {
  const fixed = (path: string, changes: string[]): void => {
    if (changes.length > 0) log.warn(`${path}: corrected ${changes.join(', ')}`);
  };
  try {
    fixed(paths.stateDir, ensureDir(paths.stateDir, STATE_DIR_SPEC));
  } catch (err) {
    // A directory someone else owns is refused; a read-only or full disk is
    // reported where it bites, by the generation write (with its exit code).
    if (err instanceof HbError) throw err;
    log.warn(`Cannot prepare ${paths.stateDir}: ${describeError(err)}`);
  }
  fixed(paths.runDir, ensureDir(paths.runDir, RUN_DIR_SPEC));
  recreateDir(rsctmpPath(paths), RSCTMP_SPEC);
  const agents = process.env['HA_RSCTMP'] ?? '/run/resource-agents';
  try {
    fixed(agents, ensureDir(agents, RSCTMP_SPEC));
  } catch (err) {
    // not fatal: only OCF-based scripts need it
    log.warn(`Cannot prepare ${agents}: ${describeError(err)}`);
  }
}

/** The pid file: another live heartbeat means nothing to do; else ours is written (with the run-time directories). */
function claimPidFile(ctx: RunContext, log: Logger): number | undefined {
  const { paths } = ctx;
  const existing = runState(paths.pidFile);
  if (existing.state === 'running' && existing.pid !== process.pid) {
    log.info(`heartbeat: already running [pid ${existing.pid}].`);
    ctx.notifyReady();
    return 0;
  }
  try {
    prepareRunDirs(paths, log);
  } catch (err) {
    log.error(`Cannot prepare run directories: ${describeError(err)}`);
    ctx.notifyReady({ code: 4, message: `cannot prepare run directories: ${describeError(err)}` });
    return 4;
  }
  try {
    writePid(paths.pidFile, process.pid);
  } catch (err) {
    log.error(`Cannot write pid file ${paths.pidFile}: ${describeError(err)}`);
    ctx.notifyReady({ code: 4, message: `cannot write pid file ${paths.pidFile}: ${describeError(err)}` });
    return 4;
  }
  return undefined;
}

function logBanner(config: HaConfig, log: Logger): void {
  log.info(`Pacemaker support: ${config.crm ? 'yes' : 'no'}`);
  if (config.autoFailback === 'legacy') {
    log.warn("Deprecated 'legacy' auto_failback option selected.");
    log.warn("Please convert to 'auto_failback on'.");
    log.warn('See documentation for conversion details.');
  }
  if (!config.useLogd) log.warn('Logging daemon is disabled --enabling logging daemon is recommended');
  log.info('**************************');
  log.info(`Configuration validated. Starting heartbeat ${VERSION}`);
  log.info(`heartbeat: version ${VERSION}`);
}

function makeRuntime(ctx: RunContext, log: Logger, systemd: SdNotifier | undefined): { runtime: NodeRuntime; observed: ObservedState } {
  const events = new EventLog();
  const { options, paths, nodename } = ctx;
  // -M, or a crm/pacemaker cluster: no v1 resource management.
  const manageResources = !options.noResources && !ctx.config.crm;
  let runtime: NodeRuntime | undefined;
  const { state: observed, parts } = observe({
    parts: { ...realParts({ config: ctx.config, keys: ctx.keys, groups: ctx.groups, nodename, paths, log, manageResources, inprocessIp: ctx.hbts?.inprocessIp ?? true }), monitors: ctx.hbts?.monitors ?? [], quorum: ctx.hbts?.quorum ?? 'off', fastStart: ctx.hbts?.fastStart ?? false },
    groups: ctx.groups, events, version: VERSION, runtime: () => runtime,
  });
  runtime = new NodeRuntime({
    parts,
    pid: process.pid,
    attachments: (node, config) => ctx.makeAttachments({
      log, config, groups: ctx.groups, paths, nodename, options, resources: node.resources?.controller, clock: parts.clock,
      monitors: () => node.resources?.monitors() ?? [],
      systemd, stopping: () => runtime?.phase === 'stopping', events, observed,
    }),
  });
  return { runtime, observed };
}

export async function runDaemon(ctx: RunContext): Promise<number> {
  const { options, paths } = ctx;
  const logRoot: LogRoot = createLogRoot('heartbeat', sinkConfig(ctx.config, options.foreground, options.debug));
  const log = logRoot.logger;
  const claimed = claimPidFile(ctx, log);
  if (claimed !== undefined) return claimed;
  logBanner(ctx.config, log);
  applyRealtime(ctx.config, options.noRealtime, log);

  const systemd = SdNotifier.fromEnv(process.env, log);
  const { runtime, observed } = makeRuntime(ctx, log, systemd);
  try {
    await runtime.start();
  } catch (err) {
    log.error(`Heartbeat not started: ${describeError(err)}`);
    removePid(paths.pidFile, process.pid);
    ctx.notifyReady({ code: 1, message: describeError(err) });
    logRoot.close();
    return 1;
  }
  ctx.notifyReady();
  const http = await startHttp(observed, ctx.hbts?.httpListen, log, [ctx.nodename, hostname()]);
  const signals = new SignalHandlers(ctx, runtime, logRoot, (where) => void http.configure(where));
  signals.install();
  const exitCode = await runtime.exited;
  await http.close();
  systemd?.close();
  signals.remove();
  removePid(paths.pidFile, process.pid);
  logRoot.close();
  return exitCode;
}

/** SIGTERM/SIGINT shut down, SIGHUP reloads, SIGUSR1/2 change the debug level. */
class SignalHandlers {
  private debugBoost: number;
  private reloading = Promise.resolve();
  private readonly reloader: Reloader;
  private readonly handlers: [NodeJS.Signals, () => void][];

  constructor(private readonly ctx: RunContext, private readonly runtime: NodeRuntime, private readonly logRoot: LogRoot,
    setHttpListen: (where: HttpListen | undefined) => void) {
    this.debugBoost = ctx.options.debug;
    this.reloader = new Reloader({
      haDir: ctx.paths.haDir,
      nodename: ctx.nodename,
      resourceDirs: ctx.paths.resourceDirs,
      manageResources: runtime.current?.resources !== undefined,
      log: logRoot.logger,
      reopenLogs: () => logRoot.reopen(),
      reconfigureLogs: (config) => logRoot.reconfigure(sinkConfig(config, ctx.options.foreground, this.debugBoost)),
    }, {
      get running() { return runtime.phase === 'running'; },
      groups: ctx.groups,
      reloadMessaging: (config, keys) => runtime.reloadMessaging(config, keys),
      setKeys: (keys) => runtime.setKeys(keys),
      setMonitors: (specs) => runtime.setMonitors(specs),
      setQuorum: (mode) => runtime.setQuorum(mode),
      setHttpListen,
    });
    this.handlers = [
      ['SIGTERM', () => runtime.shutdown()],
      ['SIGINT', () => runtime.shutdown()],
      ['SIGHUP', () => { this.reloading = this.reloading.then(() => this.reloader.reload()); }],
      ['SIGUSR1', () => this.setDebugBoost(this.debugBoost + 1)],
      ['SIGUSR2', () => this.setDebugBoost(Math.max(-runtime.config.debug, this.debugBoost - 1))],
    ];
  }

  install(): void {
    for (const [sig, fn] of this.handlers) process.on(sig, fn);
  }

  remove(): void {
    for (const [sig, fn] of this.handlers) process.off(sig, fn);
  }

  private setDebugBoost(boost: number): void {
    this.debugBoost = boost;
    const config = this.runtime.config;
    this.logRoot.reconfigure(sinkConfig(config, this.ctx.options.foreground, boost));
    this.logRoot.logger.info(`debug now set to ${config.debug + boost}`);
  }
}
