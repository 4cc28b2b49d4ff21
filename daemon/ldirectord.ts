#!/usr/bin/env node
/**
 * ldirectord [-d] [-t] [--] [configfile] start|stop|restart|try-restart|reload|force-reload|status
 *
 * Same command line, config lookup (/etc/ha.d/<cfg>, /etc/ha.d/conf/<cfg>,
 * then the path as given), pid file (/var/run/ldirectord.<cfg>.pid) and
 * exit codes as the original, so haresources entries keep working.
 * `-t` checks the configuration (including what the data plane can do)
 * and exits: 0 when usable, 2 when not.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogRoot, type LogRoot, type LogSinkConfig } from '../lib/util/log.js';
import { describeError } from '../lib/util/errors.js';
import { formatProblems } from '../lib/ldirectord/parse.js';
import {
  instanceState, pidFilePath, removePidFile, sleep, waitGone, writePidFile,
} from '../lib/ldirectord/pidfile.js';
import { choosePlane, LdRuntime, loadConfig } from '../lib/ldirectord/runtime.js';
import type { LdConfig } from '../lib/ldirectord/types.js';

const VERSION = 'Linux Director v1.186-ha (heartbeat-ts)';
const COMMANDS = ['start', 'stop', 'restart', 'try-restart', 'reload', 'force-reload', 'status'];
const CHILD_FLAG = '--heartbeat-ts-daemon-child';

interface Cli { debug: boolean; test: boolean; child: boolean; config: string; command: string }

function usage(code: number): never {
  process.stderr.write('Usage: ldirectord [-d|--debug] [-t|--test] [--] [configfile] ' +
    'start|stop|restart|try-restart|reload|force-reload|status\n       ldirectord -h|--help|-v|--version\n');
  process.exit(code);
}

function parseArgs(argv: string[]): Cli {
  const cli: Cli = { debug: false, test: false, child: false, config: 'ldirectord.cf', command: '' };
  const pos: string[] = [];
  let opts = true;
  for (const a of argv) {
    if (opts && a === '--') { opts = false; continue; }
    if (opts && (a === '-d' || a === '--debug')) cli.debug = true;
    else if (opts && (a === '-t' || a === '--test')) cli.test = true;
    else if (opts && a === CHILD_FLAG) cli.child = true;
    else if (opts && (a === '-h' || a === '--help' || a === '-?')) usage(0);
    else if (opts && (a === '-v' || a === '--version')) { process.stdout.write(`${VERSION}\n`); process.exit(0); }
    else if (opts && a.startsWith('-')) usage(1);
    else pos.push(a);
  }
  if (cli.test) {
    if (pos.length > 1) usage(1);
    if (pos[0]) cli.config = pos[0];
    return cli;
  }
  if (pos.length === 2) [cli.config, cli.command] = pos as [string, string];
  else if (pos.length === 1) cli.command = pos[0] ?? '';
  else usage(1);
  if (!COMMANDS.includes(cli.command)) usage(1);
  return cli;
}

function resolveConfig(name: string): string | undefined {
  for (const p of [`/etc/ha.d/${name}`, `/etc/ha.d/conf/${name}`, name]) if (existsSync(p)) return p;
  return undefined;
}

function sinkConfig(cfg: LdConfig | undefined, foreground: boolean, debug: boolean): LogSinkConfig {
  const target = cfg?.logfile ?? '/var/log/ldirectord.log';
  if (foreground) return { syslogmsgfmt: false, stderr: true, debugLevel: debug ? 1 : 0 };
  return target.startsWith('/')
    ? { logfile: target, syslogmsgfmt: false, stderr: false, debugLevel: 0 }
    : { logfacility: target, syslogLayout: 'ident_pid', syslogmsgfmt: false, stderr: false, debugLevel: 0 };
}

async function runDaemon(cli: Cli, config: string, pidFile: string): Promise<never> {
  // The starting parent stops reading our stderr once we are up.
  process.stderr.on('error', () => { /* parent gone */ });
  const bootLog = createLogRoot('ldirectord', sinkConfig(undefined, true, cli.debug));
  const loaded = await loadConfig(config, { logger: bootLog.logger });
  if (!loaded.config) {
    for (const l of formatProblems(loaded.problems)) process.stderr.write(`${l}\n`);
    process.exit(2);
  }
  const cfg = loaded.config;
  const foreground = cli.debug || cfg.supervised;
  const root: LogRoot = createLogRoot('ldirectord', sinkConfig(cfg, foreground, cli.debug));
  const log = root.logger;
  for (const p of loaded.problems) log.warn(`Warning reading file ${p.file} at line ${p.line}: ${p.message}`);
  log.info(`Starting ${VERSION} with pid: ${process.pid}`);
  let runtime: LdRuntime;
  try {
    runtime = await LdRuntime.start({ file: config, logger: log, plane: choosePlane(cfg, log) }, { ...loaded, config: cfg });
  } catch (e) {
    log.error(`Initialisation Error: ${describeError(e)}`);
    process.exit(1);
  }
  writePidFile(pidFile);
  let stopping = false;
  const term = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    void runtime.stop().finally(() => {
      log.info(`Linux Director Daemon terminated on signal: ${sig}`);
      removePidFile(pidFile);
      root.close();
      process.exit(0);
    });
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.on(sig, () => term(sig.slice(3)));
  process.on('SIGHUP', () => void runtime.reload('Reloading Linux Director Daemon config on signal'));
  process.on('SIGPIPE', () => { /* ignored, as the original does */ });
  return new Promise<never>(() => { /* runs until a signal */ });
}

async function startDetached(cli: Cli, config: string, pidFile: string): Promise<number> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [script, CHILD_FLAG, ...(cli.debug ? ['-d'] : []), config, 'start'], {
    detached: true, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  let exited: number | null | undefined;
  child.on('exit', (code) => { exited = code; });
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const st = instanceState(pidFile);
    if (st.state === 'running' && st.pid === child.pid) {
      child.stderr?.destroy();
      child.unref();
      return 0;
    }
    if (exited !== undefined) {
      process.stderr.write(stderr);
      return exited === 2 ? 2 : 1;
    }
    await sleep(100);
  }
  process.stderr.write(`ldirectord for ${config} did not start within 60s\n`);
  return 1;
}

async function main(): Promise<number> {
  const cli = parseArgs(process.argv.slice(2));
  const config = resolveConfig(cli.config);
  if (!config) {
    process.stderr.write(`Config file ${cli.config} not found\n`);
    return 1;
  }
  if (cli.test) {
    const log = createLogRoot('ldirectord', { syslogmsgfmt: false, stderr: false, debugLevel: 0 });
    const loaded = await loadConfig(config, { logger: log.logger });
    for (const l of formatProblems(loaded.problems)) process.stderr.write(`${l}\n`);
    if (!loaded.config) return 2;
    process.stdout.write(`${config}: configuration OK, data plane ${choosePlane(loaded.config, log.logger).name}\n`);
    return 0;
  }
  const pidFile = pidFilePath(config);
  if (cli.child) return runDaemon(cli, config, pidFile);
  const st = instanceState(pidFile);
  switch (cli.command) {
    case 'status':
      if (st.state === 'running') {
        // stdout, not stderr as the original: heartbeat's status test reads stdout for "running".
        process.stdout.write(`ldirectord for ${config} is running with pid: ${st.pid}\n`);
        return 0;
      }
      if (st.state === 'stale') process.stderr.write(`ldirectord stale pid file ${pidFile} for ${config}\n`);
      process.stdout.write(`ldirectord is stopped for ${config}\n`);
      return st.state === 'stale' ? 1 : 3;
    case 'stop':
    case 'try-restart':
    case 'restart':
      if (st.state === 'running') {
        process.kill(st.pid, 'SIGTERM');
        if (!(await waitGone(st.pid, 60_000))) {
          process.stderr.write(`ldirectord (pid ${st.pid}) did not stop within 60s\n`);
          return 1;
        }
      } else if (cli.command === 'try-restart') {
        return 0;
      }
      if (cli.command === 'stop') return 0;
      break;
    case 'reload':
    case 'force-reload':
      if (st.state !== 'running') {
        process.stderr.write(`ldirectord is stopped for ${config}\n`);
        return 1;
      }
      process.kill(st.pid, 'SIGHUP');
      return 0;
    case 'start':
      if (st.state === 'running') return 0;
      break;
  }
  if (cli.debug) return runDaemon(cli, config, pidFile);
  return startDetached(cli, config, pidFile);
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`ldirectord: ${describeError(e)}\n`);
  process.exit(1);
});

