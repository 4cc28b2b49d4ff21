/**
 * Driving both daemons on lab nodes: Debian's real heartbeat 3.0.6 (through
 * its init script, which also creates /var/run/heartbeat) and heartbeat-ts
 * (dist/daemon/heartbeat.js in the foreground), plus probes: cl_status, logs,
 * addresses, mounts, ping and HTTP from the client namespace.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ExecResult, type Lab, type NodeId, type NodeProcess, REPO_ROOT } from './lab.js';
import { isRunning, signalAll } from './proc.js';

export { authKeys, haCf, writeHaConfig, type AuthMethod, type HaCfOptions, type HaConfigFiles, type Media } from './haconfig.js';

export const REAL_INIT = '/etc/init.d/heartbeat';
export const REAL_DAEMON = '/usr/libexec/heartbeat/heartbeat';
export const CL_STATUS = '/usr/bin/cl_status';
export const OURS = join(REPO_ROOT, 'dist/daemon/heartbeat.js');
export const HA_LOG = '/var/log/ha-log';
/** stdout/stderr of heartbeat-ts, in the node's private /var/log */
export const OURS_OUT = '/var/log/heartbeat-ts.out';

// ---------------------------------------------------------------- waiting

export interface WaitOptions<T> {
  timeoutMs: number;
  intervalMs?: number;
  /** what is awaited, for the timeout message */
  what: string;
  /** accept the probed value (default: truthy) */
  until?: (v: T) => boolean;
}

function describe(v: unknown): string {
  if (v instanceof Error) return `error: ${v.message}`;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 1500 ? `${s.slice(0, 1500)}…` : s;
}

/**
 * Polls probe until its value is accepted; returns that value. On timeout,
 * throws with `what` and the last value observed (or the probe's last error).
 */
export async function waitFor<T>(probe: () => T | Promise<T>, o: WaitOptions<T>): Promise<T> {
  const accept = o.until ?? ((v: T) => Boolean(v));
  const deadline = Date.now() + o.timeoutMs;
  let last: unknown = '(never probed)';
  for (;;) {
    try {
      const v = await probe();
      last = v;
      if (accept(v)) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${o.what}; last observed: ${describe(last)}`);
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 250));
  }
}

// ---------------------------------------------------------------- logs

/** Contents of a log file of node i ('' when it does not exist yet). */
export function readLog(lab: Lab, i: NodeId, file = HA_LOG): string {
  return lab.readFile(i, file) ?? '';
}

/** Current size of a node's log: pass it as `after` to wait only for new lines. */
export function logSize(lab: Lab, i: NodeId, file = HA_LOG): number {
  try {
    return statSync(lab.path(i, file)).size;
  } catch {
    return 0;
  }
}

/** Waits for a line matching re in node i's log (only text past byte `after`); returns the line. */
export async function waitForLog(
  lab: Lab,
  i: NodeId,
  re: RegExp,
  o: { timeoutMs: number; after?: number; file?: string },
): Promise<string> {
  const file = o.file ?? HA_LOG;
  const after = o.after ?? 0;
  const tail = (): string => {
    try {
      return readFileSync(lab.path(i, file)).subarray(after).toString('utf8');
    } catch {
      return '';
    }
  };
  let seen = '';
  try {
    const found = await waitFor(
      () => {
        seen = tail();
        return seen.split('\n').find((l) => re.test(l)) ?? '';
      },
      { timeoutMs: o.timeoutMs, intervalMs: 200, what: `${re} in node ${i}'s ${file}` },
    );
    return found;
  } catch {
    const last = seen.split('\n').slice(-15).join('\n');
    throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${re} in node ${i}'s ${file}; its last lines:\n${last}`);
  }
}

// ---------------------------------------------------------------- real heartbeat 3.0.6

/** Host PIDs of node i's real heartbeat processes (master, FIFO reader, media children). */
export async function realPids(lab: Lab, i: number): Promise<number[]> {
  return lab.pids(i, 'heartbeat');
}

/**
 * Starts Debian's heartbeat in node i with its init script (verifies idle
 * resources, creates /var/run/heartbeat for the API socket, daemonises).
 */
export async function startReal(lab: Lab, i: number): Promise<ExecResult> {
  const r = await lab.exec(i, [REAL_INIT, 'start'], { timeoutMs: 60_000 });
  // the script exits 0 also when unconfigured: success is its "Done."
  if (r.code !== 0 || !/Done\./.test(r.stdout) || /Failed\./.test(r.stdout)) {
    throw new Error(
      `real heartbeat did not start in node ${i} (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}\n` +
        `ha-log tail:\n${readLog(lab, i).split('\n').slice(-15).join('\n')}`,
    );
  }
  return r;
}

/** Graceful stop (`heartbeat -k` via the init script: gives resources up), then waits until no process is left. */
export async function stopReal(lab: Lab, i: number, timeoutMs = 60_000): Promise<ExecResult> {
  const r = await lab.exec(i, [REAL_INIT, 'stop'], { timeoutMs });
  await waitFor(() => realPids(lab, i), {
    timeoutMs: 15_000,
    what: `node ${i}'s heartbeat processes to end`,
    until: (p) => p.length === 0,
  });
  return r;
}

/** Signals every real heartbeat process of node i by host PID (a crash: no resources given up). */
export async function killReal(lab: Lab, i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<number[]> {
  const pids = await realPids(lab, i);
  signalAll(pids, signal);
  return pids;
}

// ---------------------------------------------------------------- heartbeat-ts

/**
 * Runs heartbeat-ts (`node dist/daemon/heartbeat.js -f`) in node i. Its
 * stdout/stderr go to the node's /var/log/heartbeat-ts.out; it logs to the
 * ha.cf logfile itself. `env` adds variables (e.g. HA_REJECT_REPORT_SECONDS).
 */
export async function startOurs(
  lab: Lab,
  i: number,
  o: { args?: readonly string[]; env?: Record<string, string> } = {},
): Promise<NodeProcess> {
  if (!existsSync(OURS)) throw new Error(`${OURS} missing: run \`npm run build\` first`);
  return lab.spawn(i, [process.execPath, OURS, '-f', ...(o.args ?? [])], {
    logFile: lab.path(i, OURS_OUT),
    ...(o.env !== undefined ? { env: o.env } : {}),
  });
}

/** Host PIDs of node processes running this Node.js binary (heartbeat-ts, whatever its process title). */
export async function oursPids(lab: Lab, i: number): Promise<number[]> {
  const node = realpathSync(process.execPath);
  const out: number[] = [];
  for (const p of await lab.pids(i)) {
    try {
      if (realpathSync(`/proc/${p}/exe`) === node) out.push(p);
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/** Signals heartbeat-ts in node i; with waitMs, waits until it is gone. Returns the PIDs signalled. */
export async function killOurs(lab: Lab, i: number, signal: NodeJS.Signals = 'SIGTERM', waitMs = 0): Promise<number[]> {
  const pids = await oursPids(lab, i);
  signalAll(pids, signal);
  if (waitMs > 0) {
    await waitFor(() => pids.filter(isRunning), {
      timeoutMs: waitMs,
      what: `heartbeat-ts in node ${i} to exit after ${signal}`,
      until: (left) => left.length === 0,
    });
  }
  return pids;
}

// ---------------------------------------------------------------- probes

/** Runs Debian's real cl_status in node i (it talks to whichever daemon owns /var/run/heartbeat/register). */
export async function clStatus(lab: Lab, i: number, args: readonly string[]): Promise<ExecResult> {
  return lab.exec(i, [CL_STATUS, ...args], { timeoutMs: 20_000 });
}

/** IPv4/IPv6 addresses (`a.b.c.d/len`) on a node's interface (default eth0). */
export async function ipAddrs(lab: Lab, i: NodeId, dev = 'eth0'): Promise<string[]> {
  const r = await lab.exec(i, ['ip', '-j', 'addr', 'show', 'dev', dev]);
  if (r.code !== 0) throw new Error(`ip addr in node ${i} failed: ${r.stderr.trim()}`);
  const links = JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
}

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

/** The mount table as node i sees it (its own mount namespace). */
export async function mounts(lab: Lab, i: NodeId): Promise<MountEntry[]> {
  const r = await lab.exec(i, ['cat', '/proc/self/mounts']);
  if (r.code !== 0) throw new Error(`reading mounts in node ${i} failed: ${r.stderr.trim()}`);
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [source = '', target = '', fstype = '', options = ''] = l.split(' ');
      return { source: unescape(source), target: unescape(target), fstype, options };
    });
}

/** One ICMP echo from node `from` to addr; true when answered. */
export async function ping(lab: Lab, from: NodeId, addr: string, timeoutSec = 2): Promise<boolean> {
  // -W bounds the wait for the reply in both inetutils ping (Debian's heartbeat
  // pulls it in) and iputils ping; inetutils ignores -w once -c is reached
  const t = String(timeoutSec);
  const r = await lab.exec(from, ['ping', '-n', '-c', '1', '-W', t, '-w', t, addr], {
    timeoutMs: (timeoutSec + 5) * 1000,
  });
  return r.code === 0;
}

export interface HttpResult {
  /** curl's exit status (0 = got a response) */
  code: number;
  /** HTTP status, 0 without a response */
  status: number;
  body: string;
  stderr: string;
}

/** HTTP GET with curl from a namespace of the lab (normally the client 'c'). */
export async function httpGet(lab: Lab, from: NodeId, url: string, timeoutMs = 5000): Promise<HttpResult> {
  const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
  const marker = '\n@@hb-http-status@@';
  const r = await lab.exec(from, ['curl', '-sS', '--max-time', String(secs), '-w', `${marker}%{http_code}`, url], {
    timeoutMs: timeoutMs + 5000,
  });
  const at = r.stdout.lastIndexOf(marker);
  const body = at >= 0 ? r.stdout.slice(0, at) : r.stdout;
  const status = at >= 0 ? Number(r.stdout.slice(at + marker.length)) || 0 : 0;
  return { code: r.code, status, body, stderr: r.stderr };
}

/** What a command-line run of heartbeat-ts gave. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * heartbeat-ts's command line (`-t`, `-f`, …) on the host with every path
 * under `dir` (ha.d, lib, run, init.d): configuration checks need no lab.
 */
export function runOursIn(dir: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OURS, ...args], {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HA_DIR: join(dir, 'ha.d'),
        HA_VARLIB: join(dir, 'lib'),
        HA_VARRUN: join(dir, 'run'),
        HA_PIDFILE: join(dir, 'run.pid'),
        HA_INITDIR: join(dir, 'init.d'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
