#!/usr/bin/env node
/**
 * `hb_standby [all|foreign|local|failback]` (spec 11.4, 6.4): asks the
 * cluster to let this node give up the named resources (default all;
 * failback = foreign) by writing `t=ask_resources rsc_hold=<set> info=me`
 * into the daemon's FIFO, and logs `Going standby [<set>].`.
 *
 * Exit status: 0 sent; 1 bad arguments (the script's messages) or heartbeat
 * not running (`<argv0>: Heartbeat is not running (…).` on stderr) or the
 * FIFO could not be written.
 */
import { invokedAs, processIO, type ToolIO } from './tools/common.js';
import { haLog } from './tools/halog.js';
import { checkResourceArg, clusterMessageText, EXIT_FAIL, EXIT_OK, fifoLocation, openFifo, reportOpenFailure, writeFifo } from './tools/standby.js';

export function hbStandby(args: readonly string[], o: { io?: ToolIO; env?: NodeJS.ProcessEnv; argv0?: string } = {}): number {
  const io = o.io ?? processIO;
  const env = o.env ?? process.env;
  const argv0 = o.argv0 ?? invokedAs('hb_standby', env);
  const checked = checkResourceArg(argv0, args, io);
  if (!checked.ok) return checked.code;
  const set = checked.set === 'failback' ? 'foreign' : checked.set;
  const fifo = openFifo(fifoLocation(env));
  if (!fifo.ok) return reportOpenFailure(argv0, fifo, io);
  haLog('hb_standby', 'info', `Going standby [${set}].`, io, env);
  const w = writeFifo(fifo.fd, clusterMessageText([['t', 'ask_resources'], ['rsc_hold', set], ['info', 'me']]));
  if (!w.ok) {
    io.err(`${argv0}: ${w.reason}\n`);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}

if (process.argv[1] !== undefined && /hb_standby(\.js)?$/.test(process.argv[1])) {
  process.exitCode = hbStandby(process.argv.slice(2));
}
