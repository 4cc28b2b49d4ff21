/**
 * Runs resource scripts the way heartbeat's ResourceManager does
 * (spec 10.2): `script [args…] start|stop|status`, looked up in resource.d
 * then init.d, with the HA_* environment, stdout captured for status,
 * stderr to the debug log. Every run has a deadline: a hung script gets
 * SIGTERM, then SIGKILL, and counts as failed — nothing waits forever.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Resource } from '../config/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { findScript } from '../util/files.js';

export type Operation = 'start' | 'stop' | 'status';

export interface ScriptResult {
  /** Exit code, or null when killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Failure to spawn at all (ENOENT, EACCES…). */
  spawnError: string | undefined;
  durationMs: number;
}

/** What group management needs from resource scripts (the simulator records calls instead). */
export interface ResourceScripts {
  /** The script's path, or undefined when no resource directory has it. */
  locate(script: string): string | undefined;
  /** The command line as heartbeat logs it. */
  describe(path: string, r: Resource, op: Operation): string;
  /** `timeoutMs` overrides the operation's deadline (a monitor's `timeout=`). */
  run(path: string, r: Resource, op: Operation, extraEnv?: Record<string, string>, timeoutMs?: number): Promise<ScriptResult>;
}

export interface ScriptRunnerOptions {
  resourceDirs: string[];
  /** Deadlines and durations run on this clock. */
  clock: Clock;
  env: Record<string, string>;
  /** Per-operation deadline; heartbeat had none, a hung script blocked it forever. */
  timeoutMs: Record<Operation, number>;
  /** Time between SIGTERM and SIGKILL for a script past its deadline. */
  killGraceMs: number;
  /**
   * Where start/stop output goes (heartbeat appends it to the debug log).
   * Not a pipe: a daemon a start script leaves running must not hold a
   * pipe to us or die of SIGPIPE later.
   */
  outputFile?: string | undefined;
}

export const DEFAULT_TIMEOUTS: Record<Operation, number> = { start: 120_000, stop: 120_000, status: 30_000 };

/** The first regular, executable file named `script` in the resource directories. */
export const locateScript = findScript;

/**
 * heartbeat's "is it running" rule: the exit code is ignored; stdout that
 * matches `*[Nn][Oo][Tt] *[Rr]unning*` means stopped, else one containing
 * `[Rr]unning` or `OK` means running, else stopped.
 */
export function statusSaysRunning(stdout: string): boolean {
  if (/[Nn][Oo][Tt] .*[Rr]unning/s.test(stdout)) return false;
  return /[Rr]unning/.test(stdout) || stdout.includes('OK');
}

export class ScriptRunner implements ResourceScripts {
  constructor(private readonly opts: ScriptRunnerOptions) {}

  locate(script: string): string | undefined {
    return locateScript(this.opts.resourceDirs, script);
  }

  /** The command line as heartbeat logs it (double space when there are no args). */
  describe(path: string, r: Resource, op: Operation): string {
    return `${path} ${r.args.join(' ')} ${op}`;
  }

  run(path: string, r: Resource, op: Operation, extraEnv: Record<string, string> = {}, deadlineMs?: number): Promise<ScriptResult> {
    const clock = this.opts.clock;
    const started = clock.nowMs();
    const timeoutMs = deadlineMs ?? this.opts.timeoutMs[op];
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      let settled = false;
      let outFd: number | 'ignore' = 'ignore';
      if (op !== 'status' && this.opts.outputFile) {
        try { outFd = openSync(this.opts.outputFile, 'a', 0o644); } catch { outFd = 'ignore'; }
      }
      const child = spawn(path, [...r.args, op], {
        env: { ...process.env, ...this.opts.env, ...extraEnv },
        stdio: op === 'status' ? ['ignore', 'pipe', 'pipe'] : ['ignore', outFd, outFd],
        // Own process group, so a timeout kills what the script started too.
        detached: true,
      });
      if (typeof outFd === 'number') closeSync(outFd);
      const cap = (s: string, add: string): string => (s.length > 65536 ? s : s + add);
      child.stdout?.on('data', (d: Buffer) => { stdout = cap(stdout, d.toString('latin1')); });
      child.stderr?.on('data', (d: Buffer) => { stderr = cap(stderr, d.toString('latin1')); });
      const killGroup = (signal: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try { process.kill(-child.pid, signal); } catch { /* already gone */ }
      };
      let killTimer: TimerHandle | undefined;
      let exitGrace: TimerHandle | undefined;
      const timer = clock.setTimer(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = clock.setTimer(() => killGroup('SIGKILL'), this.opts.killGraceMs);
      }, timeoutMs);
      const finish = (code: number | null, spawnError?: string): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        killTimer?.cancel();
        exitGrace?.cancel();
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve({ code, stdout, stderr, timedOut, spawnError, durationMs: Math.round(clock.nowMs() - started) });
      };
      child.on('error', (err) => finish(null, err.message));
      // Settle when stdio has ended ('close', right after the exit as a rule).
      // A daemon the script started may keep a pipe open: then 'exit' settles
      // once the loop has gone round twice, time for one poll phase to read
      // what the script wrote before it exited (already in the pipe), not
      // for whatever its daemon writes later. No fixed wait.
      child.on('close', (code) => finish(code));
      child.on('exit', (code) => {
        exitGrace = clock.setTimer(() => { exitGrace = clock.setTimer(() => finish(code), 0); }, 0);
      });
    });
  }
}
