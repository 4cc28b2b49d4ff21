/**
 * Wire comparison of a captured steady run between node1 and node2
 * (heartbeat-ts is node2; node1 real heartbeat 3.0.6 or heartbeat-ts):
 * every datagram is a netstring with the inner classic `auth` field last
 * and the auth trailer, nothing after it; for each message type both nodes
 * send, the field layout (names, types, order) is the same; the control
 * fields have the same form; and node2's NS_ackmsg acks keep pace with
 * node1's sequence numbers, which is what keeps a real node's transmit
 * history short.
 */
import { expect } from 'vitest';
import { fieldText, layoutOf, readPcap, scanNetstring, type NetstringDatagram } from './wire-capture.js';

export interface WireCheck {
  summary: string;
}

interface Sent {
  time: number;
  d: NetstringDatagram;
  ipTtl: number;
}

const hex = (s: string | undefined): number => (s !== undefined && /^[0-9a-f]+$/.test(s) ? parseInt(s, 16) : NaN);

/** Asserts the layout and ack properties on a pcap of udp/694; returns a printable summary. */
export function checkWire(pcap: string, o: { node1: string; node2: string; steadyMs: number; steadyFrom: number }): WireCheck {
  const by: Record<'node1' | 'node2', Sent[]> = { node1: [], node2: [] };
  for (const u of readPcap(pcap)) {
    if (u.dport !== 694) continue;
    const who = u.src === o.node1 ? 'node1' : u.src === o.node2 ? 'node2' : undefined;
    if (who === undefined) continue;
    const d = scanNetstring(u.payload);
    expect(d, `${who} sent a datagram that is not netstring: ${JSON.stringify(u.payload.subarray(0, 80).toString('latin1'))}`).toBeDefined();
    if (d === undefined) continue;
    by[who].push({ time: u.time, d, ipTtl: u.ttl });
  }
  const seconds = o.steadyMs / 1000;
  const steadyFromS = o.steadyFrom / 1000;
  // ~4 statuses a second each: demand at least half of that on the wire
  expect(by.node1.filter((x) => x.time >= steadyFromS).length).toBeGreaterThan(seconds * 2);
  expect(by.node2.filter((x) => x.time >= steadyFromS).length).toBeGreaterThan(seconds * 2);

  for (const who of ['node1', 'node2'] as const) {
    for (const { d } of by[who]) {
      expect(d.rest, `${who}: bytes after the trailer`).toBe(0);
      expect(d.trailer).toMatch(/^1 [0-9a-f]{40}$/);
      const last = d.fields[d.fields.length - 1];
      expect(last?.name, `${who}: inner auth field last in ${layoutOf(d)}`).toBe('auth');
      expect(last?.value.toString('latin1')).toMatch(/^1 [0-9a-f]{40}$/);
      expect(fieldText(d, 'src')).toBe(who);
      expect(fieldText(d, 'ttl')).toBe('3'); // hopfudge 1 + 2 nodes
      expect(fieldText(d, 'hg')).toMatch(/^[0-9a-f]+$/);
      expect(fieldText(d, 'ts')).toMatch(/^[0-9a-f]{8}$/);
      expect(d.fields.find((f) => f.name === 'srcuuid')?.value.length).toBe(16);
    }
  }

  // Same layout per message type (the last of each type from each node:
  // the capture starts while node2 still advertises its start-up dt).
  const lastOf = (who: 'node1' | 'node2'): Map<string, NetstringDatagram> => {
    const m = new Map<string, NetstringDatagram>();
    for (const { d } of by[who]) m.set(fieldText(d, 't') ?? '?', d);
    return m;
  };
  const f1 = lastOf('node1');
  const f2 = lastOf('node2');
  const common = [...f1.keys()].filter((t) => f2.has(t));
  // the capture runs from the first start: the start-up handshake is in it
  for (const t of ['status', 'NS_ackmsg', 'reqnodes', 'repnodes', 'starting', 'resource']) expect(common).toContain(t);
  for (const t of common) {
    const a = f1.get(t);
    const b = f2.get(t);
    if (a === undefined || b === undefined) continue;
    expect(layoutOf(b), `layout of ${t}`).toBe(layoutOf(a));
  }
  const st1 = f1.get('status');
  const st2 = f2.get('status');
  if (st1 !== undefined && st2 !== undefined) {
    for (const name of ['dt', 'protocol', 'st']) expect(fieldText(st2, name), `status field ${name}`).toBe(fieldText(st1, name));
  }
  expect(by.node2[0]?.ipTtl).toBe(by.node1[0]?.ipTtl);

  // node2's acks of node1's sequenced messages, and how far behind they lag.
  let highest1 = 0;
  let lastAck = 0;
  let maxLag = 0;
  let acks = 0;
  const steady = (xs: Sent[]): Sent[] => xs.filter((x) => x.time >= steadyFromS);
  const events = [...steady(by.node1).map((s) => ({ ...s, who: 'node1' as const })), ...steady(by.node2).map((s) => ({ ...s, who: 'node2' as const }))];
  events.sort((x, y) => x.time - y.time);
  for (const e of events) {
    const t = fieldText(e.d, 't');
    if (e.who === 'node1') {
      const seq = hex(fieldText(e.d, 'seq'));
      if (!Number.isNaN(seq)) highest1 = Math.max(highest1, seq);
    } else if (t === 'NS_ackmsg' && fieldText(e.d, 'dest') === 'node1') {
      const a = hex(fieldText(e.d, 'ackseq'));
      expect(a).toBeLessThanOrEqual(highest1);
      lastAck = Math.max(lastAck, a);
      acks++;
    }
    if (acks > 0) maxLag = Math.max(maxLag, highest1 - lastAck);
  }
  // one ack per ten of node1's messages
  expect(acks).toBeGreaterThan((seconds * 4) / 10 / 2);
  // acks every 10 seqs: the unacked tail stays far below the 375 warning mark
  expect(maxLag).toBeLessThan(40);
  const acks1 = steady(by.node1).filter((s) => fieldText(s.d, 't') === 'NS_ackmsg' && fieldText(s.d, 'dest') === 'node2').length;
  expect(acks1).toBeGreaterThan(0);
  // Real heartbeat also acks its own messages (its loopback copy goes through
  // the same code); heartbeat-ts does not: a peer ignores acks not for itself.
  const selfAcks1 = steady(by.node1).filter((s) => fieldText(s.d, 't') === 'NS_ackmsg' && fieldText(s.d, 'dest') === 'node1').length;
  return {
    summary:
      `${by.node1.length} datagrams from node1, ${by.node2.length} from node2 in all; common types ${common.join(',')} ` +
      `with identical layouts; in the steady run node2 sent ${acks} acks to node1 (max unacked ${maxLag}, node1 highest seq ${highest1}), node1 sent ${acks1} to node2 and ${selfAcks1} to itself`,
  };
}
