import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ICMP6_ECHO_REPLY, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, buildEcho, inetChecksum, parseIcmp6Echo, parseIpv4Echo } from '../../../lib/media/icmp.js';

/** An IPv4 header (no options unless given) in front of `icmp`, as a raw socket delivers it. */
function ipv4(icmp: Buffer, opts: { src?: number[]; options?: Buffer; proto?: number; version?: number; totalLen?: number } = {}): Buffer {
  const options = opts.options ?? Buffer.alloc(0);
  const hdr = Buffer.alloc(20 + options.length);
  hdr[0] = ((opts.version ?? 4) << 4) | ((20 + options.length) / 4);
  hdr.writeUInt16BE(opts.totalLen ?? hdr.length + icmp.length, 2);
  hdr[8] = 64;
  hdr[9] = opts.proto ?? 1;
  Buffer.from(opts.src ?? [10, 0, 0, 254]).copy(hdr, 12);
  Buffer.from([10, 0, 0, 1]).copy(hdr, 16);
  options.copy(hdr, 20);
  return Buffer.concat([hdr, icmp]);
}

describe('inetChecksum (RFC 1071)', () => {
  it('matches the RFC 1071 worked example and hand-computed values', () => {
    // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2, checksum ~0xddf2.
    expect(inetChecksum(Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(~0xddf2 & 0xffff);
    expect(inetChecksum(Buffer.alloc(0))).toBe(0xffff);
    expect(inetChecksum(Buffer.from([0xff, 0xff]))).toBe(0);
    // Odd length: the last byte is the high byte of a zero-padded word.
    expect(inetChecksum(Buffer.from([0x12, 0x34, 0x56]))).toBe(~(0x1234 + 0x5600) & 0xffff);
    // Carries fold back: 0xffff + 0x0001 = 0x10000 -> 0x0001.
    expect(inetChecksum(Buffer.from([0xff, 0xff, 0x00, 0x01]))).toBe(~0x0001 & 0xffff);
  });

  it('a message containing its own checksum sums to zero', () => {
    for (const len of [0, 1, 7, 100, 301]) {
      const pkt = buildEcho({ id: 0x1234, seq: 7, payload: Buffer.alloc(len, 0xa5) });
      expect(inetChecksum(pkt)).toBe(0);
    }
  });
});

describe('buildEcho', () => {
  it('lays out type, code, checksum, identifier (host order, as heartbeat), sequence (network order), payload', () => {
    const pkt = buildEcho({ id: 0xbeef, seq: 0x0102, payload: Buffer.from('hello') });
    expect(pkt.length).toBe(13);
    expect(pkt[0]).toBe(ICMP_ECHO_REQUEST);
    expect(pkt[1]).toBe(0);
    const id = endianness() === 'LE' ? pkt.readUInt16LE(4) : pkt.readUInt16BE(4);
    expect(id).toBe(0xbeef);
    expect(pkt.readUInt16BE(6)).toBe(0x0102);
    expect(pkt.subarray(8).toString()).toBe('hello');
    // Checksum as computed over the packet with a zero checksum field.
    const zeroed = Buffer.from(pkt);
    zeroed.writeUInt16BE(0, 2);
    expect(pkt.readUInt16BE(2)).toBe(inetChecksum(zeroed));
  });

  it('masks identifier and sequence to 16 bits and can build replies', () => {
    const pkt = buildEcho({ type: ICMP_ECHO_REPLY, id: 0x12345, seq: 0x10001, payload: Buffer.alloc(0) });
    expect(pkt[0]).toBe(ICMP_ECHO_REPLY);
    expect(pkt.readUInt16BE(6)).toBe(1);
    const r = parseIpv4Echo(ipv4(pkt));
    expect(r.ok && r.echo.id).toBe(0x2345);
  });
});

describe('parseIpv4Echo', () => {
  const payload = Buffer.from('###\n(1)t=NS_st\n%%%\n');
  const reply = buildEcho({ type: ICMP_ECHO_REPLY, id: 4242, seq: 65535, payload });

  it('parses a reply behind a plain header and behind a header with options', () => {
    for (const options of [Buffer.alloc(0), Buffer.from([1, 1, 1, 0])]) {
      const r = parseIpv4Echo(ipv4(reply, { options, src: [192, 0, 2, 9] }));
      expect(r).toEqual({ ok: true, source: '192.0.2.9', echo: { type: 0, code: 0, id: 4242, seq: 65535, payload } });
    }
  });

  it('ignores link padding beyond the IPv4 total length', () => {
    const padded = Buffer.concat([ipv4(reply), Buffer.alloc(6)]);
    const r = parseIpv4Echo(padded);
    expect(r.ok && r.echo.payload.equals(payload)).toBe(true);
  });

  it('refuses a corrupted message (bad checksum)', () => {
    const bad = Buffer.from(reply);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    expect(parseIpv4Echo(ipv4(bad))).toEqual({ ok: false, reason: 'bad ICMP checksum' });
  });

  it('refuses what is not an IPv4 ICMP echo message, with a reason', () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(10), /too short for an IPv4 header/],
      [ipv4(reply, { version: 6 }), /not IPv4/],
      [ipv4(reply, { proto: 17 }), /not ICMP/],
      [ipv4(reply.subarray(0, 6)), /ICMP message too short/],
      [ipv4(buildEcho({ type: 3, id: 1, seq: 1, payload })), /not an echo message \(type 3\)/],
    ];
    for (const [buf, reason] of cases) {
      const r = parseIpv4Echo(buf);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    }
    const shortIhl = ipv4(reply);
    shortIhl[0] = 0x44;
    expect(parseIpv4Echo(shortIhl)).toEqual({ ok: false, reason: 'bad IPv4 header length 16' });
  });

  it('never throws on arbitrary bytes', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(Array.from({ length: rnd() % 80 }, rnd));
      if (buf.length > 0) buf[0] = 0x45;
      expect(() => parseIpv4Echo(buf)).not.toThrow();
    }
  });
});

describe('ICMPv6 echo (ping6)', () => {
  it('parses a reply as the raw ICMPv6 socket hands it (no IP header), identifier in host order like ping', () => {
    const req = buildEcho({ type: ICMP6_ECHO_REPLY, id: 0x1234, seq: 7, payload: Buffer.from('t=NS_st') });
    const r = parseIcmp6Echo(req, 'fd77::3');
    expect(r).toMatchObject({ ok: true, source: 'fd77::3', echo: { type: ICMP6_ECHO_REPLY, id: 0x1234, seq: 7 } });
    if (r.ok) expect(r.echo.payload.toString()).toBe('t=NS_st');
    expect(parseIcmp6Echo(Buffer.alloc(4), 'fd77::3')).toMatchObject({ ok: false });
    expect(parseIcmp6Echo(buildEcho({ type: 1, id: 1, seq: 1, payload: Buffer.alloc(0) }), 'fd77::3')).toMatchObject({ ok: false });
  });
});
