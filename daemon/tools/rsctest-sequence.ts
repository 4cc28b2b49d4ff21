/**
 * The sequence a cluster puts a resource script through, as hb_rsctest
 * runs it: status while stopped, start, start again, status, stop, stop
 * again, status, then an operation heartbeat never sends (a script that
 * ignores its argument starts or stops on it). A resource found running
 * is refused unless forced; forced, it is stopped first and started again
 * at the end, so the tester leaves the machine as it found it. Processes
 * the script's runs leave behind are killed at the end (when not restored).
 */
import type { Resource } from '../../lib/config/types.js';
import { statusSaysRunning } from '../../lib/resources/script-runner.js';
import { type Check, type Expectation, isSafe, judgeOutcome, judgeRun } from './rsctest-judge.js';
import { describeProcs, killProcs, processesOf, type ProcInfo } from './rsctest-procs.js';
import { runStep, type StepContext, type StepRecord } from './rsctest-step.js';

export const UNKNOWN_OP = 'rsctest-unknown-op';

export interface StepSummary {
  step: string;
  op: string;
  /** null when killed. */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  output: string;
}

export interface SequenceReport {
  checks: Check[];
  steps: StepSummary[];
  /** Set when the resource was running and --force was not given: nothing else ran. */
  refused?: string;
  /** --force on a running resource: whether it runs again at the end. */
  restored?: boolean;
  /** Processes the script left behind that the tester killed at the end. */
  killed: string[];
  safe: boolean;
  /** The run was interrupted: the resource was stopped, the remaining steps skipped. */
  interrupted?: boolean;
}

export interface SequenceOptions {
  ctx: StepContext;
  path: string;
  resource: Resource;
  force: boolean;
  /** Called after each step (verbose output as it happens). */
  onStep?: (s: StepSummary) => void;
  /** Called for each check as it is made. */
  onCheck?: (c: Check) => void;
}

class Interrupted extends Error {}

class Sequence {
  private n = 0;
  readonly report: SequenceReport = { checks: [], steps: [], killed: [], safe: false };
  private readonly sessions = new Set<number>();

  constructor(private readonly o: SequenceOptions) {}

  async step(step: string, op: string, expect?: Expectation, always = false): Promise<StepRecord> {
    if (!always && this.o.ctx.interrupted?.() === true) throw new Interrupted();
    const s = await runStep(this.o.ctx, ++this.n, this.o.path, this.o.resource, op);
    if (s.scriptPid !== undefined) this.sessions.add(s.scriptPid);
    const timeout = this.o.ctx.timeoutMs[op as 'start'] ?? this.o.ctx.timeoutMs.stop;
    const checks = [...judgeOutcome(step, s, expect), ...judgeRun(step, s, timeout)];
    const summary: StepSummary = {
      step, op, exitCode: s.result.code, timedOut: s.result.timedOut, durationMs: s.result.durationMs, output: s.output,
    };
    this.report.steps.push(summary);
    this.o.onStep?.(summary);
    for (const c of checks) this.add(c);
    return s;
  }

  add(c: Check): void {
    this.report.checks.push(c);
    this.o.onCheck?.(c);
  }

  /** Everything this run's scripts started that is still alive. */
  leftovers(): ProcInfo[] {
    const seen = new Map<number, ProcInfo>();
    for (const p of processesOf({ marker: this.o.ctx.marker })) seen.set(p.pid, p);
    for (const sid of this.sessions) for (const p of processesOf({ sid })) seen.set(p.pid, p);
    return [...seen.values()];
  }
}

const says = (s: StepRecord): boolean => statusSaysRunning(s.result.stdout);

export async function runSequence(o: SequenceOptions): Promise<SequenceReport> {
  const q = new Sequence(o);
  try {
    return await sequence(q, o);
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    q.report.interrupted = true;
    await q.step('stop (interrupted)', 'stop', undefined, true);
    q.report.killed = killProcs(q.leftovers()).map((p) => `${p.pid} (${p.comm})`);
    q.report.safe = false;
    return q.report;
  }
}

async function sequence(q: Sequence, o: SequenceOptions): Promise<SequenceReport> {
  const first = await q.step('status (before)', 'status');
  const wasRunning = says(first);
  if (wasRunning && !o.force) {
    q.report.refused = `status says the resource is running (${first.result.stdout.trim().split('\n')[0] ?? ''}): `
      + 'hb_rsctest would stop it. Stop it first, or use --force to stop it, test it and start it again. '
      + '(A status that says running while the resource is stopped is itself a defect.)';
    return q.report;
  }
  if (wasRunning) {
    await q.step('stop (was running, --force)', 'stop');
    await q.step('status (stopped)', 'status', 'stopped');
  } else {
    for (const c of judgeOutcome('status (before)', first, 'stopped')) q.add(c);
  }
  await q.step('start', 'start');
  await q.step('start (again)', 'start');
  await q.step('status (started)', 'status', 'running');
  await q.step('stop', 'stop');
  await q.step('stop (again)', 'stop');
  const final = await q.step('status (stopped again)', 'status', 'stopped');
  const stayed = processesOf({ marker: o.ctx.marker });
  q.add({
    step: 'stop', check: 'leftover', verdict: stayed.length === 0 ? 'pass' : 'fail',
    expected: 'nothing that start started still runs', got: stayed.length === 0 ? 'nothing' : `${describeProcs(stayed)} still running`,
    hint: stayed.length === 0 ? '' : 'stop must stop everything start started: a peer then starts the service while it still runs here',
  });
  await checkUnknownOperation(q, !says(final));
  // Its status said running at first: start it again, unless that status proved wrong.
  const statusTrusted = q.report.checks.every((c) => c.check !== 'running-rule' || c.verdict === 'pass');
  if (wasRunning && statusTrusted) {
    const back = await q.step('start (restore)', 'start');
    q.report.restored = back.result.code === 0 && !back.result.timedOut;
  } else {
    if (wasRunning) q.report.restored = false;
    q.report.killed = killProcs(q.leftovers()).map((p) => `${p.pid} (${p.comm})`);
  }
  q.report.safe = isSafe(q.report.checks);
  return q.report;
}

/** An operation heartbeat never sends must do nothing: a script that ignores its argument starts on it. */
async function checkUnknownOperation(q: Sequence, stoppedBefore: boolean): Promise<void> {
  const u = await q.step(UNKNOWN_OP, UNKNOWN_OP);
  const refused = u.result.code !== 0 || u.result.timedOut;
  q.add({
    step: UNKNOWN_OP, check: 'unknown-op', verdict: refused ? 'pass' : 'warn', expected: 'a usage message and a non-zero exit',
    got: refused ? `exit ${u.result.code ?? 'by signal'}` : 'exit 0',
    hint: 'heartbeat only sends start, stop and status, but a script that does not look at its argument does the same thing on every call',
  });
  const after = await q.step('status (after unknown op)', 'status');
  const started = says(after);
  // A status that already said running cannot tell whether the operation started anything.
  if (!stoppedBefore) return;
  q.add({
    step: UNKNOWN_OP, check: 'unknown-op', verdict: started ? 'fail' : 'pass', expected: 'the resource stays stopped',
    got: started ? 'status says running: the unknown operation started it' : 'still stopped',
    hint: 'the script ignores its argument: dispatch on it (case "$1" in start) ...;; stop) ...;; status) ...;; *) usage; exit 1;; esac)',
  });
  if (started) {
    await q.step('stop (cleanup)', 'stop', undefined, true);
  }
}
