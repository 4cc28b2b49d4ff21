/**
 * A command started in a lab node without waiting for it: its host PID, its
 * end, its output (in memory, line by line, or appended to a host file).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { childrenOf, commOf, sleep, statusOf } from './proc.js';
import type { NodeId } from './state.js';

export interface SpawnOptions {
  /** host file receiving stdout+stderr (appended); otherwise output is kept in memory */
  logFile?: string;
  /** called with each line of output (without logFile) */
  onLine?: (line: string) => void;
  env?: Record<string, string>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** code, or 128+signal number */
  status: number;
}

/** A command running in a node, seen from the host. */
export interface NodeProcess {
  readonly node: NodeId;
  readonly argv: readonly string[];
  /** host PID of the command; undefined if it ended before it could be read */
  readonly pid: number | undefined;
  readonly logFile: string | undefined;
  /** resolves when the command ended (never rejects) */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** signals the command itself; false when it already ended */
  kill(signal?: NodeJS.Signals): boolean;
  /** captured stdout+stderr (empty with logFile) */
  output(): string;
}

/**
 * Starts `full` (nsenter … argv, from Lab.enter) without waiting for it and
 * finds the command's host PID: nsenter forks once to enter the PID
 * namespace, so the command is its child.
 */
export async function startInNode(
id: NodeId,
key: string,
argv: readonly string[],
full: readonly string[],
env: NodeJS.ProcessEnv,
opts: SpawnOptions,
): Promise<NodeProcess> {
  let fd: number | undefined;
  if (opts.logFile !== undefined) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    fd = openSync(opts.logFile, 'a');
  }
  const child = spawn(full[0] ?? 'nsenter', full.slice(1), { env, stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'] });
  if (fd !== undefined) closeSync(fd);
  const chunks: Buffer[] = [];
  let partial = '';
  const onData = (b: Buffer): void => {
    if (opts.onLine === undefined) {
      chunks.push(b);
      return;
    }
    partial += b.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      opts.onLine(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let ended = false;
  const exited = new Promise<ExitInfo>((res) => {
    child.on('exit', (code, signal) => {
      ended = true;
      res({ code, signal, status: statusOf(code, signal) });
    });
    child.on('error', () => {
      ended = true;
      res({ code: null, signal: null, status: -1 });
    });
  });
  // nsenter forks once to enter the PID namespace: the command is its child
  let pid: number | undefined;
  const deadline = Date.now() + 10_000;
  while (!ended && child.pid !== undefined && Date.now() < deadline) {
    if (commOf(child.pid) === 'nsenter') pid = childrenOf(child.pid)[0];
    if (pid !== undefined) break;
    await sleep(10);
  }
  if (pid === undefined && !ended) {
    child.kill('SIGKILL');
    throw new Error(`lab.spawn: no process appeared in node ${key} for ${argv.join(' ')}`);
  }
  const hostPid = pid;
  return {
    node: id,
    argv: [...argv],
    pid: hostPid,
    logFile: opts.logFile,
    exited,
    running: () => !ended,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (ended || hostPid === undefined) return false;
      try {
        process.kill(hostPid, signal);
        return true;
      } catch {
        return false;
      }
    },
    output: () => Buffer.concat(chunks).toString('utf8'),
  };
}
