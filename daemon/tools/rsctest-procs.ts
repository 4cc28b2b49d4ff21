/**
 * What hb_rsctest learns about the processes a resource script leaves
 * behind, from /proc: who is still in the script's session or process
 * group, who carries the run's marker in its environment (everything the
 * script started that kept its environment, daemonized or not), who holds
 * a file open, who is blocked reading its stdin.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** Command name (comm), at most 15 characters. */
  comm: string;
}

/** The environment variable that marks every process of one tester run. */
export const MARKER_ENV = 'HB_RSCTEST_RUN';

export function procInfo(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may itself contain ") ": the fields follow the last one.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // A zombie is already gone as far as resources go.
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return {
    pid,
    comm: stat.slice(open + 1, close),
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    sid: Number(fields[3]),
  };
}

function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${MARKER_ENV}=${marker}`);
  } catch {
    return false;
  }
}

/** Live processes (not us) of the session `sid`, or carrying the marker. */
export function processesOf(sel: { sid?: number | undefined; marker?: string | undefined }): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const info = procInfo(pid);
    if (info === undefined) continue;
    if ((sel.sid !== undefined && info.sid === sel.sid) || (sel.marker !== undefined && hasMarker(pid, sel.marker))) out.push(info);
  }
  return out;
}

/** The files a process has open, by fd number (readlink of /proc/PID/fd/N). */
export function openFiles(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      out.set(Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/** Live processes that have `path` open. */
export function holdersOf(path: string, among: readonly ProcInfo[]): ProcInfo[] {
  return among.filter((p) => [...openFiles(p.pid).values()].includes(path));
}

/** read(2) syscall numbers, for /proc/PID/syscall. */
const READ_SYSCALL: Partial<Record<string, number>> = { x64: 0, arm64: 63, arm: 3, ia32: 3, riscv64: 63, s390x: 3, ppc64: 3 };

/** True when the process sits in read(2) on fd 0 and fd 0 is `stdinPath`. */
export function blockedReadingStdin(pid: number, stdinPath: string): boolean {
  try {
    if (readlinkSync(`/proc/${pid}/fd/0`) !== stdinPath) return false;
  } catch {
    return false;
  }
  try {
    const [nr, fd] = readFileSync(`/proc/${pid}/syscall`, 'latin1').trim().split(' ');
    const readNr = READ_SYSCALL[process.arch];
    if (readNr !== undefined && nr !== undefined && /^\d+$/.test(nr)) return Number(nr) === readNr && fd === '0x0';
  } catch {
    /* no syscall file (kernel config, permissions): fall back to wchan */
  }
  try {
    return /pipe_read|pipe_wait|wait_for_partner/.test(readFileSync(`/proc/${pid}/wchan`, 'latin1'));
  } catch {
    return false;
  }
}

/** Short description for reports: `1234 (sleep)`. */
export function describeProcs(ps: readonly ProcInfo[], max = 4): string {
  const shown = ps.slice(0, max).map((p) => `${p.pid} (${p.comm})`).join(', ');
  return ps.length > max ? `${shown} and ${ps.length - max} more` : shown;
}

/** SIGKILLs the given processes (ones this tester's runs started), returns those it reached. */
export function killProcs(ps: readonly ProcInfo[]): ProcInfo[] {
  return ps.filter((p) => {
    try {
      process.kill(p.pid, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  });
}
