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
import type { ToolIO } from './tools/common.js';
import { sendResourceRequest, type ResourceSet } from './tools/standby.js';

/** failback means foreign for hb_standby. */
const held = (set: ResourceSet): string => (set === 'failback' ? 'foreign' : set);

export function hbStandby(args: readonly string[], o: { io?: ToolIO; env?: NodeJS.ProcessEnv; argv0?: string } = {}): number {
  return sendResourceRequest({
    tool: 'hb_standby',
    fields: (set) => [['t', 'ask_resources'], ['rsc_hold', held(set)], ['info', 'me']],
    logLine: (set) => `Going standby [${held(set)}].`,
  }, args, o);
}

if (process.argv[1] !== undefined && /hb_standby(\.js)?$/.test(process.argv[1])) {
  process.exitCode = hbStandby(process.argv.slice(2));
}
