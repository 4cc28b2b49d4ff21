/**
 * Process helpers for the netns harness: run a command with a deadline and
 * kill its whole tree when the deadline passes, and read /proc facts
 * (children, start time, network namespace) by PID. Host PIDs only.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';

export interface ExecResult {
  /** exit status; 128+N when the command died of signal N */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  input?: string;
  /** what the caller runs, for the timeout message */
  what?: string;
}

/** Cap on captured output so a chatty command cannot exhaust memory. */
const MAX_CAPTURE = 8 * 1024 * 1024;

/** Direct children of a host PID (all threads), [] when it is gone. */
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
      // thread ended meanwhile
    }
  }
  return out;
}

/** All descendants of pid, deepest first (so they can be killed bottom-up). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number, depth: number): void => {
    if (depth > 64) return; // a PID-reuse cycle must not recurse forever
    for (const c of childrenOf(p)) {
      walk(c, depth + 1);
      out.push(c);
    }
  };
  walk(pid, 0);
  return out;
}

/** The kernel's start time of a process (clock ticks since boot), undefined when gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall: starttime
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and not a zombie (a zombie is gone for every purpose but its parent's wait). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
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
      // process ended or is a kernel thread without a net ns link
    }
  }
  return out;
}

/** Sends sig to each pid, ignoring the ones already gone. */
export function signalAll(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // already gone
    }
  }
}

export function statusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) {
    const n = (
      { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 } as Record<
        string,
        number
      >
    )[signal];
    return 128 + (n ?? 0);
  }
  return -1;
}

/**
 * Runs argv, feeding input on stdin, and collects output. When timeoutMs
 * passes, the whole process tree is SIGKILLed and the promise rejects with
 * the output seen so far.
 */
export function runCommand(argv: readonly string[], opts: RunOptions): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('runCommand: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (b: Buffer) => {
      if (size < MAX_CAPTURE) into.push(b);
      size += b.length;
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) signalAll([...descendants(child.pid), child.pid], 'SIGKILL');
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
      const res: ExecResult = {
        code: statusOf(code, signal),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
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
    // 'close' waits for stdout/stderr to end; a background child that keeps
    // them open must not hold us, so after 'exit' give the pipes a moment only.
    child.on('close', finish);
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(code, signal), 300);
    });
    // a command that does not read stdin closes it early: not an error
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
