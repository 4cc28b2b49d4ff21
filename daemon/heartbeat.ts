#!/usr/bin/env node
/**
 * `heartbeat` — the daemon's command line (spec 11.1). Exit codes:
 * 0 ok, 1 generic failure, 2 usage, 3 not running (status), 4 permission,
 * 6 configuration error.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfiguration, nodeName } from '../lib/config/load.js';
import { formatDefaults, formatProblem } from '../lib/config/problems.js';
import { makeAttachments } from './attachments.js';
import { parseOptions, USAGE, type DaemonOptions } from './options.js';
import { resolvePaths, type Paths } from './paths.js';
import { runState } from './pidfile.js';
import { runDaemon, VERSION } from './run.js';

const EXIT_OK = 0;
const EXIT_GENERIC = 1;
const EXIT_USAGE = 2;
const EXIT_NOT_RUNNING = 3;
const EXIT_CONFIG = 6;
const READY_FD_ENV = 'HEARTBEAT_TS_READY_FD';

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
function printErr(text: string): void {
  process.stderr.write(`${text}\n`);
}

function status(paths: Paths, nodename: string): number {
  const s = runState(paths.pidFile);
  if (s.state === 'running') {
    print(`heartbeat OK [pid ${s.pid} et al] is running on ${hostname().toLowerCase()} [${nodename}]...`);
    return EXIT_OK;
  }
  print('heartbeat is stopped. No process');
  return s.state === 'none' ? EXIT_NOT_RUNNING : EXIT_GENERIC;
}

async function kill(paths: Paths): Promise<number> {
  const s = runState(paths.pidFile);
  if (s.state !== 'running') {
    printErr('INFO: Heartbeat already stopped.');
    return EXIT_OK;
  }
  try {
    process.kill(s.pid, 'SIGTERM');
  } catch (err) {
    printErr(`ERROR: cannot signal heartbeat pid ${s.pid}: ${(err as Error).message}`);
    return EXIT_GENERIC;
  }
  // Wait until it is gone: resources are released before it exits.
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    if (runState(paths.pidFile).state !== 'running') return EXIT_OK;
  }
}

function checkConfig(paths: Paths, nodename: string, quietWhenOk: boolean): ReturnType<typeof loadConfiguration> {
  const loaded = loadConfiguration({ haDir: paths.haDir, nodename, resourceDirs: paths.resourceDirs });
  for (const p of loaded.problems) {
    if (quietWhenOk && p.severity === 'info') continue;
    printErr(formatProblem(p));
  }
  return loaded;
}

/** Starts a detached copy of ourselves with -f and waits for it to say it runs. */
function daemonize(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const script = fileURLToPath(import.meta.url);
    // Node's own flags (HEARTBEAT_TS_NODE may name a wrapper adding some) carry over to the daemon.
    const child = spawn(process.execPath, [...process.execArgv, script, '-f', ...argv], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, [READY_FD_ENV]: '3' },
    });
    const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
    let text = '';
    let settled = false;
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      child.unref();
      (pipe as unknown as { destroy?: () => void } | null)?.destroy?.();
      resolve(code);
    };
    pipe?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n')[0];
      if (!text.includes('\n') || line === undefined) return;
      if (line === 'READY') finish(EXIT_OK);
      else {
        const m = /^ERROR (\d+) (.*)$/.exec(line);
        printErr(`heartbeat: ${m?.[2] ?? line}`);
        finish(m ? Number(m[1]) : EXIT_GENERIC);
      }
    });
    child.on('exit', (code) => finish(code === 0 ? EXIT_OK : code ?? EXIT_GENERIC));
    child.on('error', (err) => {
      printErr(`heartbeat: cannot start daemon: ${err.message}`);
      finish(EXIT_GENERIC);
    });
  });
}

function readyNotifier(): (error?: { code: number; message: string }) => void {
  const fd = process.env[READY_FD_ENV];
  delete process.env[READY_FD_ENV];
  if (fd === undefined) return () => undefined;
  let done = false;
  return (error) => {
    if (done) return;
    done = true;
    try {
      const stream = createWriteStream('', { fd: Number(fd) });
      stream.end(error ? `ERROR ${error.code} ${error.message}\n` : 'READY\n');
    } catch {
      /* parent gone */
    }
  };
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv);
  if (!parsed.ok) {
    printErr(`heartbeat: ${parsed.error}`);
    printErr(USAGE);
    return EXIT_USAGE;
  }
  const o: DaemonOptions = parsed.options;
  const paths = resolvePaths();
  if (o.version) {
    print(`${VERSION} (heartbeat-ts 0.1.0)`);
    return EXIT_OK;
  }
  if (o.printDefaults) {
    process.stdout.write(formatDefaults());
    return EXIT_OK;
  }
  const nodename = nodeName(paths.haDir);
  if (o.status) return status(paths, nodename);
  if (o.kill) return kill(paths);
  if (o.checkConfig) {
    const loaded = checkConfig(paths, nodename, false);
    if (loaded.ok) print(`heartbeat: configuration in ${paths.haDir} is valid`);
    return loaded.ok ? EXIT_OK : EXIT_CONFIG;
  }
  if (o.reload) {
    const loaded = checkConfig(paths, nodename, true);
    if (!loaded.ok) return EXIT_CONFIG;
    const s = runState(paths.pidFile);
    if (s.state !== 'running') {
      printErr('heartbeat: not running, nothing to reload');
      return EXIT_NOT_RUNNING;
    }
    print(`Signalling heartbeat pid ${s.pid} to reread config files`);
    process.kill(s.pid, 'SIGHUP');
    return EXIT_OK;
  }

  const notifyReady = readyNotifier();
  const loaded = checkConfig(paths, nodename, true);
  if (!loaded.ok || !loaded.config || !loaded.keys) {
    printErr('Configuration error, heartbeat not started.');
    notifyReady({ code: EXIT_CONFIG, message: 'Configuration error, heartbeat not started.' });
    return EXIT_CONFIG;
  }
  const running = runState(paths.pidFile);
  if (running.state === 'running') {
    print(`heartbeat: already running [pid ${running.pid}].`);
    notifyReady();
    return EXIT_OK;
  }
  if (!o.foreground) return daemonize(argv);
  return runDaemon({
    options: o,
    paths,
    nodename,
    config: loaded.config,
    keys: loaded.keys,
    groups: loaded.groups ?? [],
    hbts: loaded.hbts,
    notifyReady,
    makeAttachments,
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let pending log writes finish, then leave even if a handle lingers.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    printErr(`heartbeat: ${(err as Error).stack ?? String(err)}`);
    process.exit(EXIT_GENERIC);
  },
);
