#!/usr/bin/env node
/**
 * `hb_rsctest [-v] [--json] [--force] [--start-timeout S] [--stop-timeout S]
 * [--status-timeout S] SCRIPT[::arg::arg…]`: puts a heartbeat resource
 * script through what a cluster does with it (status, start, start again,
 * status, stop, stop again, status) with heartbeat-ts's own script runner
 * and environment, and says whether it is safe to put in haresources.
 *
 * It really starts and stops the resource. Exit status: 0 safe (warnings
 * allowed), 1 not safe, 2 usage error, refused (the resource is running,
 * or heartbeat manages it here, and --force was not given) or interrupted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResourceSpec } from '../lib/config/haresources.js';
import { resolvePaths } from './paths.js';
import { timeoutsFromEnv } from './resources.js';
import { invokedAs, processIO, type ToolIO } from './tools/common.js';
import { formatCheck, formatStepOutput, jsonReport, summaryLine } from './tools/rsctest-report.js';
import { runSequence, type SequenceReport } from './tools/rsctest-sequence.js';
import { environment, ensureRunDirs, locate } from './tools/rsctest-setup.js';
import type { StepContext } from './tools/rsctest-step.js';

export const EXIT_SAFE = 0;
export const EXIT_UNSAFE = 1;
export const EXIT_USAGE = 2;
/** How long helpers a run leaves behind may take to end before they count as left for good. */
const DEFAULT_LINGER_MS = 10_000;

interface Cli {
  verbose: boolean;
  json: boolean;
  force: boolean;
  timeouts: Partial<Record<'start' | 'stop' | 'status', number>>;
  lingerMs: number;
  resource: string;
}

export function usage(argv0: string): string {
  return `usage: ${argv0} [-v] [--json] [--force] [--start-timeout S] [--stop-timeout S] [--status-timeout S] [--linger S] SCRIPT[::arg::arg...]
Runs the resource script SCRIPT (as written in haresources; a path with "/" for a script not yet
installed) through status, start, start again, status, stop, stop again, status and an unknown
operation, as heartbeat-ts runs it, and says whether it is safe to put in haresources.
THIS STARTS AND STOPS THE RESOURCE ON THIS MACHINE (addresses, mounts, services).
It refuses a resource whose status says running, or that heartbeat manages here, unless --force:
then it stops it first and starts it again at the end.
  -v, --verbose       show the script's output after each step
  --json              one JSON document on stdout (fields in the README)
  --force             test a running or heartbeat-managed resource (it is stopped for the test)
  --start-timeout S   deadline of each start in seconds (default: HA_START_TIMEOUT or 120)
  --stop-timeout S    deadline of each stop (default: HA_STOP_TIMEOUT or 120)
  --status-timeout S  deadline of each status (default: HA_STATUS_TIMEOUT or 30)
  --linger S          how long a helper the script leaves in its process group, or holding its
                      output, may run on before it counts as left behind (default 10)
Ctrl-C stops the resource, then ends the run.
Exit status: 0 safe, 1 not safe, 2 usage error, refused or interrupted.
`;
}

export function parseCli(args: readonly string[]): Cli | string {
  const cli: Cli = { verbose: false, json: false, force: false, timeouts: {}, lingerMs: DEFAULT_LINGER_MS, resource: '' };
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const m = /^--(?:(start|stop|status)-timeout|(linger))$/.exec(name);
    const timeout = (m?.[1] ?? m?.[2]) as 'start' | 'stop' | 'status' | 'linger' | undefined;
    if (a === '-v' || a === '--verbose') cli.verbose = true;
    else if (a === '--json') cli.json = true;
    else if (a === '--force') cli.force = true;
    else if (timeout !== undefined) {
      const v = inline ?? args[++i];
      const secs = Number(v);
      if (v === undefined || !/^\d+(\.\d+)?$/.test(v) || secs <= 0 || secs > 86400) return `${name} needs a number of seconds (0 < S <= 86400), not [${v ?? ''}]`;
      if (timeout === 'linger') cli.lingerMs = secs * 1000;
      else cli.timeouts[timeout] = secs * 1000;
    } else if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') return `unknown option ${a}`;
    else operands.push(a);
  }
  if (operands.length !== 1) return operands.length === 0 ? 'no resource given' : `one resource at a time, not ${operands.length}`;
  cli.resource = operands[0] ?? '';
  if (cli.resource === '') return 'empty resource';
  return cli;
}

/**
 * Ctrl-C (or SIGTERM) during a run: the current step's script is ended and
 * the resource stopped before the tester ends; a second signal ends it at once.
 */
function interruptOnSignal(io: ToolIO, argv0: string): { interrupted: () => boolean; dispose: () => void } {
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    io.err(`${argv0}: interrupted: stopping the resource, then ending (again to end at once)\n`);
    dispose();
  };
  const dispose = (): void => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { interrupted: () => interrupted, dispose };
}

export async function hbRsctest(args: readonly string[], o: { io?: ToolIO; env?: NodeJS.ProcessEnv; argv0?: string } = {}): Promise<number> {
  const io = o.io ?? processIO;
  const env = o.env ?? process.env;
  const argv0 = o.argv0 ?? invokedAs('hb_rsctest', env);
  if (args.includes('-h') || args.includes('--help')) {
    io.out(usage(argv0));
    return EXIT_SAFE;
  }
  const cli = parseCli(args);
  if (typeof cli === 'string') {
    io.err(`${argv0}: ${cli}\n${usage(argv0)}`);
    return EXIT_USAGE;
  }
  const resource = parseResourceSpec(cli.resource);
  const paths = resolvePaths(env);
  const timeoutMs = { ...timeoutsFromEnv(), ...cli.timeouts };
  const located = locate(resource, paths);
  const base = { resource: resource.spec, script: resource.script, path: located.path, timeoutMs };
  const emit = (report: SequenceReport): number => {
    if (cli.json) io.out(`${JSON.stringify(jsonReport({ ...base, ...report }), null, 2)}\n`);
    else io.out(summaryLine({ ...base, ...report }));
    return report.refused !== undefined || report.interrupted === true ? EXIT_USAGE : report.safe ? EXIT_SAFE : EXIT_UNSAFE;
  };
  if (!cli.json) for (const c of located.checks) io.out(formatCheck(c));
  const failedStatic = located.checks.some((c) => c.verdict === 'fail');
  if (located.path === undefined || failedStatic) {
    return emit({ checks: located.checks, steps: [], killed: [], safe: false });
  }
  const setup = environment(resource, paths);
  if (setup.managedBy !== undefined && !cli.force) {
    return emit({ checks: located.checks, steps: [], killed: [], safe: false,
      refused: `${setup.managedBy}: testing it here would start it behind heartbeat's back. Test it on a node where heartbeat is stopped, or use --force.` });
  }
  ensureRunDirs(paths);
  const dir = mkdtempSync(join(tmpdir(), 'hb_rsctest-'));
  const signals = interruptOnSignal(io, argv0);
  const ctx: StepContext = {
    dir, marker: randomBytes(8).toString('hex'), resourceDirs: paths.resourceDirs, env: setup.env, timeoutMs,
    lingerMs: cli.lingerMs, openReaders: [], interrupted: signals.interrupted,
  };
  try {
    const report = await runSequence({
      ctx, path: located.path, resource, force: cli.force,
      onStep: (s) => { if (cli.verbose && !cli.json) io.out(formatStepOutput(s)); },
      onCheck: (c) => { if (!cli.json) io.out(formatCheck(c)); },
    });
    report.checks.unshift(...located.checks);
    report.safe = report.safe && !failedStatic;
    return emit(report);
  } finally {
    signals.dispose();
    for (const s of ctx.openReaders) s.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && /hb_rsctest(\.js)?$/.test(process.argv[1])) {
  void hbRsctest(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
