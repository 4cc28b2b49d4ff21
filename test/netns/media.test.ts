/**
 * The UDP media on real links: two lab nodes A (1) and B (2) on three LANs
 * (eth0 10.231.1.0/24, eth1 10.231.2.0/24, eth2 10.231.3.0/24), with an
 * agent process in each running the compiled media (see media-support.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';
import { MediaAgent, sleep } from './media-support.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = join(ROOT, 'test', 'netns', 'fixtures', 'media-agent.mjs');
const DIST = join(ROOT, 'dist');
let lab: Lab | undefined;
/** Node A = 1, B = 2; address of a node on LAN k (eth<k>). */
const ip = (id: 1 | 2, lan = 0): string => {
  if (lab === undefined) throw new Error('lab not up');
  return lab.ip(id, lan);
};
/** A datagram's source, `address:port`, from node id's eth0. */
const fromNode = (id: 1 | 2): RegExp => new RegExp(`^${ip(id).replace(/\./g, '\\.')}:\\d+$`);
const inNode = async (id: 1 | 2, argv: string[], input?: string) => {
  if (lab === undefined) throw new Error('lab not up');
  return lab.exec(id, argv, input !== undefined ? { input } : {});
};
/** How long we wait before concluding that a datagram will not arrive. */
const GRACE_MS = 700;

let a: MediaAgent | undefined;
let b: MediaAgent | undefined;

function agents(): { a: MediaAgent; b: MediaAgent } {
  if (a === undefined || b === undefined) throw new Error('lab not up');
  return { a, b };
}

const bcast = (iface: string) => ({ kind: 'bcast', iface, port: 694, line: 1 });
const ucast = (iface: string, peer: string) => ({ kind: 'ucast', iface, peer, port: 694, line: 1 });
const mcast = (iface: string, loop: boolean) => ({ kind: 'mcast', iface, group: '239.192.77.1', port: 694, ttl: 1, loop, line: 1 });
const sourcePort = (from: string): number => Number(from.split(':')[1]);

beforeAll(async () => {
  // The agents import dist/, built by `npm test` before the run (rebuilding
  // here would rewrite files under the feet of tests running in parallel).
  if (!existsSync(join(DIST, 'lib', 'media', 'factory.js'))) {
    throw new Error('dist/lib/media/factory.js missing: run `npm run build` first');
  }
  lab = await Lab.up({ nodes: 2, lans: 3, subnet: '10.231.1' });
  a = await MediaAgent.start(lab, 1, DIST, FIXTURE);
  b = await MediaAgent.start(lab, 2, DIST, FIXTURE);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await lab?.down();
}, 60_000);

describe('bcast', () => {
  it('crosses between namespaces both ways, and each node hears its own broadcasts', async () => {
    const { a, b } = agents();
    const opened = await a.mustOpen('a0', bcast('eth0'));
    expect(opened.description).toBe('UDP Broadcast heartbeat started on port 694 (694) interface eth0');
    expect(opened.linkName).toBe('eth0');
    await b.mustOpen('b0', bcast('eth0'));

    a.send('a0', 'from-a-eth0');
    const atB = await b.waitPacket('b0', 'from-a-eth0');
    expect(atB.from).toMatch(fromNode(1));
    // The send socket has an ephemeral port, like heartbeat's unbound one.
    expect(sourcePort(atB.from ?? '')).not.toBe(694);
    await a.waitPacket('a0', 'from-a-eth0');

    b.send('b0', 'from-b-eth0');
    expect((await a.waitPacket('a0', 'from-b-eth0')).from).toMatch(fromNode(2));
    await b.waitPacket('b0', 'from-b-eth0');
    expect(a.errors('a0')).toEqual([]);
    expect(b.errors('b0')).toEqual([]);
  }, 30_000);

  it('keeps two interfaces of one namespace apart', async () => {
    const { a, b } = agents();
    await a.mustOpen('a1', bcast('eth1'));
    await b.mustOpen('b1', bcast('eth1'));

    a.send('a0', 'a-on-eth0');
    b.send('b1', 'b-on-eth1');
    await b.waitPacket('b0', 'a-on-eth0');
    await a.waitPacket('a0', 'a-on-eth0');
    await a.waitPacket('a1', 'b-on-eth1');
    await b.waitPacket('b1', 'b-on-eth1');
    await sleep(GRACE_MS);
    const texts = (ag: MediaAgent, id: string) => ag.packets(id).map((p) => p.text);
    expect(texts(a, 'a1')).not.toContain('a-on-eth0');
    expect(texts(b, 'b1')).not.toContain('a-on-eth0');
    expect(texts(a, 'a0')).not.toContain('b-on-eth1');
    expect(texts(b, 'b0')).not.toContain('b-on-eth1');
  }, 30_000);

  it('hears what 3.0.6\'s 0.0.0.0%dev socket hears: subnet and limited broadcasts, unicast to its own address; only on its link', async () => {
    const { a } = agents();
    // What a real heartbeat peer does: unbound socket, SO_BROADCAST, to eth0's broadcast address.
    const sent = await inNode(2, ['socat', '-u', 'STDIN', `UDP4-DATAGRAM:${ip(1).replace(/\.\d+$/, '.255')}:694,broadcast`], 'socat-bcast');
    expect(sent.code).toBe(0);
    const limited = await inNode(2, ['socat', '-u', 'STDIN', 'UDP4-DATAGRAM:255.255.255.255:694,broadcast,so-bindtodevice=eth0'], 'limited-bcast');
    expect(limited.code).toBe(0);
    // A peer with `ucast eth0 10.231.1.1` while we use bcast (issue 12).
    const unicast = await inNode(2, ['socat', '-u', 'STDIN', `UDP4-DATAGRAM:${ip(1)}:694`], 'unicast-to-a');
    expect(unicast.code).toBe(0);
    const got = await a.waitPacket('a0', 'socat-bcast');
    expect(got.from).toMatch(fromNode(2));
    expect(sourcePort(got.from ?? '')).not.toBe(694);
    await a.waitPacket('a0', 'limited-bcast');
    await a.waitPacket('a0', 'unicast-to-a');
    await sleep(GRACE_MS);
    // The eth1 medium heard none of it: each bcast socket is tied to its device.
    const onEth1 = a.packets('a1').map((p) => p.text);
    for (const text of ['socat-bcast', 'limited-bcast', 'unicast-to-a']) expect(onEth1).not.toContain(text);

    for (const [ag, id] of [[a, 'a0'], [a, 'a1'], [agents().b, 'b0'], [agents().b, 'b1']] as const) await ag.close(id);
  }, 30_000);
});

describe('ucast', () => {
  it('crosses both ways; a line pointing at our own address is harmless', async () => {
    const { a, b } = agents();
    const opened = await a.mustOpen('au0', ucast('eth0', ip(2)));
    expect(opened.description).toBe(`ucast: started on port 694 interface eth0 to ${ip(2)}`);
    await b.mustOpen('bu0', ucast('eth0', ip(1)));
    // Identical ha.cf on both nodes: A's eth1 line names A itself.
    await a.mustOpen('au1', ucast('eth1', ip(1, 1)));
    await b.mustOpen('bu1', ucast('eth1', ip(1, 1)));

    a.send('au0', 'u-a-to-b');
    const atB = await b.waitPacket('bu0', 'u-a-to-b');
    expect(atB.from).toMatch(fromNode(1));
    expect(sourcePort(atB.from ?? '')).not.toBe(694);
    b.send('bu0', 'u-b-to-a');
    await a.waitPacket('au0', 'u-b-to-a');

    a.send('au1', 'u-a-to-self');
    b.send('bu1', 'u-b-to-a-eth1');
    await a.waitPacket('au1', 'u-b-to-a-eth1');
    await sleep(GRACE_MS);
    // Heartbeat never hears its own ucast (spec 11.3: own ucast links are dead); neither do we.
    expect(a.packets('au1').map((p) => p.text)).not.toContain('u-a-to-self');
    expect(a.packets('au0').map((p) => p.text)).not.toContain('u-b-to-a-eth1');
    expect(b.packets('bu1').map((p) => p.text)).not.toContain('u-a-to-self');
    for (const [ag, id] of [[a, 'au0'], [a, 'au1'], [b, 'bu0'], [b, 'bu1']] as const) {
      expect(ag.errors(id)).toEqual([]);
    }

    // A real peer's unicast from an ephemeral port.
    const sent = await inNode(2, ['socat', '-u', 'STDIN', `UDP4-DATAGRAM:${ip(1)}:694`], 'socat-ucast');
    expect(sent.code).toBe(0);
    expect((await a.waitPacket('au0', 'socat-ucast')).from).toMatch(fromNode(2));
    for (const [ag, id] of [[a, 'au0'], [a, 'au1'], [b, 'bu0'], [b, 'bu1']] as const) await ag.close(id);
  }, 30_000);

  it('resolves a host name once at open and reports one that does not resolve', async () => {
    const { a } = agents();
    const named = await a.mustOpen('un', ucast('lo', 'localhost'));
    expect(named.description).toBe('ucast: started on port 694 interface lo to 127.0.0.1');
    await a.close('un');
    const bad = await a.open('ubad', ucast('eth0', 'hbts-no-such-host.invalid'));
    expect(bad.ev).toBe('openFailed');
    expect(bad.code).toBe('MEDIA_PEER_UNRESOLVED');
    expect(bad.message).toMatch(/^ucast eth0: cannot resolve peer hbts-no-such-host\.invalid: /);
  }, 30_000);
});

describe('mcast', () => {
  it('delivers to the peer, and back to ourselves only with loop 1', async () => {
    const { a, b } = agents();
    const opened = await a.mustOpen('am', mcast('eth0', false));
    expect(opened.description).toBe('UDP multicast heartbeat started for group 239.192.77.1 port 694 interface eth0 (ttl=1 loop=0)');
    await b.mustOpen('bm', mcast('eth0', true));

    a.send('am', 'm-from-a');
    b.send('bm', 'm-from-b');
    expect((await b.waitPacket('bm', 'm-from-a')).from).toMatch(fromNode(1));
    expect((await a.waitPacket('am', 'm-from-b')).from).toMatch(fromNode(2));
    await b.waitPacket('bm', 'm-from-b');
    await sleep(GRACE_MS);
    expect(a.packets('am').map((p) => p.text)).not.toContain('m-from-a');

    const sent = await inNode(2, ['socat', '-u', 'STDIN', `UDP4-DATAGRAM:239.192.77.1:694,ip-multicast-if=${ip(2)}`], 'socat-mcast');
    expect(sent.code).toBe(0);
    await a.waitPacket('am', 'socat-mcast');
    expect(a.errors('am')).toEqual([]);
    await a.close('am');
    await b.close('bm');
  }, 30_000);
});

describe('failures', () => {
  it('names a missing interface and the known ones', async () => {
    const { a } = agents();
    const ev = await a.open('x9', bcast('eth9'));
    expect(ev.ev).toBe('openFailed');
    expect(ev.code).toBe('MEDIA_IFACE_NOT_FOUND');
    expect(ev.message).toBe('bcast: interface eth9 not found (known: lo, eth0, eth1, eth2)');
  }, 30_000);

  it('reports a failing send once per interval instead of once per packet', async () => {
    const { a } = agents();
    await a.mustOpen('big', bcast('eth0'));
    const huge = Buffer.alloc(70_000, 0x41); // above the UDP payload limit: EMSGSIZE
    for (let i = 0; i < 20; i++) a.send('big', huge);
    a.send('big', 'after-the-failures');
    await a.waitPacket('big', 'after-the-failures');
    await sleep(GRACE_MS);
    const errs = a.errors('big');
    expect(errs).toHaveLength(1);
    expect(errs[0]?.code).toBe('MEDIA_SEND_FAILED');
    expect(errs[0]?.message).toMatch(/^bcast eth0: cannot send 70000 bytes to 10\.231\.1\.255:694: EMSGSIZE/);
    await a.close('big');
  }, 30_000);

  it('opens on a link without carrier (not listed by Node) and works once the carrier comes', async () => {
    const { a, b } = agents();
    // A's cable on LAN 2 pulled: eth2 is up without carrier
    await lab?.cut(1, 'link', 2);
    expect((await inNode(1, ['ip', '-o', 'link', 'show', 'eth2'])).stdout).toContain('NO-CARRIER');
    await a.mustOpen('nc', bcast('eth2'));
    await lab?.heal(1);
    await b.mustOpen('nc', bcast('eth2'));
    // Carrier comes a moment later: resend until one gets through.
    for (let i = 0; i < 50 && !a.packets('nc').some((p) => p.text === 'carrier'); i++) {
      b.send('nc', 'carrier');
      await sleep(100);
    }
    await a.waitPacket('nc', 'carrier');
    await a.close('nc');
    await b.close('nc');
  }, 30_000);

  it('close() releases every socket', async () => {
    const { a } = agents();
    await a.mustOpen('c0', bcast('eth0'));
    await a.mustOpen('c1', mcast('eth1', true));
    const before = await inNode(1, ['ss', '-uanp']);
    expect(before.stdout).toContain(`pid=${a.pid},`);
    await a.close('c0');
    await a.close('c1');
    const after = await inNode(1, ['ss', '-uanp']);
    expect(after.stdout).not.toContain(`pid=${a.pid},`);
  }, 30_000);
});
