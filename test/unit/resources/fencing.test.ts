import { describe, expect, it } from 'vitest';
import { FENCE_RETRY_MS, Fencing, type Fencer, type FenceResult } from '../../../lib/resources/fencing.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';

/** A device whose answers the test scripts, one per reset. */
function device(answers: FenceResult[]): Fencer & { resets: string[] } {
  const resets: string[] = [];
  return {
    description: 'lab',
    resets,
    reset: async (node) => {
      resets.push(node);
      return answers.shift() ?? 'bad';
    },
  };
}

function rig(answers: FenceResult[], dead = (): boolean => true) {
  const clock = new ManualClock();
  const log = memoryLogger();
  const fencer = device(answers);
  const sent: string[] = [];
  const taken: string[] = [];
  const fencing = new Fencing({
    fencer, clock, log, stillDead: dead,
    report: (node, result) => sent.push(`${node}=${result}`),
    takeover: (node) => taken.push(node),
  });
  return { clock, log, fencer, sent, taken, fencing };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('STONITH before takeover', () => {
  it('resets, reports OK, then takes over', async () => {
    const r = rig(['OK']);
    r.fencing.fenceThenTakeover('node2');
    r.fencing.fenceThenTakeover('node2'); // a second death report while fencing: no second reset
    await settle();
    expect(r.fencer.resets).toEqual(['node2']);
    expect(r.sent).toEqual(['node2=OK']);
    expect(r.taken).toEqual(['node2']);
    expect(r.log.lines).toEqual(['info: Resetting node node2 with [lab]', 'info: node node2 now reset.']);
  });

  it('a failing device: retried every 5 s, never a takeover until a reset succeeds', async () => {
    const r = rig(['bad', 'badhost', 'bad', 'OK']);
    r.fencing.fenceThenTakeover('node2');
    await settle();
    for (let i = 0; i < 2; i++) {
      r.clock.advance(FENCE_RETRY_MS - 1);
      await settle();
      expect(r.fencer.resets).toHaveLength(i + 1);
      r.clock.advance(1);
      await settle();
    }
    expect(r.taken).toEqual([]);
    expect(r.fencing.fencing('node2')).toBe(true);
    r.clock.advance(FENCE_RETRY_MS);
    await settle();
    expect(r.sent).toEqual(['node2=bad', 'node2=badhost', 'node2=bad', 'node2=OK']);
    expect(r.taken).toEqual(['node2']);
    expect(r.log.lines.filter((l) => l === 'ERROR: STONITH of node2 failed.  Retrying...')).toHaveLength(3);
  });

  it('a node that comes back is no longer fenced, and nothing is taken', async () => {
    let dead = true;
    const r = rig(['bad'], () => dead);
    r.fencing.fenceThenTakeover('node2');
    await settle();
    dead = false;
    r.clock.advance(FENCE_RETRY_MS);
    await settle();
    expect(r.fencer.resets).toEqual(['node2']);
    expect(r.taken).toEqual([]);
    expect(r.fencing.fencing('node2')).toBe(false);
    expect(r.log.lines.at(-1)).toBe('info: Node node2 is back: not fencing it.');
  });
});
