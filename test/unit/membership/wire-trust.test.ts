/** Issue 17: the pure replay and own-name rules. */
import { describe, expect, it } from 'vitest';
import { freshSeqState, seqStateAfterDeath, trackSequence } from '../../../lib/membership/sequencing.js';
import { judgeOwnName, nsFreshnessWindowS, nsReplayReason } from '../../../lib/membership/wire-trust.js';

const seq = (s: number, generation = 7, isStatus = false, peerDead = false) => ({ seq: s, generation, isStatus, peerDead });

describe('replay floor after a death', () => {
  it('drops older seqs of the same generation, accepts newer ones and a partition heal', () => {
    const st = freshSeqState();
    for (let s = 1; s <= 40; s++) expect(trackSequence(st, seq(s, 7, s === 1)).action).toBe('accept');
    const after = seqStateAfterDeath(st);
    expect(after.floor).toBe(40);
    expect(trackSequence(after, seq(5))).toEqual({ action: 'drop', reason: 'replay' });
    expect(trackSequence(after, seq(40))).toEqual({ action: 'drop', reason: 'replay' });
    expect(trackSequence(after, seq(41, 7, true, true))).toMatchObject({ action: 'accept', heal: true });
  });
  it('a new generation (a restart) clears the floor', () => {
    const after = seqStateAfterDeath({ ...freshSeqState(), generation: 7, lastSeq: 90 });
    expect(trackSequence(after, seq(1, 8, true))).toMatchObject({ action: 'accept', restart: true });
    expect(after.floor).toBe(0);
  });
  it('two deaths keep the highest floor', () => {
    const a = seqStateAfterDeath({ ...freshSeqState(), generation: 7, lastSeq: 90 });
    expect(seqStateAfterDeath(a).floor).toBe(90);
  });
});

describe('own name', () => {
  const me = { generation: 12, uuid: Buffer.alloc(16, 2), highestSeq: 30 };
  it('knows our echo', () => {
    expect(judgeOwnName({ generation: 12, seq: 30, unsequenced: false, uuid: me.uuid }, me)).toEqual({ kind: 'echo' });
    expect(judgeOwnName({ generation: 12, seq: undefined, unsequenced: true, uuid: undefined }, me)).toEqual({ kind: 'echo' });
  });
  it('calls everything else forged', () => {
    expect(judgeOwnName({ generation: 13, seq: 1, unsequenced: false, uuid: me.uuid }, me).kind).toBe('forged');
    expect(judgeOwnName({ generation: 11, seq: 1, unsequenced: false, uuid: me.uuid }, me).kind).toBe('forged');
    expect(judgeOwnName({ generation: 12, seq: 31, unsequenced: false, uuid: me.uuid }, me).kind).toBe('forged');
    expect(judgeOwnName({ generation: 12, seq: 3, unsequenced: false, uuid: Buffer.alloc(16, 9) }, me).kind).toBe('forged');
    expect(judgeOwnName({ generation: undefined, seq: 3, unsequenced: false, uuid: undefined }, me).kind).toBe('forged');
  });
});

describe('NS_* freshness', () => {
  const peer = { generation: 5, lastStatusTs: 1_000_000, deadtimeMs: 30_000 };
  it('accepts current traffic, a restarted peer, and anything before the first status', () => {
    expect(nsReplayReason({ generation: 5, ts: 1_000_001 }, peer)).toBeUndefined();
    expect(nsReplayReason({ generation: 5, ts: 1_000_000 - 59 }, peer)).toBeUndefined();
    expect(nsReplayReason({ generation: 6, ts: 1 }, peer)).toBeUndefined();
    expect(nsReplayReason({ generation: 5, ts: 1 }, { ...peer, lastStatusTs: 0 })).toBeUndefined();
  });
  it('drops an older generation and a stale stamp', () => {
    expect(nsReplayReason({ generation: 4, ts: 1_000_001 }, peer)).toMatch(/generation 4 older than 5/);
    expect(nsReplayReason({ generation: undefined, ts: 1_000_001 }, peer)).toMatch(/generation 0/);
    expect(nsReplayReason({ generation: 5, ts: 1_000_000 - 61 }, peer)).toMatch(/stamped 61 s before/);
  });
  it('widens the window with long dead times', () => {
    expect(nsFreshnessWindowS(5_000)).toBe(60);
    expect(nsFreshnessWindowS(120_000)).toBe(240);
  });
});
