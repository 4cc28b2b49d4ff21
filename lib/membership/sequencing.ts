/**
 * Per-peer sequence and generation tracking: heartbeat's should_drop_message
 * (spec 3.2). Pure state + decisions; the caller logs and acts.
 */

/** Heartbeat keeps at most this many missing sequence numbers per peer. */
export const MAX_MISSING = 500;
/** Beyond this many missing packets tracking is reset (`lost a lot of packets!`). */
export const MAX_MISSING_GAP = 250;

export interface SeqState {
  generation: number;
  /** Highest sequence number accepted; 0 = nothing seen in this generation. */
  lastSeq: number;
  /** Sequence numbers below lastSeq still expected. */
  missing: Set<number>;
  /**
   * Replay floor: the highest seq seen from this generation before the
   * peer was declared dead. Tracking restarts at the death (lastSeq 0), and
   * without the floor any captured message of the same generation would be
   * accepted again once (heartbeat 3.0.6 has that hole).
   */
  floor: number;
}

export const freshSeqState = (): SeqState => ({ generation: 0, lastSeq: 0, missing: new Set(), floor: 0 });

/** Tracking after the peer was declared dead: same generation, fresh seq tracking, replay floor kept. */
export const seqStateAfterDeath = (s: SeqState): SeqState => ({
  generation: s.generation, lastSeq: 0, missing: new Set(), floor: Math.max(s.floor, s.lastSeq),
});

export type SeqDecision =
  | { action: 'accept'; restart: boolean; heal: boolean; lost: { from: number; to: number } | null; filledGap: boolean; gapsCleared: boolean; lostALot: boolean }
  | { action: 'duplicate' }
  | { action: 'drop'; reason: 'replay' | 'old-duplicate' };

export interface SeqInput {
  seq: number;
  generation: number;
  isStatus: boolean;
  /** Whether the peer is currently marked dead (for the partition heal rule). */
  peerDead: boolean;
}

/**
 * Applies one sequenced message to the tracking state and says what to do.
 * Mirrors heartbeat: lower generation = replay; for status messages a higher
 * generation is a restart and the same generation from a dead peer with a
 * newer seq is a partition heal; only status messages update the generation.
 */
export function trackSequence(state: SeqState, input: SeqInput): SeqDecision {
  const { seq, generation } = input;
  let restart = false;
  let heal = false;
  if (generation < state.generation) return { action: 'drop', reason: 'replay' };
  if (generation > state.generation) {
    // Only a status message moves the generation; anything else from a newer
    // generation goes through plain sequence checks, as in heartbeat.
    if (!input.isStatus) return accept(state, seq, false, false);
    restart = state.generation !== 0;
    state.generation = generation;
    state.lastSeq = 0;
    state.floor = 0;
    state.missing.clear();
  } else if (state.lastSeq === 0 && seq <= state.floor) {
    // Same generation, nothing accepted since the death, and not newer than
    // what we had already seen: a captured message played back.
    return { action: 'drop', reason: 'replay' };
  } else if (input.isStatus && input.peerDead && generation > 0) {
    // The caller already dropped stale statuses (seq <= the last status seq).
    heal = true;
  }
  return accept(state, seq, restart, heal);
}

function accept(state: SeqState, seq: number, restart: boolean, heal: boolean): SeqDecision {
  if (state.lastSeq === 0 || seq === state.lastSeq + 1) {
    state.lastSeq = seq;
    return { action: 'accept', restart, heal, lost: null, filledGap: false, gapsCleared: false, lostALot: false };
  }
  if (seq === state.lastSeq) return { action: 'duplicate' };
  if (seq > state.lastSeq + 1) {
    const from = state.lastSeq + 1;
    const to = seq - 1;
    if (to - from + 1 > MAX_MISSING_GAP || state.missing.size + (to - from + 1) > MAX_MISSING) {
      state.missing.clear();
      state.lastSeq = seq;
      return { action: 'accept', restart, heal, lost: null, filledGap: false, gapsCleared: false, lostALot: true };
    }
    for (let s = from; s <= to; s++) state.missing.add(s);
    state.lastSeq = seq;
    return { action: 'accept', restart, heal, lost: { from, to }, filledGap: false, gapsCleared: false, lostALot: false };
  }
  // seq < lastSeq: only a packet we are waiting for is new.
  if (state.missing.delete(seq)) {
    return { action: 'accept', restart, heal, lost: null, filledGap: true, gapsCleared: state.missing.size === 0, lostALot: false };
  }
  if (restart || heal) {
    state.lastSeq = seq;
    return { action: 'accept', restart, heal, lost: null, filledGap: false, gapsCleared: false, lostALot: false };
  }
  return { action: 'drop', reason: 'old-duplicate' };
}

/** Lowest sequence number still missing, or undefined. */
export function firstMissing(state: { readonly missing: ReadonlySet<number> }): number | undefined {
  let min: number | undefined;
  for (const s of state.missing) if (min === undefined || s < min) min = s;
  return min;
}

/** Parses heartbeat's `%lx` fields strictly (hex digits only). */
export function parseHex(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,13}$/.test(text)) return undefined;
  return parseInt(text, 16);
}
