/**
 * Issue 17, the network findings at the membership level, on the
 * in-process segment: a key holder forging our own name, replays after a
 * peer's death, stale NS_* messages, and made-up sender names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator } from '../../../lib/auth/index.js';
import { parseAuthKeys } from '../../../lib/config/authkeys.js';
import { parseHaCf } from '../../../lib/config/hacf.js';
import { Cluster } from '../../../lib/membership/cluster.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { decodeDatagram, HaMsg } from '../../../lib/wire/index.js';
import { simHaCf } from '../../sim/cluster.js';
import { SimNetwork } from '../../sim/network.js';

const HACF = simHaCf(['node1', 'node2']);
const GEN = { node1: 10, node2: 20 } as const;

function signer(): Authenticator {
  const k = parseAuthKeys('auth 1\n1 sha1 secret\n', { file: 'authkeys', mode: 0o100600 }).value;
  if (!k) throw new Error('keys');
  return new Authenticator(k, { msgfmt: 'classic' });
}

interface TestNode { cluster: Cluster; lines: string[]; messages: HaMsg[] }

const running: Cluster[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
});

async function startNode(hub: SimNetwork, clock: ManualClock, name: 'node1' | 'node2'): Promise<TestNode> {
  const log = memoryLogger();
  const cfg = parseHaCf(HACF, { file: 'ha.cf', nodename: name }).value;
  if (!cfg) throw new Error('ha.cf');
  const cluster = new Cluster({
    config: cfg, myName: name, uuid: Buffer.alloc(16, name === 'node1' ? 1 : 2), generation: GEN[name], signer: signer(),
    media: [hub.medium(name)], clock, log, loadavg: () => '0.00 0.00 0.00 1/1 1', random: () => 0.5,
  });
  running.push(cluster);
  const messages: HaMsg[] = [];
  cluster.on('message', (m, _from, local) => {
    if (!local) messages.push(m);
  });
  await cluster.start();
  return { cluster, lines: log.lines, messages };
}

async function pair(): Promise<{ hub: SimNetwork; clock: ManualClock; a: TestNode; b: TestNode }> {
  const clock = new ManualClock();
  const hub = new SimNetwork(clock);
  const a = await startNode(hub, clock, 'node1');
  const b = await startNode(hub, clock, 'node2');
  clock.advance(3000);
  expect(a.cluster.view('node2')?.status).toBe('active');
  return { hub, clock, a, b };
}

/** A message signed with the cluster key, with the given fields (a key holder's forgery). */
function forged(fields: Record<string, string>): Buffer {
  const m = new HaMsg();
  for (const [k, v] of Object.entries(fields)) m.add(k, v);
  return signer().sign(m);
}

const hex = (n: number): string => n.toString(16);
const nowTs = (clock: ManualClock): string => hex(Math.floor(clock.wallMs() / 1000));

describe('never let the wire speak for us', () => {
  it('a status naming node1 with a higher generation changes nothing on node1', async () => {
    const { hub, clock, a } = await pair();
    const deaths: string[] = [];
    a.cluster.on('nodeDead', (n) => deaths.push(n));
    for (let i = 0; i < 5; i++) {
      hub.inject(forged({ t: 'status', st: 'active', src: 'node1', seq: hex(1 + i), hg: hex(GEN.node1 + 1000), ts: nowTs(clock), dt: hex(5000) }));
      clock.advance(1000);
    }
    clock.advance(20_000);
    expect(deaths).toEqual([]);
    expect(a.lines.filter((l) => /No local heartbeat|Heartbeat restart|is dead/.test(l))).toEqual([]);
    expect(a.cluster.me.status).toBe('active');
    expect(a.lines.some((l) => /WARN: Dropping packet from injector on eth0 that claims to come from this node \(node1\): generation 1010, ours is 10/.test(l))).toBe(true);
  });

  it('our own broadcast echo still keeps our own link up, as in heartbeat', async () => {
    const { a } = await pair();
    expect(a.cluster.view('node1')?.links).toEqual([{ name: 'eth0', status: 'up' }]);
    expect(a.lines.some((l) => /claims to come from this node/.test(l))).toBe(false);
  });

  it('a sequenced message naming us that we never sent is dropped', async () => {
    const { hub, clock, a } = await pair();
    hub.inject(forged({ t: 'ask_resources', rsc_hold: 'all', src: 'node1', seq: hex(100_000), hg: hex(GEN.node1), ts: nowTs(clock) }));
    expect(a.lines.some((l) => /claims to come from this node \(node1\): seq 100000 not sent yet/.test(l))).toBe(true);
  });
});

describe('replays', () => {
  it('a captured message replayed after the peer was declared dead is dropped', async () => {
    const { hub, clock, a, b } = await pair();
    b.cluster.send(new HaMsg().add('t', 'ask_resources').add('rsc_hold', 'all'));
    clock.advance(10);
    const captured = hub.captured.filter((c) => c.from === 'node2').map((c) => c.data)
      .filter((d) => { const r = decodeDatagram(d); return r.ok && r.msg.get('t') === 'ask_resources'; });
    expect(captured).toHaveLength(1);
    expect(a.messages.filter((m) => m.get('t') === 'ask_resources')).toHaveLength(1);
    await b.cluster.stop();
    clock.advance(10_000);
    expect(a.cluster.view('node2')?.status).toBe('dead');
    hub.inject(captured[0] as Buffer);
    expect(a.messages.filter((m) => m.get('t') === 'ask_resources')).toHaveLength(1);
    expect(a.lines.some((l) => /attempted replay attack \[node2\]/.test(l))).toBe(true);
  });

  it('NS_* from an older generation, or stamped long before the latest status, is dropped', async () => {
    const { hub, clock, a } = await pair();
    const rexmits = (): number => a.cluster.stats().rexmitSent;
    const before = rexmits();
    // node1's newest seq: never acknowledged yet, so a genuine request would get it again
    const newest = String((a.cluster as unknown as { reliability: { highestSeq: number } }).reliability.highestSeq);
    const req = (hg: number, ts: string): Buffer =>
      forged({ t: 'NS_rexmit', dest: 'node1', firstseq: newest, lastseq: newest, src: 'node2', hg: hex(hg), ts });
    hub.inject(req(GEN.node2 - 1, nowTs(clock)));
    hub.inject(req(GEN.node2, hex(Math.floor(clock.wallMs() / 1000) - 3600)));
    expect(rexmits()).toBe(before);
    expect(a.lines.filter((l) => /Dropping NS_rexmit from node2: replayed\?/.test(l))).toHaveLength(1); // rate-limited
    // a fresh one from the current generation is answered
    hub.inject(req(GEN.node2, nowTs(clock)));
    expect(rexmits()).toBeGreaterThan(before);
  });
});

describe('made-up senders', () => {
  it('50 000 unknown node names give one complaint per interval and no per-name state', async () => {
    const { hub, clock, a } = await pair();
    const at = a.lines.length;
    for (let i = 0; i < 50_000; i++) {
      hub.inject(forged({ t: 'status', st: 'active', src: `made-up-${i}`, seq: '1', hg: '1', ts: nowTs(clock) }));
      if (i % 5000 === 0) clock.advance(1000);
    }
    const complaints = a.lines.slice(at).filter((l) => /bad node/.test(l));
    expect(complaints.length).toBeLessThanOrEqual(2);
    const gate = (a.cluster as unknown as { receiving: { badpackLogged: { size: number } } }).receiving.badpackLogged;
    expect(gate.size).toBeLessThan(10);
  }, 60_000);
});
