/**
 * The daemon process itself (after option handling): pid file, logging,
 * the node, signals, graceful shutdown and reload.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfiguration } from '../lib/config/load.js';
import { formatProblem } from '../lib/config/problems.js';
import type { AuthKeys, HaConfig, ResourceGroup } from '../lib/config/types.js';
import { describeError, HbError } from '../lib/util/errors.js';
import { createLogRoot, type LogRoot, type LogSinkConfig, type Logger } from '../lib/util/log.js';
import { HeartbeatNode } from './node.js';
import type { DaemonOptions } from './options.js';
import { ensureDir, recreateDir, RSCTMP_SPEC, RUN_DIR_SPEC, STATE_DIR_SPEC } from './fsmodes.js';
import { rsctmpPath, type Paths } from './paths.js';
import { removePid, runState, writePid } from './pidfile.js';

export const VERSION = '3.0.6';

/** Something that runs on top of the node (resource manager, API server). */
export interface Attachment {
  readonly name: string;
  start(node: HeartbeatNode): Promise<void> | void;
  /** Graceful shutdown: give up whatever it holds. */
  shutdown(): Promise<void>;
  /** Messaging restarted with a new node (reload of ha.cf): rebind, keep state. */
  rebind?(node: HeartbeatNode): void;
  /** The configuration changed (reload): take what applies at run time (apiauth, parameters). */
  reconfigure?(config: HaConfig): void;
}

export interface RunContext {
  options: DaemonOptions;
  paths: Paths;
  nodename: string;
  config: HaConfig;
  keys: AuthKeys;
  groups: ResourceGroup[];
  /** Called once the node runs (or failed to start) so a detaching parent can exit. */
  notifyReady: (error?: { code: number; message: string }) => void;
  makeAttachments: (ctx: { log: Logger; config: HaConfig; groups: ResourceGroup[]; paths: Paths; nodename: string; options: DaemonOptions }) => Attachment[];
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

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
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

export async function runDaemon(ctx: RunContext): Promise<number> {
  const { options, paths } = ctx;
  let config = ctx.config;
  const logRoot: LogRoot = createLogRoot('heartbeat', sinkConfig(config, options.foreground, options.debug));
  const log = logRoot.logger;

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

  const makeNode = (): HeartbeatNode =>
    new HeartbeatNode({ config, keys: currentKeys, groups: currentGroups, nodename: ctx.nodename, paths, log });
  let currentKeys = ctx.keys;
  let currentGroups = ctx.groups;
  let node: HeartbeatNode;
  try {
    node = makeNode();
    await node.start();
  } catch (err) {
    log.error(`Heartbeat not started: ${describeError(err)}`);
    removePid(paths.pidFile, process.pid);
    ctx.notifyReady({ code: 1, message: describeError(err) });
    logRoot.close();
    return 1;
  }
  const newAttachments = (): Attachment[] =>
    ctx.makeAttachments({ log, config, groups: currentGroups, paths, nodename: ctx.nodename, options });
  let attachments = newAttachments();
  for (const a of attachments) await a.start(node);
  ctx.notifyReady();

  let authMtime = mtime(`${paths.haDir}/authkeys`);
  let hacfMtime = mtime(`${paths.haDir}/ha.cf`);
  let shuttingDown = false;
  let restarting = false;
  let reloading = false;
  let debugBoost = options.debug;

  /** Gives up every resource, announces `shutdone` and falls silent. */
  const giveUpAndStop = async (): Promise<void> => {
    log.info(`Heartbeat shutdown in progress. (${process.pid})`);
    for (const a of [...attachments].reverse()) {
      try {
        await a.shutdown();
      } catch (err) {
        log.error(`${a.name}: shutdown failed: ${describeError(err)}`);
      }
    }
    node.cluster.sendShutdone();
    // Two more statuses after our own shutdone, as heartbeat does, so
    // peers see the final state before silence.
    node.cluster.sendLocalStatus();
    node.cluster.sendLocalStatus();
    await node.stop();
  };

  const exitCode = await new Promise<number>((resolveExit) => {
    const shutdown = async (): Promise<void> => {
      if (shuttingDown) return;
      shuttingDown = true;
      while (restarting) await new Promise((r) => setTimeout(r, 100));
      await giveUpAndStop();
      log.info(`${ctx.nodename} Heartbeat shutdown complete.`);
      resolveExit(0);
    };

    /**
     * heartbeat's restart after a healed partition or a lost local
     * heartbeat: give everything up, wait out a deadtime so peers see us
     * gone, then start afresh with a new generation.
     */
    const restart = async (why: string): Promise<void> => {
      if (shuttingDown || restarting) return;
      restarting = true;
      try {
        log.info(`Restarting heartbeat: ${why}`);
        await giveUpAndStop();
        log.info(`${ctx.nodename} Heartbeat shutdown complete.`);
        await new Promise((r) => setTimeout(r, config.deadtimeMs + 1000));
        if (shuttingDown) return;
        log.info('Heartbeat restart: starting again.');
        node = makeNode();
        await node.start();
        attachments = newAttachments();
        for (const a of attachments) await a.start(node);
        watch(node);
      } catch (err) {
        log.error(`Restart failed: ${describeError(err)}; exiting.`);
        resolveExit(1);
      } finally {
        restarting = false;
      }
    };

    const watch = (n: HeartbeatNode): void => {
      n.cluster.on('partitionHeal', () => {
        if (attachments.length === 0) return;
        n.cluster.sendLocalStatus();
        setTimeout(() => void restart('cluster partition healed; giving up resources'), 2000);
      });
      n.cluster.on('nodeDead', (name) => {
        if (name === ctx.nodename) void restart('no local heartbeat');
      });
    };
    watch(node);

    const reload = async (): Promise<void> => {
      if (reloading || shuttingDown) return;
      reloading = true;
      try {
        const hacfNow = mtime(`${paths.haDir}/ha.cf`);
        const authNow = mtime(`${paths.haDir}/authkeys`);
        logRoot.reopen();
        if (hacfNow === hacfMtime && authNow === authMtime) {
          log.info('Configuration unchanged.');
          return;
        }
        const loaded = loadConfiguration({ haDir: paths.haDir, nodename: ctx.nodename, resourceDirs: paths.resourceDirs });
        if (!loaded.ok || !loaded.config || !loaded.keys) {
          for (const p of loaded.problems) log.error(`Reload: ${formatProblem(p)}`);
          log.error('Configuration error on reload: keeping the running configuration.');
          return;
        }
        if (hacfNow !== hacfMtime) {
          hacfMtime = hacfNow;
          authMtime = authNow;
          log.info('Configuration file changed: restarting communications, keeping resources.');
          config = loaded.config;
          logRoot.reconfigure(sinkConfig(config, options.foreground, debugBoost));
          currentKeys = loaded.keys;
          const fresh = makeNode();
          await node.stop();
          node = fresh;
          await node.start();
          for (const a of attachments) {
            a.reconfigure?.(config);
            a.rebind?.(node);
          }
          watch(node);
        } else {
          authMtime = authNow;
          log.info('Rereading authentication file.');
          currentKeys = loaded.keys;
          node.setKeys(loaded.keys);
        }
      } catch (err) {
        log.error(`Reload failed: ${describeError(err)}; keeping the running configuration.`);
      } finally {
        reloading = false;
      }
    };

    process.on('SIGTERM', () => void shutdown());
    process.on('SIGINT', () => void shutdown());
    process.on('SIGHUP', () => void reload());
    process.on('SIGUSR1', () => {
      debugBoost++;
      logRoot.reconfigure(sinkConfig(config, options.foreground, debugBoost));
      log.info(`debug now set to ${config.debug + debugBoost}`);
    });
    process.on('SIGUSR2', () => {
      debugBoost = Math.max(-config.debug, debugBoost - 1);
      logRoot.reconfigure(sinkConfig(config, options.foreground, debugBoost));
      log.info(`debug now set to ${config.debug + debugBoost}`);
    });
  });

  removePid(paths.pidFile, process.pid);
  logRoot.close();
  return exitCode;
}
