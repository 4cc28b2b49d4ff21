/**
 * One run of a resource script for hb_rsctest, through heartbeat-ts's own
 * ScriptRunner (same environment, deadlines, process group and output
 * handling as the daemon), watched from outside:
 *
 * - stdin is a FIFO nobody writes to (a terminal nobody types on), not the
 *   daemon's /dev/null: a script that reads it blocks, is seen blocked in
 *   read(0) and then gets EOF, so one run shows the defect without waiting
 *   for the deadline;
 * - start/stop output goes to a FIFO the tester reads (the daemon gives a
 *   file): EOF long after the script's exit means something kept it open;
 * - a two-line `sh -c` shim records the script's pid (its session and
 *   process group id, as the runner makes it a session leader) and execs
 *   the script: the script runs with its own path as $0 and its own pid.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Resource } from '../../lib/config/types.js';
import { type Operation, ScriptRunner, type ScriptResult } from '../../lib/resources/script-runner.js';
import { systemClock } from '../../lib/util/clock.js';
import { blockedReadingStdin, holdersOf, MARKER_ENV, processesOf, type ProcInfo } from './rsctest-procs.js';

export interface StepContext {
  /** Private scratch directory of this tester run (FIFOs, pid files). */
  dir: string;
  marker: string;
  resourceDirs: string[];
  env: Record<string, string>;
  timeoutMs: Record<Operation, number>;
  /**
   * How long what a run leaves behind (helpers in its process group, its
   * output held open) may take to end before it counts as left for good:
   * a short-lived helper (an ARP burst in the background) only earns a warning.
   */
  lingerMs: number;
  /** Readers of output FIFOs still held by a leftover process; closed at the very end. */
  openReaders: Socket[];
  /** True once the user asked to stop: a running step's script gets SIGTERM (its process group). */
  interrupted?: () => boolean;
}

export interface StepRecord {
  op: string;
  result: ScriptResult;
  /** stdout+stderr (status: stdout, then stderr). */
  output: string;
  scriptPid: number | undefined;
  /** Processes seen blocked reading stdin. */
  stdinReaders: ProcInfo[];
  /** start/stop: processes still holding the output `lingerMs` after the script exited. */
  pipeHolders: ProcInfo[];
  /** Processes still in the script's session (so in its process group or a subgroup) `lingerMs` after it exited. */
  leftInSession: ProcInfo[];
  /** Processes that stayed in the session or held the output for a while after the exit, then ended. */
  lingered: ProcInfo[];
  /** How long the last of them took, ms after the exit. */
  lingeredMs: number;
}

/** Moments after the exit that do not count as lingering (a child on its way out). */
const EXIT_SLACK_MS = 500;

const SHIM = 'echo $$ >"$HB_RSCTEST_PIDFILE"; exec 0<"$HB_RSCTEST_STDIN" || exit 127; '
  + 'unset HB_RSCTEST_PIDFILE HB_RSCTEST_STDIN; exec "$0" "$@"';
const POLL_MS = 300;

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', ['-m', '0600', path], { encoding: 'latin1' });
  if (r.status !== 0) throw new Error(`mkfifo ${path}: ${r.stderr || r.error?.message || 'failed'}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readPidFile(path: string): number | undefined {
  try {
    const t = readFileSync(path, 'latin1').trim();
    return /^\d+$/.test(t) ? Number(t) : undefined;
  } catch {
    return undefined;
  }
}

/** Collects what a FIFO's writers send, and when the last of them closes. */
class FifoReader {
  text = '';
  ended = false;
  readonly socket: Socket;
  constructor(fd: number) {
    this.socket = new Socket({ fd, readable: true, writable: false });
    this.socket.on('data', (d: Buffer) => { if (this.text.length < 65536) this.text += d.toString('latin1'); });
    this.socket.on('end', () => { this.ended = true; });
    this.socket.on('error', () => { this.ended = true; });
  }
  async waitEnd(ms: number): Promise<boolean> {
    for (let waited = 0; !this.ended && waited < ms; waited += 50) await sleep(50);
    return this.ended;
  }
}

export async function runStep(ctx: StepContext, n: number, scriptPath: string, r: Resource, op: string): Promise<StepRecord> {
  const stdinPath = join(ctx.dir, `stdin.${n}`);
  const pidPath = join(ctx.dir, `pid.${n}`);
  mkfifo(stdinPath);
  // O_RDWR: we count as a writer, so the script's open and read block instead of seeing EOF.
  let stdinFd: number | undefined = openSync(stdinPath, constants.O_RDWR);
  const isStatus = op === 'status';
  let reader: FifoReader | undefined;
  let outPath: string | undefined;
  let readerFd: number | undefined;
  if (!isStatus) {
    outPath = join(ctx.dir, `out.${n}`);
    mkfifo(outPath);
    readerFd = openSync(outPath, constants.O_RDONLY | constants.O_NONBLOCK);
  }
  const runner = new ScriptRunner({
    clock: systemClock,
    resourceDirs: ctx.resourceDirs,
    env: ctx.env,
    // An operation outside the daemon's three gets the stop deadline.
    timeoutMs: { ...ctx.timeoutMs, [op]: ctx.timeoutMs[op as Operation] ?? ctx.timeoutMs.stop },
    killGraceMs: 5000,
    outputFile: outPath,
  });
  const shim: Resource = { script: r.script, spec: r.spec, args: ['-c', SHIM, scriptPath, ...r.args] };
  // The runner's type knows the daemon's three operations; the tester also sends an unknown one.
  const pending = runner.run('/bin/sh', shim, op as Operation, {
    [MARKER_ENV]: ctx.marker, HB_RSCTEST_PIDFILE: pidPath, HB_RSCTEST_STDIN: stdinPath,
  });
  if (readerFd !== undefined) reader = new FifoReader(readerFd);
  let done = false;
  void pending.then(() => { done = true; });
  const stdinReaders = new Map<number, ProcInfo>();
  let suspects = new Set<number>();
  let signalled = false;
  while (!done) {
    await Promise.race([pending, sleep(POLL_MS)]);
    const sid = readPidFile(pidPath);
    if (!done && !signalled && sid !== undefined && ctx.interrupted?.() === true && op !== 'stop') {
      signalled = true;
      try { process.kill(-sid, 'SIGTERM'); } catch { /* already gone */ }
    }
    if (done || stdinFd === undefined || sid === undefined) continue;
    const blocked = processesOf({ sid, marker: ctx.marker }).filter((p) => blockedReadingStdin(p.pid, stdinPath));
    // Twice in a row: a read that a terminal would leave hanging, not a passing one.
    for (const p of blocked) if (suspects.has(p.pid)) stdinReaders.set(p.pid, p);
    suspects = new Set(blocked.map((p) => p.pid));
    if (stdinReaders.size > 0) {
      closeSync(stdinFd);
      stdinFd = undefined;
    }
  }
  const result = await pending;
  if (stdinFd !== undefined) closeSync(stdinFd);
  const scriptPid = readPidFile(pidPath);
  const { pipeHolders, leftInSession, lingered, lingeredMs } = await watchLeftovers(ctx, scriptPid, reader, outPath);
  if (reader !== undefined && !reader.ended) ctx.openReaders.push(reader.socket);
  const output = isStatus ? result.stdout + result.stderr : reader?.text ?? '';
  return { op, result, output, scriptPid, stdinReaders: [...stdinReaders.values()], pipeHolders, leftInSession, lingered, lingeredMs };
}

interface Leftovers {
  pipeHolders: ProcInfo[];
  leftInSession: ProcInfo[];
  lingered: ProcInfo[];
  lingeredMs: number;
}

/**
 * After the script's exit: waits up to `lingerMs` for its session to empty
 * and its output to close; who is still there then was left behind, who
 * went meanwhile only lingered.
 */
async function watchLeftovers(ctx: StepContext, scriptPid: number | undefined, reader: FifoReader | undefined, outPath: string | undefined): Promise<Leftovers> {
  const exitedAt = Date.now();
  const seen = new Map<number, ProcInfo>();
  let pipeHolders: ProcInfo[] = [];
  let leftInSession: ProcInfo[] = [];
  for (;;) {
    const ours = processesOf({ sid: scriptPid, marker: ctx.marker });
    pipeHolders = reader !== undefined && outPath !== undefined && !reader.ended ? holdersOf(outPath, ours) : [];
    leftInSession = scriptPid === undefined ? [] : ours.filter((p) => p.sid === scriptPid);
    const waited = Date.now() - exitedAt;
    if (waited > EXIT_SLACK_MS) for (const p of [...pipeHolders, ...leftInSession]) seen.set(p.pid, p);
    // an output still open with no holder found yet: a helper just starting (setsid forks), look again
    const outputOpen = reader !== undefined && outPath !== undefined && !reader.ended;
    if ((pipeHolders.length === 0 && leftInSession.length === 0 && !outputOpen) || waited >= ctx.lingerMs) break;
    await sleep(100);
  }
  const stillThere = new Set([...pipeHolders, ...leftInSession].map((p) => p.pid));
  const lingered = [...seen.values()].filter((p) => !stillThere.has(p.pid));
  const lingeredMs = lingered.length > 0 ? Date.now() - exitedAt : 0;
  return { pipeHolders, leftInSession, lingered, lingeredMs };
}
