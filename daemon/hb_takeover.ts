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
import type { ToolIO } from './tools/common.js';
import { sendResourceRequest } from './tools/standby.js';

export function hbTakeover(args: readonly string[], o: { io?: ToolIO; env?: NodeJS.ProcessEnv; argv0?: string } = {}): number {
  return sendResourceRequest({ tool: 'hb_takeover', fields: (set) => [['t', 'hb_takeover'], ['rsc_hold', set]] }, args, o);
}

if (process.argv[1] !== undefined && /hb_takeover(\.js)?$/.test(process.argv[1])) {
  process.exitCode = hbTakeover(process.argv.slice(2));
}
