/**
 * hb_rsctest's output: one line per check for people, one JSON document
 * (`--json`, schema version 1, fields documented in the README) for
 * scripts and CI.
 */
import type { Check } from './rsctest-judge.js';
import type { SequenceReport, StepSummary } from './rsctest-sequence.js';

export interface FullReport extends SequenceReport {
  resource: string;
  script: string;
  path: string | undefined;
  timeoutMs: Record<'start' | 'stop' | 'status', number>;
}

const LABEL: Record<Check['verdict'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

/** `FAIL stop (again): expected exit 0, got exit 1. Hint: …` */
export function formatCheck(c: Check): string {
  const hint = c.hint === '' ? '' : ` Hint: ${c.hint}.`;
  return `${LABEL[c.verdict]} ${c.step} [${c.check}]: expected ${c.expected}, got ${c.got}.${hint}\n`;
}

/** The script's output of one step, indented under a header (`-v`). */
export function formatStepOutput(s: StepSummary): string {
  const status = s.timedOut ? 'killed at the deadline' : s.exitCode === null ? 'killed' : `exit ${s.exitCode}`;
  const body = s.output === '' ? '    (no output)\n' : s.output.replace(/\n$/, '').split('\n').map((l) => `    | ${l}\n`).join('');
  return `---- ${s.step}: ${s.op}, ${status}, ${(s.durationMs / 1000).toFixed(1)}s\n${body}`;
}

export function summaryLine(r: FullReport): string {
  const fails = r.checks.filter((c) => c.verdict === 'fail').length;
  const warns = r.checks.filter((c) => c.verdict === 'warn').length;
  const killed = r.killed.length > 0 ? `killed what the script left behind: ${r.killed.join(', ')}\n` : '';
  const restored = r.restored === undefined ? '' : r.restored ? 'started again as found\n' : 'WARNING: not started again (its status said running before the test; the start failed or the status is wrong): start it yourself if it was running\n';
  if (r.refused !== undefined) return `${killed}refused: ${r.refused}\n`;
  if (r.interrupted === true) return `${killed}${r.resource}: interrupted, the resource was stopped: no verdict\n`;
  const verdict = r.safe
    ? `${r.resource}: safe to put in haresources (${r.checks.length} checks, ${warns} warnings)`
    : `${r.resource}: NOT safe to put in haresources (${fails} of ${r.checks.length} checks failed, ${warns} warnings)`;
  return `${killed}${restored}${verdict}\n`;
}

/** The stable --json document. */
export function jsonReport(r: FullReport): Record<string, unknown> {
  return {
    tool: 'hb_rsctest',
    version: 1,
    resource: r.resource,
    script: r.script,
    path: r.path ?? null,
    safe: r.safe,
    refused: r.refused ?? null,
    restored: r.restored ?? null,
    killed: r.killed,
    interrupted: r.interrupted ?? false,
    timeoutsMs: r.timeoutMs,
    checks: r.checks.map((c) => ({ step: c.step, check: c.check, verdict: c.verdict, expected: c.expected, got: c.got, hint: c.hint })),
    steps: r.steps.map((s) => ({ step: s.step, op: s.op, exitCode: s.exitCode, timedOut: s.timedOut, durationMs: s.durationMs, output: s.output })),
  };
}
