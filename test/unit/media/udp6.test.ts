/**
 * The IPv6 media and the device binding on real sockets over `lo` (the
 * tests run as root, as the daemon does: SO_BINDTODEVICE needs CAP_NET_RAW).
 */
import { createSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BcastMedium } from '../../../lib/media/bcast.js';
import { createMedium, describeMedia } from '../../../lib/media/factory.js';
import { Mcast6Medium } from '../../../lib/media/mcast6.js';
import type { Medium, ReceivedPacket } from '../../../lib/media/medium.js';
import { Ucast6Medium } from '../../../lib/media/ucast6.js';
import { UdpLink } from '../../../lib/media/udp.js';
import { ErrorReporter } from '../../../lib/media/report.js';
import { until } from '../until.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const m of opened.splice(0)) await m.close();
});

/** A port unlikely to be in use on a shared machine. */
const port = (): number => 20000 + Math.floor(Math.random() * 40000);
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

async function openMedium(m: Medium): Promise<ReceivedPacket[]> {
  const got: ReceivedPacket[] = [];
  const errors: Error[] = [];
  await m.open((p) => got.push(p), (e) => errors.push(e));
  opened.push(m);
  return got;
}

describe('descriptions as the 3.0.6 plugins log them', () => {
  it('ucast6 canonical peer, %dev on link-local; mcast6 group, port, hops, loop', () => {
    expect(new Ucast6Medium({ iface: 'eth0', peer: 'FD77:0::2', port: 694 }).description).toBe('ucast6: heartbeat started for [fd77::2]:694 on interface eth0');
    expect(new Ucast6Medium({ iface: 'eth1', peer: 'fe80::1', scope: 'eth1', port: 7000 }).description).toBe('ucast6: heartbeat started for [fe80::1%eth1]:7000 on interface eth1');
    expect(new Mcast6Medium({ iface: 'eth0', group: 'ff12::694:1', port: 694, hops: 1, loop: false }).description).toBe('UDP multicast heartbeat started for [ff12::694:1]:694 on interface eth0 (hops=1 loop=0)');
    expect(describeMedia([
      { kind: 'ucast6', iface: 'eth0', peer: 'fd77::2', port: 694, line: 3 },
      { kind: 'mcast6', iface: 'eth0', group: 'ff05::1', port: 700, hops: 4, loop: true, line: 4 },
      { kind: 'ping6', host: 'fd77::fe', line: 5 },
    ])).toEqual([
      'ucast6: heartbeat started for [fd77::2]:694 on interface eth0',
      'UDP multicast heartbeat started for [ff05::1]:700 on interface eth0 (hops=4 loop=1)',
      'ping heartbeat started.',
    ]);
  });

  it('a missing device is an open error naming it, as the plugins say it', async () => {
    const m = createMedium({ kind: 'ucast6', iface: 'nosuchif0', peer: 'fd77::2', port: port(), line: 1 });
    await expect(m.open(() => undefined, () => undefined)).rejects.toThrow(/ucast6: device \[nosuchif0\] is invalid or not set up properly/);
    const g = createMedium({ kind: 'mcast6', iface: 'nosuchif0', group: 'ff12::1', port: port(), hops: 1, loop: false, line: 1 });
    await expect(g.open(() => undefined, () => undefined)).rejects.toMatchObject({ code: 'MEDIA_IFACE_NOT_FOUND' });
  });
});

describe('sockets tied to their interface', () => {
  it('ucast6 on lo hears what it sends to ::1, and only once', async () => {
    const m = new Ucast6Medium({ iface: 'lo', peer: '::1', port: port() });
    const got = await openMedium(m);
    m.send(Buffer.from('t=status'));
    await until('the datagram', () => got.length > 0);
    await settle(); // a second copy would come now
    expect(got.map((p) => p.data.toString())).toEqual(['t=status']);
    expect(got[0]?.from).toMatch(/^\[::1\]:\d+$/);
  });

  it('bcast hears a datagram unicast to the node\'s own address on the port, as 3.0.6', async () => {
    const p = port();
    const m = new BcastMedium({ iface: 'lo', port: p });
    const got = await openMedium(m);
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.send(Buffer.from('t=unicast'), p, '127.0.0.1', () => r()));
    s.close();
    await until('the datagram', () => got.length > 0);
    await settle();
    expect(got.map((x) => x.data.toString())).toEqual(['t=unicast']);
  });

  it('a link bound to another device does not hear datagrams that arrived on lo', async () => {
    const p = port();
    const reporter = new ErrorReporter();
    const heard: Record<string, string[]> = { lo: [], other: [] };
    const other = readdirSync('/sys/class/net').sort().find((d) => d !== 'lo');
    expect(other, 'a second network device on this host').toBeDefined();
    for (const [name, dev] of [['lo', 'lo'], ['other', other ?? 'eth0']] as const) {
      const link = new UdpLink({ who: `test ${dev}`, recvAddress: '0.0.0.0', port: p, bindDevice: dev, destAddress: '127.0.0.1', destPort: p }, reporter);
      await link.open((pkt) => heard[name]?.push(pkt.data.toString()));
      opened.push(link);
    }
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.send(Buffer.from('on lo'), p, '127.0.0.1', () => r()));
    s.close();
    await until('the datagram on lo', () => (heard['lo']?.length ?? 0) > 0);
    await settle(); // the other device's link would hear it by now
    expect(heard).toEqual({ lo: ['on lo'], other: [] });
  });
});
