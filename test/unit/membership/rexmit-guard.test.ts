import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../lib/util/log.js';
import {
  LINES_PER_PEER, MAX_NAKS_PER_REQUEST, MAX_RESEND_PER_REQUEST, planRexmit, RexmitGuard, WORK_PER_PEER_PER_S, type RexmitPort,
} from '../../../lib/membership/rexmit-guard.js';

/** A sender whose history holds seqs lowest..highest. */
function port(lowest: number, highest: number, acked = 0): RexmitPort & { sent: number[]; naks: number[] } {
  const sent: number[] = [];
  const naks: number[] = [];
  return {
    sent, naks,
    window: () => ({ lowest, highest, acked }),
    resend: (s) => (s >= lowest && s <= highest ? (sent.push(s), 'sent') : 'not-found'),
    nak: (s) => void naks.push(s),
  };
}

describe('planRexmit', () => {
  it('answers a single-seq request as heartbeat does', () => {
    expect(planRexmit(17, 17, { lowest: 1, highest: 40, acked: 0 })).toEqual({ nak: [], nakSkipped: 0, resend: { from: 17, to: 17 }, beyond: null });
    expect(planRexmit(3, 3, { lowest: 10, highest: 509, acked: 0 })).toEqual({ nak: [3], nakSkipped: 0, resend: null, beyond: null });
    expect(planRexmit(600, 600, { lowest: 10, highest: 509, acked: 0 })).toEqual({ nak: [], nakSkipped: 0, resend: null, beyond: { first: 600, count: 1 } });
  });

  it('cuts a huge range to the history window in constant time', () => {
    const t0 = performance.now();
    const p = planRexmit(1, 2 ** 53 - 1, { lowest: 1001, highest: 1500, acked: 0 });
    expect(performance.now() - t0).toBeLessThan(50);
    expect(p.nak).toHaveLength(MAX_NAKS_PER_REQUEST);
    expect(p.nakSkipped).toBe(1000 - MAX_NAKS_PER_REQUEST);
    expect(p.resend).toEqual({ from: 1001, to: 1500 });
    expect(p.beyond).toEqual({ first: 1501, count: 2 ** 53 - 1 - 1500 });
  });

  it('skips what the requester acknowledged', () => {
    expect(planRexmit(1, 20, { lowest: 1, highest: 20, acked: 15 }).resend).toEqual({ from: 16, to: 20 });
  });
});

describe('RexmitGuard', () => {
  it('issue 17: NS_rexmit 100000..1600000 costs a few lines, not 1.5 million', () => {
    const log = memoryLogger();
    const g = new RexmitGuard(log);
    const p = port(1, 40);
    const t0 = performance.now();
    g.answer('node1', 100_000, 1_600_000, p, 0);
    g.answer('node1', 1, 2 ** 53, p, 1);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(log.lines.length).toBeLessThanOrEqual(2);
    expect(log.lines[0]).toBe('WARN: Rexmit of seq 100000 requested. 40 is max. (and 1500000 newer seqno(s) ignored)');
    expect(p.sent).toHaveLength(40);
  });

  it('re-sends at most 50 per request and keeps heartbeat\'s lines for ordinary requests', () => {
    const log = memoryLogger();
    const g = new RexmitGuard(log);
    const p = port(501, 1000);
    g.answer('node2', 501, 1000, p, 0);
    expect(p.sent).toHaveLength(MAX_RESEND_PER_REQUEST);
    g.answer('node2', 7, 7, p, 1);
    expect(log.lines).toEqual(['ERROR: Cannot rexmit pkt 7 for node2: seqno too low']);
    expect(p.naks).toEqual([7]);
  });

  it('bounds the work and the log lines per peer, whatever the request rate', () => {
    const log = memoryLogger();
    const g = new RexmitGuard(log);
    const p = port(501, 1000);
    for (let i = 0; i < 10_000; i++) g.answer('node2', 1, 2 ** 40, p, i / 10); // 10 000 requests in one second
    expect(p.sent.length + p.naks.length).toBeLessThanOrEqual(2 * WORK_PER_PEER_PER_S);
    expect(log.lines.length).toBeLessThanOrEqual(LINES_PER_PEER);
    // another peer has its own budget
    g.answer('node3', 3, 3, p, 1000);
    expect(p.naks[p.naks.length - 1]).toBe(3);
    // after the window, one summary line says how much was held back
    g.answer('node2', 3, 3, p, 20_000);
    expect(log.lines.some((l) => /^WARN: \d+ rexmit complaint\(s\) about node2 suppressed/.test(l))).toBe(true);
  });
});
