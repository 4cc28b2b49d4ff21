/**
 * Process helpers for the lab (tests, demo, benchmarks, the `npm run lab`
 * CLI): run a command with a deadline, and read /proc facts by host PID
 * (children, start time, network namespace, CPU time, memory). Nothing here
 * signals a process it was not handed explicitly.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

export interface ExecResult {
  /** exit status; 128+N when the command died of signal N */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  input?: string;
  /** what the caller runs, for the timeout message */
  what?: string;
}

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15,
};
/** Output beyond this is dropped: a chatty command must not exhaust memory. */
const MAX_CAPTURE = 8 * 1024 * 1024;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wall-clock milliseconds with sub-millisecond resolution (comparable across processes). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export function statusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (SIGNAL_NUMBERS[signal] ?? 0);
  return -1;
}

/** Direct children of a host PID (all threads); [] when it is gone. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(/\s+/)) {
        if (c !== '') out.push(Number(c));
      }
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** All descendants of pid, deepest first. */
export function descendants(pid: number, depth = 0): number[] {
  if (depth > 64) return []; // PID reuse must not make this recurse forever
  const out: number[] = [];
  for (const c of childrenOf(pid)) {
    out.push(...descendants(c, depth + 1), c);
  }
  return out;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields start after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Kernel start time of a process (clock ticks since boot): tells a live owner from a reused PID. */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** The PID exists (a zombie counts; EPERM means it exists). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and not a zombie. */
export function isRunning(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
  } catch {
    return [];
  }
}

export function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** Host PIDs whose network namespace is the one bound at nsPath (/run/netns/X). */
export function pidsInNetns(nsPath: string): number[] {
  let ino: number;
  try {
    ino = statSync(nsPath).ino;
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (statSync(`/proc/${e}/ns/net`).ino === ino) out.push(Number(e));
    } catch {
      // ended, or a kernel thread
    }
  }
  return out;
}

/** Sends sig to each pid; the ones already gone are skipped. */
export function signalAll(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // already gone
    }
  }
}

const CLK_TCK = 100; // Linux USER_HZ on every architecture Node supports

/** User+system CPU time of a process in ms (its own threads only); undefined when gone. */
export function cpuMs(pid: number): number | undefined {
  const f = statFields(pid);
  if (f === undefined) return undefined;
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
  return (ticks * 1000) / CLK_TCK;
}

export interface MemUse {
  /** resident set, KiB */
  rssKb: number;
  /** proportional set size (shared pages split among their users), KiB */
  pssKb: number;
}

/** RSS and PSS of a process from smaps_rollup; undefined when gone. */
export function memOf(pid: number): MemUse | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: field('Rss'), pssKb: field('Pss') };
  } catch {
    return undefined;
  }
}

/**
 * Runs argv and collects its output. When timeoutMs passes, the whole process
 * tree is SIGKILLed and the promise rejects with what was seen so far.
 */
export function runCommand(argv: readonly string[], opts: RunOptions): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('runCommand: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (b: Buffer): void => {
      if (size < MAX_CAPTURE) into.push(b);
      size += b.length;
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      const pid = child.pid;
      if (pid === undefined) return;
      signalAll(descendants(pid), 'SIGKILL');
      // a child forked while the tree was read shows on a second look, while its parent still lives
      // (killed first, it would be re-parented away, e.g. to a lab node's init, and live on)
      setTimeout(() => signalAll([...descendants(pid), pid], 'SIGKILL'), 50);
    }, opts.timeoutMs);
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`cannot run ${argv.join(' ')}: ${e.message}`));
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      const res = { code: statusOf(code, signal), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (timedOut) {
        reject(
          new Error(
            `timed out after ${opts.timeoutMs} ms: ${opts.what ?? argv.join(' ')}\n` +
              `stdout so far: ${res.stdout.slice(-2000)}\nstderr so far: ${res.stderr.slice(-2000)}`,
          ),
        );
      } else {
        resolve(res);
      }
    };
    // A daemon started by the command may keep the pipes open: after 'exit'
    // the pipes get a moment to drain, no more.
    child.on('close', finish);
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(code, signal), 300);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
