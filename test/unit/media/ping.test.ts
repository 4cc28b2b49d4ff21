import type { MediaLine } from '../../../lib/config/types.js';
/**
 * The ping media with the real raw socket, on loopback only (127.0.0.0/8
 * answers echo requests in the kernel). The namespace tests cover real links,
 * unreachable targets and a tampering responder.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator } from '../../../lib/auth/index.js';
import { parseAuthKeys } from '../../../lib/config/authkeys.js';
import { createMedium, describeMedia } from '../../../lib/media/factory.js';
import { ICMP_ECHO_REPLY, buildEcho } from '../../../lib/media/icmp.js';
import { IcmpSocket, errnoName, findIcmpAddon } from '../../../lib/media/icmp-socket.js';
import type { ReceivedPacket } from '../../../lib/media/medium.js';
import { PingMedium, SEQ_WINDOW, pingPayload } from '../../../lib/media/ping.js';
import { HbError } from '../../../lib/util/errors.js';
import { HaMsg } from '../../../lib/wire/index.js';
import { untilValue as until } from '../until.js';

function authenticator(text = 'auth 1\n1 sha1 ping-secret\n'): Authenticator {
  const r = parseAuthKeys(text, { file: 'authkeys', mode: 0o100600 });
  if (!r.value) throw new Error(JSON.stringify(r.problems));
  return new Authenticator(r.value, { msgfmt: 'classic' });
}

const auth = authenticator();
/** A status heartbeat as the cluster sends it (only t and ts matter to the ping media). */
const status = (ts: string): Buffer =>
  auth.sign(new HaMsg().add('t', 'status').add('st', 'active').add('dt', '7530').add('protocol', '1').add('src', 'node1').add('ts', ts));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An ident no other test process on this host uses at the same time. */
const ident = (process.pid * 7 + 13) & 0xffff;

describe('ping media on loopback', () => {
  const opened: { close(): Promise<void> | void }[] = [];
  afterEach(async () => {
    for (const m of opened.splice(0)) await m.close();
  });

  async function openPing(opts: ConstructorParameters<typeof PingMedium>[0]): Promise<{ m: PingMedium; pkts: ReceivedPacket[]; errors: Error[] }> {
    const m = new PingMedium(opts);
    const pkts: ReceivedPacket[] = [];
    const errors: Error[] = [];
    await m.open((p) => pkts.push(p), (e) => errors.push(e));
    opened.push(m);
    return { m, pkts, errors };
  }

  it('echoes the signed NS_st payload built from the status ts; it authenticates as a heartbeat from the ping host', async () => {
    const { m, pkts, errors } = await openPing({ kind: 'ping', name: '127.0.0.1', hosts: ['127.0.0.1'], signer: auth, ident });
    expect(m.description).toBe('ping heartbeat started.');
    expect(m.linkName).toBe('127.0.0.1');
    m.send(status('6553f1a0'));
    const pkt = await until('echo reply', () => pkts[0]);
    expect(pkt.from).toMatch(/^127\.0\.0\.1 icmp_seq=\d+$/);
    expect(pkt.data.equals(auth.sign(pingPayload('ping', '127.0.0.1', '6553f1a0')))).toBe(true);
    const v = auth.verify(pkt.data);
    expect(v.verdict).toBe('ok');
    if (v.verdict === 'ok') {
      expect(v.msg.fields.map((f) => `${f.name}=${f.value}`)).toEqual([
        't=NS_st', 'st=ping', 'info=ping', 'src=127.0.0.1', 'ts=6553f1a0', `auth=${v.msg.get('auth') ?? ''}`,
      ]);
    }
    expect(m.stats()).toMatchObject({ sent: 1, replies: 1 });
    expect(errors).toEqual([]);
  });

  it('sends nothing for messages other than status heartbeats, nor for undecodable bytes', async () => {
    const { m, pkts } = await openPing({ kind: 'ping', name: '127.0.0.1', hosts: ['127.0.0.1'], signer: auth, ident });
    m.send(auth.sign(new HaMsg().add('t', 'NS_ackmsg').add('src', 'node1').add('ts', '1')));
    m.send(auth.sign(new HaMsg().add('t', 'status').add('st', 'up').add('src', 'node1'))); // no ts
    m.send(Buffer.from('garbage'));
    await sleep(200);
    expect(m.stats().sent).toBe(0);
    expect(pkts).toEqual([]);
  });

  it('ping_group pings every member with one sequence number and delivers each member\'s reply with src = group', async () => {
    const { m, pkts } = await openPing({ kind: 'ping_group', name: 'routers', hosts: ['127.0.0.2', '127.0.0.3'], signer: auth, ident });
    expect(m.description).toBe('ping group heartbeat started.');
    expect(m.linkName).toBe('routers');
    m.send(status('6553f1a1'));
    await until('two replies', () => (pkts.length >= 2 ? true : undefined));
    expect(pkts.map((p) => p.from.split(' ')[0]).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
    const seqs = new Set(pkts.map((p) => p.from.split(' ')[1]));
    expect(seqs.size).toBe(1);
    for (const p of pkts) {
      const v = auth.verify(p.data);
      expect(v.verdict === 'ok' && [v.msg.get('src'), v.msg.get('info'), v.msg.get('st')]).toEqual(['routers', 'ping_group', 'ping']);
    }
  });

  it('takes only replies from its own targets: two media with one ident and the same sequence numbers stay apart', async () => {
    const a = await openPing({ kind: 'ping', name: '127.0.0.4', hosts: ['127.0.0.4'], signer: auth, ident, random: () => 0 });
    const b = await openPing({ kind: 'ping', name: '127.0.0.5', hosts: ['127.0.0.5'], signer: auth, ident, random: () => 0 });
    a.m.send(status('6553f1a2'));
    b.m.send(status('6553f1a2'));
    await until('both replies', () => (a.pkts.length >= 1 && b.pkts.length >= 1 ? true : undefined));
    await sleep(100);
    expect(a.pkts.map((p) => p.from)).toEqual(['127.0.0.4 icmp_seq=0']);
    expect(b.pkts.map((p) => p.from)).toEqual(['127.0.0.5 icmp_seq=0']);
    expect(a.m.stats().ignored).toBeGreaterThanOrEqual(1);
    expect(b.m.stats().ignored).toBeGreaterThanOrEqual(1);
  });

  it('delivers a forged reply with a current sequence number (the authenticator rejects it) but not one with a stale or unknown sequence number', async () => {
    const { m, pkts } = await openPing({ kind: 'ping', name: '127.0.0.1', hosts: ['127.0.0.1'], signer: auth, ident, random: () => 0 });
    // The forger's socket sends echo *replies*, which the kernel does not answer.
    const forger = IcmpSocket.open({ who: 'forger', acceptTypes: [], onDatagram: () => undefined, onError: () => undefined });
    opened.push({ close: () => forger.close() });
    for (let i = 0; i < SEQ_WINDOW + 2; i++) m.send(status((0x6553f000 + i).toString(16)));
    // All sends happen before the first reply is read: the two oldest have left the window.
    await until('the genuine replies', () => (m.stats().replies + m.stats().ignored >= SEQ_WINDOW + 2 ? true : undefined));
    expect(m.stats()).toMatchObject({ sent: SEQ_WINDOW + 2, replies: SEQ_WINDOW });
    expect(m.stats().ignored).toBeGreaterThanOrEqual(2);
    pkts.length = 0;
    const forged = Buffer.from(auth.sign(pingPayload('ping', '127.0.0.1', '6553f0ff')).toString('latin1').replace('st=ping', 'st=pong'), 'latin1');
    const reply = (seq: number, id = ident): Buffer => buildEcho({ type: ICMP_ECHO_REPLY, id, seq, payload: forged });
    expect(forger.send(reply(0), '127.0.0.1')).toBeUndefined(); // fell out of the window
    expect(forger.send(reply(500), '127.0.0.1')).toBeUndefined(); // never sent
    expect(forger.send(reply(SEQ_WINDOW + 1, ident ^ 1), '127.0.0.1')).toBeUndefined(); // someone else's ident
    expect(forger.send(reply(SEQ_WINDOW + 1), '127.0.0.1')).toBeUndefined(); // current: delivered
    const got = await until('the forged reply', () => pkts[0]);
    await sleep(100);
    expect(pkts).toHaveLength(1);
    expect(got.data.equals(forged)).toBe(true);
    expect(auth.verify(got.data).verdict).toBe('bad-digest');
  });

  it('reports an unknown host at open and refuses to open twice', async () => {
    const bad = new PingMedium({ kind: 'ping', name: 'nohost', hosts: ['nohost'], signer: auth, resolve: () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' })) });
    await expect(bad.open(() => undefined, () => undefined)).rejects.toMatchObject({ code: 'MEDIA_PEER_UNRESOLVED', message: 'ping nohost: unknown host: nohost: ENOTFOUND' });
    const { m } = await openPing({ kind: 'ping', name: 'localhost', hosts: ['localhost'], signer: auth, ident });
    expect(m.targets).toEqual(['127.0.0.1']);
    await expect(m.open(() => undefined, () => undefined)).rejects.toMatchObject({ code: 'MEDIA_ALREADY_OPEN' });
  });

  it('after close, send reports MEDIA_NOT_OPEN through the error callback and nothing is delivered', async () => {
    const { m, pkts, errors } = await openPing({ kind: 'ping', name: '127.0.0.1', hosts: ['127.0.0.1'], signer: auth, ident });
    await m.close();
    await m.close();
    const lateErrors: Error[] = [];
    await m.open(() => undefined, (e) => lateErrors.push(e));
    await m.close();
    m.send(status('6553f1a3'));
    await sleep(100);
    expect(pkts).toEqual([]);
    expect(errors).toEqual([]);
    expect(lateErrors).toEqual([]);
  });
});

describe('the raw ICMP socket', () => {
  it('is found above the source tree, and absent above the filesystem root', () => {
    expect(findIcmpAddon()).toMatch(/native\/build\/Release\/hb_icmp\.node$/);
    expect(findIcmpAddon('/')).toBeUndefined();
  });

  it('receives only the accepted types, reports send errors as errno names, and is inert after close', async () => {
    const got: { type: number | undefined; from: string }[] = [];
    const sock = IcmpSocket.open({ who: 'test', acceptTypes: [ICMP_ECHO_REPLY], onDatagram: (d, from) => got.push({ type: d[20], from }), onError: () => undefined });
    try {
      expect(sock.send(buildEcho({ id: ident ^ 0x5a5a, seq: 1, payload: Buffer.from('x') }), '127.0.0.9')).toBeUndefined();
      await until('the reply', () => got.find((g) => g.from === '127.0.0.9'));
      // Our own echo request passed on lo too, but the kernel filter dropped it.
      expect(got.every((g) => g.type === ICMP_ECHO_REPLY)).toBe(true);
      expect(sock.send(Buffer.alloc(8), 'not-an-address')).toBe('EINVAL');
    } finally {
      sock.close();
    }
    sock.close();
    expect(sock.isOpen).toBe(false);
    expect(sock.send(Buffer.alloc(8), '127.0.0.1')).toBe('EBADF');
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(99999)).toBe('errno 99999');
    expect(() => IcmpSocket.open({ who: 'test', acceptTypes: [40], onDatagram: () => undefined, onError: () => undefined })).toThrow(HbError);
  });
});

describe('factory', () => {
  it('builds ping media from ha.cf lines with the signer, and describes them without one', () => {
    const lines: MediaLine[] = [
      { kind: 'ping', host: '10.0.0.254', line: 3 },
      { kind: 'ping_group', group: 'gw', hosts: ['10.0.0.1', '10.0.0.2'], line: 4 },
    ];
    expect(describeMedia(lines)).toEqual(['ping heartbeat started.', 'ping group heartbeat started.']);
    const [p, g] = lines.map((l) => createMedium(l, { signer: auth, pingIdent: 0x10203 }));
    expect([p?.kind, p?.linkName, (p as PingMedium).ident]).toEqual(['ping', '10.0.0.254', 0x0203]);
    expect([g?.kind, g?.linkName]).toEqual(['ping_group', 'gw']);
    expect(() => createMedium(lines[0] as MediaLine)).toThrow(/ping \(ha\.cf line 3\) needs a signer/);
  });
});
