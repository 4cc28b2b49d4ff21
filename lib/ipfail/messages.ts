/**
 * The messages ipfail exchanges with its peer on the partner node (spec 4.4,
 * 12), built field for field as heartbeat's ipfail builds them. `dest` is not
 * here: the client API's "send to node" adds it (after these fields), and the
 * daemon then adds from_id/to_id/client_gen and the control fields.
 */
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';

/** ipfail's own message types. */
export const IPFAIL_T = {
  NUM_PING_NODES: 'num_ping_nodes',
  ABORT_GIVEUP: 'abort_giveup',
  YOU_ARE_DEAD: 'you_are_dead',
} as const;

/** The API client name ipfail signs on with (and peers recognise in hbapi-clstat). */
export const IPFAIL_CLIENT = 'ipfail';

/** The resource sets ipfail gives up (standby protocol, spec 6.4). */
export type GiveupSet = 'all' | 'foreign';

export function numPingNodesMsg(me: string, count: number): HaMsg {
  // ipfail formats the count with snprintf into 5 bytes: at most 4 characters.
  return new HaMsg().add(F.TYPE, IPFAIL_T.NUM_PING_NODES).add(F.ORIG, me).add(F.NUM_PING, String(count).slice(0, 4));
}

export function abortGiveupMsg(me: string): HaMsg {
  return new HaMsg().add(F.TYPE, IPFAIL_T.ABORT_GIVEUP).add(F.ORIG, me);
}

export function youAreDeadMsg(): HaMsg {
  return new HaMsg().add(F.TYPE, IPFAIL_T.YOU_ARE_DEAD);
}

/** The standby request a giveup sends to the whole cluster (what `hb_standby` sends too). */
export function askResourcesMsg(me: string, set: GiveupSet): HaMsg {
  return new HaMsg().add(F.TYPE, T.ASK_RESOURCES).add(F.RSC_HOLD, set).add(F.ORIG, me).add(F.INFO, 'me');
}

/**
 * C atoi(): optional leading white space and sign, then digits; 0 when there
 * are none; ignores what follows. Values beyond 32 bits are clamped (atoi's
 * behaviour there is undefined).
 */
export function cAtoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(text);
  const digits = m?.[2] ?? '';
  if (digits === '') return 0;
  const n = Math.min(Number(digits.slice(0, 12)), 2 ** 31);
  return m?.[1] === '-' ? Math.max(-n, -(2 ** 31)) : Math.min(n, 2 ** 31 - 1);
}

/** glue's cl_str_to_boolean: the accepted spellings, case-insensitive; undefined for anything else. */
export function clStrToBoolean(text: string): boolean | undefined {
  const s = text.toLowerCase();
  if (['true', 'on', 'yes', 'y', '1'].includes(s)) return true;
  if (['false', 'off', 'no', 'n', '0'].includes(s)) return false;
  return undefined;
}
