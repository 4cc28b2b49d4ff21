import { describe, expect, it } from 'vitest';
import { formatIpv6, isLinkLocal6, mcast6Refusal, parseIpv6, ucast6Refusal } from '../../../lib/util/inet6.js';

const canon = (t: string): string | undefined => {
  const b = parseIpv6(t);
  return b === undefined ? undefined : formatIpv6(b);
};

describe('parseIpv6 / formatIpv6 (inet_pton / inet_ntop)', () => {
  it.each([
    ['2001:DB8:0:0:0:0:0:2', '2001:db8::2'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
    ['fe80::0001', 'fe80::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['::10.0.0.1', '::10.0.0.1'],
    ['FF12::694:1', 'ff12::694:1'],
  ])('%s -> %s', (text, expected) => {
    expect(canon(text)).toBe(expected);
  });

  it.each(['', 'fe80::1%eth0', '10.0.0.1', 'fe80::1::2', '12345::', 'g::1', 'node2'])('refuses %j', (text) => {
    expect(parseIpv6(text)).toBeUndefined();
  });
});

describe('plausibility rules of the ucast6 and mcast6 plugins', () => {
  const b = (t: string): Uint8Array => parseIpv6(t) ?? new Uint8Array(16);
  it('ucast6: unicast peers only', () => {
    expect(ucast6Refusal(b('fd77::2'))).toBeUndefined();
    expect(ucast6Refusal(b('fe80::2'))).toBeUndefined();
    expect(ucast6Refusal(b('ff02::1'))).toMatch(/multicast/);
    expect(ucast6Refusal(b('::'))).toMatch(/unspecified/);
    expect(ucast6Refusal(b('::1'))).toMatch(/loopback/);
    expect(isLinkLocal6(b('fe80::2'))).toBe(true);
    expect(isLinkLocal6(b('febf::2'))).toBe(true);
    expect(isLinkLocal6(b('fec0::2'))).toBe(false);
  });
  it('mcast6: link, admin, site or organization scope, transient flag allowed, not all-zero', () => {
    for (const ok of ['ff02::694', 'ff12::1:2:3:4', 'ff04::1', 'ff05::1', 'ff08::1', 'ff18::1']) expect(mcast6Refusal(b(ok)), ok).toBeUndefined();
    for (const bad of ['fd00::1', 'ff01::1', 'ff03::1', 'ff0e::1', 'ff0f::1', 'ff22::1', 'ff02::']) expect(mcast6Refusal(b(bad)), bad).toBeDefined();
  });
});
