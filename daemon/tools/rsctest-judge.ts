/**
 * hb_rsctest's verdicts on one run of a resource script, by the rules the
 * daemon applies (spec 10.2): status output through the "running" rule
 * (the exit code is ignored), start and stop exit codes, deadlines, what
 * the script leaves behind. Each check says what was expected, what
 * happened, and what to change.
 */
import { statusSaysRunning } from '../../lib/resources/script-runner.js';
import { describeProcs } from './rsctest-procs.js';
import type { StepRecord } from './rsctest-step.js';

export type Verdict = 'pass' | 'warn' | 'fail';

export interface Check {
  /** The step, e.g. `start (again)`. */
  step: string;
  /** Short name of the rule, stable for scripts: exit-code, running-rule, deadline, stdin, output-pipe, process-group, leftover, unknown-op, static. */
  check: string;
  verdict: Verdict;
  expected: string;
  got: string;
  /** What to change; empty when the check passed. */
  hint: string;
}

export type Expectation = 'stopped' | 'running';

/** A status output line as shown in reports: first non-empty line, printable, bounded. */
export function quoteOutput(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean === '' ? 'nothing' : `"${clean.length > 60 ? `${clean.slice(0, 57)}...` : clean}"`;
}

const exitText = (s: StepRecord): string =>
  (s.result.timedOut ? 'killed at the deadline' : s.result.code === null ? 'killed by a signal' : `exit ${s.result.code}`);

/** Checks every run gets: it ran, finished in time, did not read stdin, closed its output, left nothing in its session. */
export function judgeRun(step: string, s: StepRecord, timeoutMs: number): Check[] {
  const out: Check[] = [];
  const add = (check: string, verdict: Verdict, expected: string, got: string, hint = ''): void => {
    out.push({ step, check, verdict, expected, got, hint: verdict === 'pass' ? '' : hint });
  };
  const secs = `${Math.round(timeoutMs / 100) / 10}s`;
  if (s.result.spawnError !== undefined) {
    add('exit-code', 'fail', 'the script runs', `cannot run: ${s.result.spawnError}`, 'check the file (hb_rsctest lists its static problems first)');
    return out;
  }
  if (s.result.timedOut) {
    add('deadline', 'fail', `finishes within ${secs}`, `still running after ${secs}, killed with its process group`,
      s.op === 'start'
        ? 'heartbeat counts the start as failed and gives the group up: return once the service is up, or raise the deadline (HA_START_TIMEOUT / --start-timeout)'
        : 'a stop that hangs makes heartbeat retry and then reboot the node; a status that hangs stalls takeovers');
  } else if (s.result.durationMs > timeoutMs / 2) {
    add('deadline', 'warn', `finishes well within ${secs}`, `took ${(s.result.durationMs / 1000).toFixed(1)}s`,
      'on a loaded node it may pass the deadline: make it faster or raise the deadline');
  }
  if (s.stdinReaders.length > 0) {
    add('stdin', 'fail', 'does not read stdin or a terminal', `${describeProcs(s.stdinReaders)} blocked reading stdin`,
      'heartbeat-ts gives scripts /dev/null, but where stdin is a terminal (3.0.6 in the foreground, an admin\'s shell) the run hangs until the deadline: remove the prompt or add </dev/null to the command that reads');
  }
  if (s.pipeHolders.length > 0) {
    add('output-pipe', 'fail', 'its output is closed when the script exits', `held open by ${describeProcs(s.pipeHolders)}`,
      'the program it started inherited stdout/stderr: redirect it (>/dev/null 2>&1 or a log file), or a caller that reads the output (3.0.6\'s ResourceManager, a shell\'s $(...)) waits for that program to end');
  }
  if (s.leftInSession.length > 0) {
    const started = s.op === 'start';
    add(started ? 'process-group' : 'leftover', 'fail',
      started ? 'what it starts leaves the script\'s process group (daemonizes)' : 'nothing left running when it exits',
      `${describeProcs(s.leftInSession)} still in the script's process group`,
      started
        ? 'the service did not detach: it gets the signals meant for the script and dies with its group when a run is killed at the deadline; start it with setsid, start-stop-daemon --background or its own daemon mode'
        : `a ${s.op} must not leave processes behind: wait for what it runs, or detach what must outlive it`);
  }
  if (s.lingered.length > 0) {
    add('process-group', 'warn', 'nothing of the script still runs in its process group or holds its output when it exits',
      `${describeProcs(s.lingered)} did, for ${(s.lingeredMs / 1000).toFixed(1)}s`,
      'a background helper of the script (an ARP burst, a beep) outlived it: harmless to heartbeat-ts, but a caller reading the output waits for it and a run killed at the deadline kills it; detach it (setsid, >/dev/null 2>&1) or wait for it');
  }
  return out;
}

/** The check of the step's purpose: the running rule for status, exit 0 for start and stop. */
export function judgeOutcome(step: string, s: StepRecord, expect?: Expectation): Check[] {
  if (s.result.spawnError !== undefined) return [];
  if (s.op === 'status' && expect !== undefined) {
    const running = statusSaysRunning(s.result.stdout);
    const ok = running === (expect === 'running');
    const got = `says ${running ? 'running' : 'stopped'}: ${quoteOutput(s.result.stdout)} (${exitText(s)})`;
    const hint = expect === 'running'
      ? 'heartbeat reads "running" from stdout containing "running" or "OK" and no "not running": print e.g. "running"; otherwise heartbeat thinks the resource is stopped'
      : 'heartbeat takes any stdout containing "running" or "OK" (without "not running") as running: while stopped print e.g. "stopped" and never "OK"; otherwise a node thinks it holds what it does not';
    return [{ step, check: 'running-rule', verdict: ok ? 'pass' : 'fail', expected: `says ${expect}`, got, hint: ok ? '' : hint }];
  }
  if (s.op !== 'start' && s.op !== 'stop') return [];
  const ok = s.result.code === 0 && !s.result.timedOut;
  const again = step.includes('again');
  const hint = s.op === 'stop'
    ? `heartbeat retries a failing stop and then reboots the node to release the resource${again ? ': a stop of a stopped resource must succeed' : ''}`
    : `heartbeat gives up the whole group when a start fails${again ? ': a start of a running resource must succeed (heartbeat may start what it already holds)' : ''}`;
  return [{ step, check: 'exit-code', verdict: ok ? 'pass' : 'fail', expected: 'exit 0', got: exitText(s), hint: ok ? '' : hint }];
}

/** Overall: safe for haresources when no check failed. */
export function isSafe(checks: readonly Check[]): boolean {
  return checks.every((c) => c.verdict !== 'fail');
}
