/**
 * Helpers shared by the command-line tools (cl_status, hb_standby,
 * hb_takeover): the name a tool was invoked as, and error lines on stderr in
 * the layout heartbeat's tools use (cl_log with stderr enabled).
 */
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { formatLogLine, type LogLevel } from '../../lib/util/log.js';

/** Set by the bin/ wrappers to their `$0`, which the shell tools print. */
export const ARGV0_ENV = 'HEARTBEAT_TS_ARGV0';

/** `$0` of the tool as the user invoked it (path included, as the shell scripts print it). */
export function invokedAs(fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[ARGV0_ENV];
  return v !== undefined && v !== '' ? v : fallback;
}

export function toolName(path: string): string {
  return basename(path);
}

/** `Nov 23 00:21:54 vm cl_status: [19490]: ERROR: …` */
export function stderrLogLine(entity: string, level: LogLevel, msg: string, date = new Date()): string {
  return formatLogLine({ syslogmsgfmt: true, host: hostname(), entity, pid: process.pid, level, msg, date });
}

/** Output collected by a tool run, so tests can call tools in-process. */
export interface ToolIO {
  out(text: string): void;
  err(text: string): void;
}

/** How a tool that asks the daemon is run: its output, environment and socket (tests set them). */
export interface ToolRunOptions {
  io?: ToolIO;
  env?: NodeJS.ProcessEnv;
  socketPath?: string;
}

export const processIO: ToolIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** Collects output in memory (unit tests). */
export function memoryIO(): ToolIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}
