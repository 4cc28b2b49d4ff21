/**
 * `cl_status --json` (a heartbeat-ts addition): every sub-command prints
 * exactly one JSON document on stdout, one line, with the exit code of the
 * text output. A sub-command that printed no document failed: its messages
 * (still written to stderr as 3.0.6 words them) become an error document
 * `{"error":{"exitCode":N,"messages":[...]}}`. Field names are documented
 * in the README and covered by test/unit/daemon/cl-status-json.test.ts.
 */
import type { ToolIO } from './common.js';

/** The prefix stderrLogLine puts before a message (`Dec 04 00:00:00 host cl_status: [12]: ERROR: `). */
const LOG_PREFIX = /^.*? cl_status: \[\d+\]: [A-Za-z]+: /;

export interface JsonError {
  error: { exitCode: number; messages: string[] };
}

/** One JSON document, one line. */
export function jsonLine(doc: unknown): string {
  return `${JSON.stringify(doc)}\n`;
}

/**
 * Wraps a tool's IO for a `--json` run: stdout passes through (the document),
 * stderr passes through and is remembered for the error document.
 */
export class JsonCapture {
  private printed = false;
  private readonly messages: string[] = [];
  readonly io: ToolIO;

  constructor(private readonly inner: ToolIO) {
    this.io = {
      out: (text) => {
        this.printed = true;
        inner.out(text);
      },
      err: (text) => {
        for (const line of text.split('\n')) if (line !== '') this.messages.push(line.replace(LOG_PREFIX, ''));
        inner.err(text);
      },
    };
  }

  /** Prints the error document when the run printed none; returns the exit code unchanged. */
  finish(exitCode: number): number {
    if (!this.printed) {
      const doc: JsonError = { error: { exitCode, messages: this.messages.length > 0 ? this.messages : ['failed'] } };
      this.inner.out(jsonLine(doc));
    }
    return exitCode;
  }
}

/** Splits `--json` off the arguments before a `--` (getopt's end of options). */
export function takeJsonFlag(args: readonly string[]): { json: boolean; rest: string[] } {
  const end = args.indexOf('--');
  const before = end < 0 ? [...args] : args.slice(0, end);
  const json = before.includes('--json');
  return { json, rest: [...before.filter((a) => a !== '--json'), ...(end < 0 ? [] : args.slice(end))] };
}
