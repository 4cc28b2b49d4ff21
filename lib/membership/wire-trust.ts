/**
 * What a signed packet may claim (issue 17). A valid signature proves only
 * that the sender holds the cluster key — or, with `crc`, nothing at all —
 * so two claims are checked before a packet is believed:
 *
 *  - Our own name. We act on our own messages through the loopback, never
 *    through the network. A packet naming us that arrives on a medium is
 *    either the echo of something we just sent (a broadcast comes back; it
 *    keeps our own link `up`, as in heartbeat) or a forgery: a higher
 *    generation in it would reset our own sequence tracking, make us drop
 *    our own heartbeats and give up every resource ("No local heartbeat").
 *    heartbeat 3.0.6 runs such a packet through the same checks as a
 *    peer's (process_clustermsg looks the sender up by name only, whatever
 *    address it came from), so the same forgery reaches it.
 *  - Freshness of unsequenced (`NS_*`) messages, which carry no seq and so
 *    escape the replay rules of sequenced ones: one from an older
 *    generation than the peer's current one, or stamped far earlier than
 *    the peer's latest status, is a capture played back.
 *
 * Pure decisions; the caller counts, logs and drops.
 */

/** An echo of ours, or something else carrying our name. */
export type OwnNameVerdict = { kind: 'echo' } | { kind: 'forged'; reason: string };

export interface OwnNameInput {
  /** hg of the packet (undefined = absent or not hex). */
  generation: number | undefined;
  /** seq of the packet; undefined for NS_* types. */
  seq: number | undefined;
  unsequenced: boolean;
  /** srcuuid when it is 16 bytes. */
  uuid: Buffer | undefined;
}

export interface OwnIdentity {
  generation: number;
  uuid: Buffer;
  /** Highest seq we have sent (and looped back). */
  highestSeq: number;
}

/** Judges a packet that names this node and came from a medium. */
export function judgeOwnName(p: OwnNameInput, me: OwnIdentity): OwnNameVerdict {
  if (p.uuid !== undefined && !p.uuid.equals(me.uuid)) return { kind: 'forged', reason: 'another node uuid' };
  if (p.generation !== me.generation) return { kind: 'forged', reason: `generation ${p.generation ?? 'missing'}, ours is ${me.generation}` };
  if (!p.unsequenced && (p.seq === undefined || p.seq > me.highestSeq)) {
    return { kind: 'forged', reason: `seq ${p.seq ?? 'missing'} not sent yet (${me.highestSeq} is our newest)` };
  }
  return { kind: 'echo' };
}

/** How far (seconds) an NS_* message may be stamped before the peer's latest status. */
export function nsFreshnessWindowS(deadtimeMs: number): number {
  return Math.max(60, Math.ceil((2 * deadtimeMs) / 1000));
}

export interface NsInput {
  generation: number | undefined;
  /** The packet's ts (sender clock, seconds). */
  ts: number;
}

export interface PeerFreshness {
  /** Generation learnt from the peer's status messages (0 = none yet). */
  generation: number;
  /** ts of the peer's latest accepted status (0 = none since start or death). */
  lastStatusTs: number;
  deadtimeMs: number;
}

/** undefined = fresh enough; otherwise why an NS_* message from a peer is a replay. */
export function nsReplayReason(p: NsInput, peer: PeerFreshness): string | undefined {
  const gen = p.generation ?? 0;
  if (gen < peer.generation) return `generation ${gen} older than ${peer.generation}`;
  // Before the first status of this incarnation (or after its death) there is nothing to compare with.
  if (peer.lastStatusTs === 0 || gen > peer.generation) return undefined;
  const window = nsFreshnessWindowS(peer.deadtimeMs);
  if (p.ts < peer.lastStatusTs - window) return `stamped ${peer.lastStatusTs - p.ts} s before the latest status`;
  return undefined;
}
