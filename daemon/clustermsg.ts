/**
 * Checks on messages that local programs (FIFO writers, API clients) ask the
 * daemon to send to the cluster. They are checked before `cluster.send`,
 * which allocates a sequence number first: a message that then failed to
 * encode would leave a gap peers keep asking to retransmit.
 */
import { encodeClassic, encodeNetstring, F, type HaMsg } from '../lib/wire/index.js';
import { describeError } from '../lib/util/errors.js';

/** Fields the daemon sets itself on every outbound message (spec 3.1). */
const CONTROL_FIELDS: ReadonlySet<string> = new Set([F.ORIG, F.ORIGUUID, F.SEQ, F.GEN, F.TS, F.LOAD, F.TTL, F.AUTH, F.TOUUID]);

/** Message types only the membership layer itself may send. */
const RESERVED_TYPES: ReadonlySet<string> = new Set(['status', 'NS_st', 'NS_rexmit', 'NS_nak_rexmit', 'NS_ackmsg', 'reqnodes', 'repnodes', 'shutdone']);

/** Why `msg` may not be sent on behalf of a local program, or undefined if it may. */
export function unsendableReason(msg: HaMsg): string | undefined {
  const type = msg.get(F.TYPE);
  if (type === undefined || type === '') return 'no t (message type) field';
  if (RESERVED_TYPES.has(type)) return `message type ${type} is reserved to the daemon`;
  try {
    encodeClassic(msg);
    encodeNetstring(msg);
  } catch (err) {
    return describeError(err);
  }
  return undefined;
}

/** Drops the control fields a local program may have written; the daemon sets them. */
export function stripControlFields(msg: HaMsg): HaMsg {
  for (const name of CONTROL_FIELDS) msg.remove(name);
  return msg;
}
