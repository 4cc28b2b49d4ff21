#!/usr/bin/env node
/**
 * `hb_takeover [all|foreign|local|failback]` (spec 11.4, 6.6): asks the other
 * node to give resources to this one by writing `t=hb_takeover
 * rsc_hold=<arg>` into the daemon's FIFO (default all). No log line, as the
 * original script.
 *
 * Exit status: 0 sent; 1 bad arguments (the script's messages), heartbeat not
 * running (`<argv0>: Heartbeat is not running (…).` on stderr) or a failed
 * write.
 */
import { invokedAs, processIO, type ToolIO } from './tools/common.js';
import { checkResourceArg, clusterMessageText, EXIT_FAIL, EXIT_OK, fifoLocation, openFifo, reportOpenFailure, writeFifo } from './tools/standby.js';

export function hbTakeover(args: readonly string[], o: { io?: ToolIO; env?: NodeJS.ProcessEnv; argv0?: string } = {}): number {
  const io = o.io ?? processIO;
  const env = o.env ?? process.env;
  const argv0 = o.argv0 ?? invokedAs('hb_takeover', env);
  const checked = checkResourceArg(argv0, args, io);
  if (!checked.ok) return checked.code;
  const fifo = openFifo(fifoLocation(env));
  if (!fifo.ok) return reportOpenFailure(argv0, fifo, io);
  const w = writeFifo(fifo.fd, clusterMessageText([['t', 'hb_takeover'], ['rsc_hold', checked.set]]));
  if (!w.ok) {
    io.err(`${argv0}: ${w.reason}\n`);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}

if (process.argv[1] !== undefined && /hb_takeover(\.js)?$/.test(process.argv[1])) {
  process.exitCode = hbTakeover(process.argv.slice(2));
}
