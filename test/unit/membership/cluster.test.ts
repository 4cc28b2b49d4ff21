import { afterEach, describe, expect, it } from 'vitest';
import type { Authenticator } from '../../../lib/auth/index.js';
import { parseAuthKeys } from '../../../lib/config/authkeys.js';
import { parseHaCf } from '../../../lib/config/hacf.js';
import type { HaConfig } from '../../../lib/config/types.js';
import type { Cluster } from '../../../lib/membership/cluster.js';
import { MemoryStateStore } from '../../../lib/membership/state-files.js';
import { assembleNode } from '../../../lib/node/assemble.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { decodeDatagram } from '../../../lib/wire/index.js';
import { simHaCf } from '../../sim/cluster.js';
import { SimNetwork } from '../../sim/network.js';

const HACF = simHaCf(['node1', 'node2']);

function config(name: string, text = HACF): HaConfig {
  const r = parseHaCf(text, { file: 'ha.cf', nodename: name });
  if (!r.value) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

function keys(text = 'auth 1\n1 sha1 secret\n') {
  const r = parseAuthKeys(text, { file: 'authkeys', mode: 0o100600 });
  if (!r.value) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

interface TestNode {
  cluster: Cluster;
  lines: string[];
  auth: Authenticator;
}

describe('Cluster (membership core) on an in-process segment', () => {
  const running: Cluster[] = [];
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
  });

  /** node1 (generation 10) and node2 (20) on one simulated network; node2 may get other keys. */
  async function twoNodes(o: { hacf?: string; authB?: string } = {}): Promise<{ clock: ManualClock; hub: SimNetwork; a: TestNode; b: TestNode }> {
    const clock = new ManualClock();
    const hub = new SimNetwork(clock);
    const a = await startNode(hub, clock, 'node1', 10, undefined, o.hacf);
    const b = await startNode(hub, clock, 'node2', 20, o.authB, o.hacf);
    return { clock, hub, a, b };
  }

  /** node2 is still alive `quietMs` from now, and declared dead within `moreMs` after that. */
  function expectDeathBetween(clock: ManualClock, deaths: string[], quietMs: number, moreMs: number): void {
    clock.advance(quietMs);
    expect(deaths).toEqual([]);
    clock.advance(moreMs);
    expect(deaths).toEqual(['node2']);
  }

  /** The names a's cluster declares dead from now on. */
  function deathsSeenBy(a: TestNode): string[] {
    const deaths: string[] = [];
    a.cluster.on('nodeDead', (n) => deaths.push(n));
    return deaths;
  }

  async function startNode(hub: SimNetwork, clock: ManualClock, name: string, generation: number, authText?: string, hacf?: string): Promise<TestNode> {
    const log = memoryLogger();
    const uuid = Buffer.alloc(16, name === 'node1' ? 1 : 2);
    const { messaging } = assembleNode({
      config: config(name, hacf), keys: keys(authText), groups: [], nodename: name, media: () => [hub.medium(name)],
      clock, log, store: new MemoryStateStore(uuid, generation), scripts: undefined,
      loadavg: () => '0.00 0.00 0.00 1/1 1', random: () => 0.5,
    });
    running.push(messaging.cluster);
    await messaging.start();
    return { cluster: messaging.cluster, lines: log.lines, auth: messaging.auth };
  }

  it('two nodes go active, exchange reqnodes/repnodes, and see each other active with links up', async () => {
    const { clock, hub, a, b } = await twoNodes();
    clock.advance(3000);
    expect(a.cluster.view('node2')?.status).toBe('active');
    expect(b.cluster.view('node1')?.status).toBe('active');
    expect(a.cluster.me.status).toBe('active');
    expect(a.cluster.view('node2')?.links).toEqual([{ name: 'eth0', status: 'up' }]);
    expect(a.lines).toContain('info: Comm_now_up(): updating status to active');
    expect(a.lines).toContain("info: Local status now set to: 'active'");
    expect(a.lines).toContain('info: Link node2:eth0 up.');
    const types = hub.captured.map((c) => (decodeDatagram(c.data) as { ok: true; msg: { get(n: string): string | undefined } }).msg.get('t'));
    expect(types).toContain('reqnodes');
    expect(types).toContain('repnodes');
    expect(a.lines.some((l) => l.includes('is dead'))).toBe(false);
  });

  it('declares a silent peer dead after its deadtime and its link dead', async () => {
    const { clock, a, b } = await twoNodes();
    clock.advance(8000);
    await b.cluster.stop();
    const deaths = deathsSeenBy(a);
    expectDeathBetween(clock, deaths, 4000, 2100);
    expect(a.cluster.view('node2')?.status).toBe('dead');
    expect(a.cluster.view('node2')?.links[0]?.status).toBe('dead');
    expect(a.lines).toContain('WARN: node node2: is dead');
    expect(a.lines).toContain('info: Link node2:eth0 dead.');
  });

  it('applies the dead time, not initdead, to a peer that dies right after comm came up', async () => {
    const text = HACF.replace('initdead 10', 'initdead 30');
    const { clock, a, b } = await twoNodes({ hacf: text });
    clock.advance(2000);
    expect(a.cluster.view('node2')?.status).toBe('active');
    await b.cluster.stop();
    const deaths = deathsSeenBy(a);
    // node2 still advertised its start-up dead time (5 s + 2 s): dead ~7 s
    // after its last status, long before initdead (30 s) runs out.
    expectDeathBetween(clock, deaths, 6500, 1500);
  });

  it('leaves ld out of NS_ messages, as heartbeat does (it is flagged like seq)', async () => {
    const { clock, hub } = await twoNodes();
    clock.advance(30_000);
    const msgs = hub.captured.map((c) => (decodeDatagram(c.data) as { ok: true; msg: { get(n: string): string | undefined } }).msg);
    const acks = msgs.filter((m) => m.get('t') === 'NS_ackmsg');
    expect(acks.length).toBeGreaterThan(0);
    for (const m of acks) expect(m.get('ld')).toBeUndefined();
    const statuses = msgs.filter((m) => m.get('t') === 'status');
    for (const m of statuses) expect(m.get('ld')).toBe('0.00 0.00 0.00 1/1 1');
  });

  it('recovers lost packets by retransmission and acknowledges in-order traffic', async () => {
    const { clock, hub, a, b } = await twoNodes();
    clock.advance(3000);
    // Drop node2's next three datagrams to node1, then let the rest through.
    let toDrop = 3;
    hub.dropFilter = (_d, from, to) => from === 'node2' && to === 'node1' && toDrop-- > 0;
    clock.advance(5000);
    expect(a.lines.some((l) => /WARN: \d+ lost packet\(s\) for \[node2\]/.test(l))).toBe(true);
    expect(a.lines).toContain('info: No pkts missing from node2!');
    expect(b.cluster.stats().rexmitSent).toBeGreaterThan(0);
    expect(a.cluster.view('node2')?.status).toBe('active');
    const acks = hub.captured.filter((c) => c.from === 'node1' && c.data.includes('NS_ackmsg'));
    expect(acks.length).toBeGreaterThan(0);
  });

  it('drops replays of old-generation datagrams and counts them', async () => {
    const { clock, hub, a, b } = await twoNodes();
    clock.advance(3000);
    const old = hub.captured.find((c) => c.from === 'node2');
    expect(old).toBeDefined();
    await b.cluster.stop();
    const b2 = await startNode(hub, clock, 'node2', 21);
    clock.advance(3000);
    expect(a.lines).toContain('info: Heartbeat restart on node node2');
    const before = a.auth.snapshot().replay;
    hub.inject(old?.data ?? Buffer.alloc(0));
    expect(a.auth.snapshot().replay).toBe(before + 1);
    expect(a.cluster.view('node2')?.status).toBe('active');
    expect(b2.cluster.view('node1')?.status).toBe('active');
  });

  it('rejects datagrams signed with a wrong key and keeps state unchanged', async () => {
    const { clock, a } = await twoNodes({ authB: 'auth 1\n1 sha1 other-secret\n' });
    clock.advance(12_000);
    expect(a.auth.snapshot()['bad-digest']).toBeGreaterThan(0);
    expect(a.cluster.view('node2')?.status).toBe('dead');
    // initdead passed with only ourselves heard: comm comes up alone.
    expect(a.cluster.me.status).toBe('active');
  });

  it('notices a stalled event loop and defers dead-node decisions', async () => {
    const { clock, a } = await twoNodes();
    clock.advance(3000);
    const stalls: number[] = [];
    a.cluster.on('stalled', (ms) => stalls.push(ms));
    // Both processes frozen: no timer fires and nothing is sent for 20 s.
    clock.jumpWithoutTimers(20_000);
    clock.advance(10);
    expect(stalls.length).toBe(1);
    expect(a.cluster.view('node2')?.status).toBe('active');
    clock.advance(3000);
    expect(a.cluster.view('node2')?.status).toBe('active');
  });
});
