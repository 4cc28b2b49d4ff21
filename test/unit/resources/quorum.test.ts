/** quorum majority's rules (lib/resources/quorum.ts) and what `heartbeat -t` says about them. */
import { describe, expect, it } from 'vitest';
import { checkHbtsAgainstNodes, parseHbtsCf } from '../../../lib/config/hbts-cf.js';
import { describeQuorum, QuorumRules } from '../../../lib/resources/quorum.js';

const seen = (spec: Record<string, string>): Array<{ name: string; status: string }> => Object.entries(spec).map(([name, status]) => ({ name, status }));

describe('QuorumRules', () => {
  const rules = new QuorumRules(['node1', 'node2', 'node3', 'node4', 'node5'], 'node3');

  it('counts only nodes heard alive, ourselves always; more than half of the configured nodes', () => {
    const q = rules.evaluate(seen({ node1: 'dead', node2: 'init', node3: 'active', node4: 'up', node5: 'active' }));
    expect(q).toEqual({ has: true, live: ['node3', 'node4', 'node5'], configured: 5 });
    expect(rules.evaluate(seen({ node1: 'active', node2: 'dead', node3: 'active', node4: 'dead', node5: 'dead' })).has).toBe(false);
    expect(describeQuorum(q)).toBe('3 of 5 nodes (node3, node4, node5)');
  });

  it('exactly half is no quorum (four nodes split two and two)', () => {
    const four = new QuorumRules(['a', 'b', 'c', 'd'], 'A');
    expect(four.evaluate(seen({ a: 'active', b: 'active', c: 'dead', d: 'dead' })).has).toBe(false);
  });

  it('the taker is the first live node in ha.cf order other than the dead one', () => {
    const q = rules.evaluate(seen({ node1: 'dead', node2: 'dead', node3: 'active', node4: 'active', node5: 'active' }));
    expect(rules.taker(q, 'node1')).toBe('node3');
    expect(rules.isMe(rules.taker(q, 'node2'))).toBe(true);
  });

  it('grace: half a deadtime, at least two heartbeats', () => {
    expect(QuorumRules.graceMs(5000, 1000)).toBe(2500);
    expect(QuorumRules.graceMs(1000, 400)).toBe(800);
  });
});

describe('heartbeat -t and quorum majority', () => {
  const cfg = parseHbtsCf('# q\nquorum majority\n', { file: 'hb.cf' }).value!;
  it('warns for two nodes, refuses legacy auto_failback, is silent for three', () => {
    expect(checkHbtsAgainstNodes(cfg, 2, 'off', 'hb.cf').map((p) => [p.code, p.line, p.severity])).toEqual([['HBTS_QUORUM_TWO_NODES', 2, 'warning']]);
    expect(checkHbtsAgainstNodes(cfg, 3, 'legacy', 'hb.cf').map((p) => [p.code, p.severity])).toEqual([['HBTS_QUORUM_LEGACY', 'error']]);
    expect(checkHbtsAgainstNodes(cfg, 3, 'on', 'hb.cf')).toEqual([]);
  });
});
