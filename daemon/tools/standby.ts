/**
 * What hb_standby and hb_takeover share (spec 11.4, 6.6): argument checking
 * with the shell scripts' messages and exit codes, and writing one classic
 * message into the daemon's FIFO.
 *
 * Unlike the shell scripts (whose `cat >> fifo` blocks forever when no daemon
 * reads, or creates a plain file when the FIFO is missing), the FIFO is
 * opened O_WRONLY|O_NONBLOCK: no reader (ENXIO) or no FIFO (ENOENT) means
 * heartbeat is not running, reported on stderr with exit status 1.
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { fifoPath, resolvePaths } from '../paths.js';
import { invokedAs, processIO, type ToolIO } from './common.js';
import { haLog } from './halog.js';

export type ResourceSet = 'all' | 'foreign' | 'local' | 'failback';
const SETS: readonly string[] = ['all', 'foreign', 'local', 'failback'];

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;

/** The FIFO the shell helpers use: $HA_FIFO, else `<HA_VARLIB>/fifo`. */
export function fifoLocation(env: NodeJS.ProcessEnv = process.env): string {
  const v = env['HA_FIFO'];
  return v !== undefined && v !== '' ? v : fifoPath(resolvePaths(env));
}

function usage(argv0: string, io: ToolIO): number {
  io.out('usage:\n');
  io.err(`${argv0} [all|foreign|local|failback]\n`);
  return EXIT_FAIL;
}

/**
 * The scripts' checks: more than one argument, a word other than
 * all|foreign|local|failback (`--help` prints only the usage). An empty
 * argument makes the scripts' `[ ]` tests fail and ends in the usage too.
 */
export function checkResourceArg(argv0: string, args: readonly string[], io: ToolIO): { ok: true; set: ResourceSet } | { ok: false; code: number } {
  if (args.length >= 2) {
    io.out(`${argv0}: too many arguments\n`);
    return { ok: false, code: usage(argv0, io) };
  }
  const word = args[0] ?? 'all';
  if (word === '--help' || word === '') return { ok: false, code: usage(argv0, io) };
  if (!SETS.includes(word)) {
    io.out(`${argv0}: wrong resources(${word}).\n`);
    return { ok: false, code: usage(argv0, io) };
  }
  return { ok: true, set: word as ResourceSet };
}

/** The classic text ha_clustermsg writes for these fields. */
export function clusterMessageText(fields: readonly [string, string][]): string {
  return `>>>\n${fields.map(([k, v]) => `${k}=${v}\n`).join('')}<<<\n`;
}

export type FifoOpen = { ok: true; fd: number } | { ok: false; notRunning: boolean; reason: string };

/** Opens the FIFO for writing without blocking. */
export function openFifo(path: string): FifoOpen {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') return { ok: false, notRunning: true, reason: `nothing reads ${path}` };
    if (code === 'ENOENT') return { ok: false, notRunning: true, reason: `${path} does not exist` };
    return { ok: false, notRunning: false, reason: `cannot open ${path}: ${(err as Error).message}` };
  }
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    return { ok: false, notRunning: false, reason: `${path} is not a FIFO` };
  }
  return { ok: true, fd };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Writes the whole text in one write (atomic below PIPE_BUF); retries a full pipe for up to 2 s. */
export function writeFifo(fd: number, text: string): { ok: true } | { ok: false; reason: string } {
  const data = Buffer.from(text, 'latin1');
  const deadline = Date.now() + 2000;
  try {
    for (;;) {
      try {
        const n = writeSync(fd, data);
        if (n === data.length) return { ok: true };
        return { ok: false, reason: `short write to FIFO (${n} of ${data.length} bytes)` };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) {
          return { ok: false, reason: `cannot write to FIFO: ${(err as Error).message}` };
        }
        sleepSync(20);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Reports a FIFO that cannot be opened; returns the exit status. */
export function reportOpenFailure(argv0: string, f: Extract<FifoOpen, { ok: false }>, io: ToolIO): number {
  io.err(f.notRunning ? `${argv0}: Heartbeat is not running (${f.reason}).\n` : `${argv0}: ${f.reason}\n`);
  return EXIT_FAIL;
}

/** What hb_standby and hb_takeover send: the message for a set, and hb_standby's log line. */
export interface ResourceRequest {
  tool: 'hb_standby' | 'hb_takeover';
  fields(set: ResourceSet): [string, string][];
  logLine?(set: ResourceSet): string;
}

/** Checks the argument, writes the request into the daemon's FIFO; the tool's exit status. */
export function sendResourceRequest(
  req: ResourceRequest, args: readonly string[], o: { io?: ToolIO; env?: NodeJS.ProcessEnv; argv0?: string },
): number {
  const io = o.io ?? processIO;
  const env = o.env ?? process.env;
  const argv0 = o.argv0 ?? invokedAs(req.tool, env);
  const checked = checkResourceArg(argv0, args, io);
  if (!checked.ok) return checked.code;
  const fifo = openFifo(fifoLocation(env));
  if (!fifo.ok) return reportOpenFailure(argv0, fifo, io);
  const line = req.logLine?.(checked.set);
  if (line !== undefined) haLog(req.tool, 'info', line, io, env);
  const w = writeFifo(fifo.fd, clusterMessageText(req.fields(checked.set)));
  if (!w.ok) {
    io.err(`${argv0}: ${w.reason}\n`);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}
