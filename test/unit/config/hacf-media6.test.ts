import { describe, expect, it } from 'vitest';
import { errors, parse, parseWith, soleError } from './hacf-helpers.js';

describe('ucast6', () => {
  it('reads device and peer; canonical address, udpport latched at the first ucast6 line', () => {
    const p = parse('node node1 node2\nudpport 7001\nucast6 eth0 2001:DB8:0:0::0002\nucast6 eth1 fe80::1%eth1\nudpport 7002\n');
    expect(p.cfg.media).toEqual([
      { kind: 'ucast6', iface: 'eth0', peer: '2001:db8::2', port: 7001, line: 3 },
      { kind: 'ucast6', iface: 'eth1', peer: 'fe80::1', scope: 'eth1', port: 7001, line: 4 },
    ]);
    expect(p.problems.find((x) => x.code === 'HACF_ORDER')).toMatchObject({ line: 5 });
    expect(errors(p)).toEqual([]);
  });

  it('is a medium: the file needs no other', () => {
    const p = parse('node node1\nucast6 eth0 fd00::2\n');
    expect(p.problems.map((x) => x.code)).not.toContain('HACF_NO_MEDIA');
    expect(p.problems.map((x) => x.code)).not.toContain('HACF_UNIMPLEMENTED');
    expect(p.cfg.unimplemented).toEqual([]);
  });

  it.each([
    ['', 'ucast6 statement without device'],
    ['eth0', 'ucast6 [eth0] missing ucast6 address'],
    ['eth0 node2', 'ucast6 [eth0] bad addr [node2]: not a numeric IPv6 address'],
    ['eth0 10.0.0.2', 'ucast6 [eth0] bad addr [10.0.0.2]'],
    ['eth0 ff02::1', 'ucast6 [eth0] bad addr [ff02::1]: a multicast address'],
    ['eth0 ::', 'ucast6 [eth0] bad addr [::]: the unspecified address'],
    ['eth0 ::1', 'ucast6 [eth0] bad addr [::1]: the loopback address'],
    ['eth0 2001:db8::1%eth0', 'only meaningful on a link-local'],
    ['eth0 fe80::1%eth1', 'the scope must be the device eth0'],
    ['eth0 fe80::1::2', 'bad addr [fe80::1::2]'],
  ])('ucast6 %s is rejected with its line', (args, message) => {
    const p = parseWith(`ucast6 ${args}\n`);
    expect(soleError(p, 'HACF_BAD_MEDIA', 6).message).toContain(message);
  });

  it('warns about extra arguments', () => {
    const p = parseWith('ucast6 eth0 fd00::2 fd00::3\n');
    expect(errors(p)).toEqual([]);
    expect(p.problems.find((x) => x.code === 'HACF_EXTRA_ARGS')).toMatchObject({ line: 6, severity: 'warning' });
  });
});

describe('mcast6', () => {
  it('reads all five arguments; a service name is a port', () => {
    const p = parseWith('mcast6 eth0 FF12::1:2:3:4 694 1 0\nmcast6 eth1 ff05::abcd ha-cluster 4 1\n', {
      services: new Map([['ha-cluster', 694]]),
    });
    expect(errors(p)).toEqual([]);
    expect(p.cfg.media.slice(1)).toEqual([
      { kind: 'mcast6', iface: 'eth0', group: 'ff12::1:2:3:4', port: 694, hops: 1, loop: false, line: 6 },
      { kind: 'mcast6', iface: 'eth1', group: 'ff05::abcd', port: 694, hops: 4, loop: true, line: 7 },
    ]);
  });

  it.each([
    ['', 'mcast6 statement without device'],
    ['eth0', 'mcast6 [eth0] missing mcast6 address'],
    ['eth0 fd00::1 694 1 0', 'bad addr [fd00::1]: not a multicast address'],
    ['eth0 ff01::1 694 1 0', 'bad addr [ff01::1]: scope 1 is not allowed'],
    ['eth0 ff0e::1 694 1 0', 'bad addr [ff0e::1]: scope e is not allowed'],
    ['eth0 ff32::1 694 1 0', 'bad addr [ff32::1]: only the transient flag'],
    ['eth0 ff02:: 694 1 0', 'bad addr [ff02::]: the group id is all zeros'],
    ['eth0 225.0.0.1 694 1 0', 'bad addr [225.0.0.1]: not a numeric IPv6 address'],
    ['eth0 ff02::694', 'mcast6 [eth0] missing port'],
    ['eth0 ff02::694 0 1 0', 'bad port [0]'],
    ['eth0 ff02::694 65536 1 0', 'bad port [65536]'],
    ['eth0 ff02::694 nosuchservice 1 0', 'bad port [nosuchservice]'],
    ['eth0 ff02::694 694', 'mcast6 [eth0] missing hops'],
    ['eth0 ff02::694 694 5 0', 'bad hops [5]: the hops must be 0-4'],
    ['eth0 ff02::694 694 1', 'mcast6 [eth0] missing loop'],
    ['eth0 ff02::694 694 1 2', 'bad loop [2]: loop must be 0 or 1'],
  ])('mcast6 %s is rejected with its line', (args, message) => {
    const p = parseWith(`mcast6 ${args}\n`);
    expect(soleError(p, 'HACF_BAD_MEDIA', 6).message).toContain(message);
  });
});

describe('ping6', () => {
  it('makes each address a ping node', () => {
    const p = parseWith('ping6 2001:db8::fe fd00::FE\n');
    expect(errors(p)).toEqual([]);
    expect(p.cfg.media.slice(1)).toEqual([
      { kind: 'ping6', host: '2001:db8::fe', line: 6 },
      { kind: 'ping6', host: 'fd00::fe', line: 6 },
    ]);
  });

  it('refuses host names and IPv4 with the line', () => {
    expect(soleError(parseWith('ping6 router\n'), 'HACF_BAD_MEDIA', 6).message).toContain('ping6: bad address [router]');
    expect(soleError(parseWith('ping6 10.0.0.1\n'), 'HACF_BAD_MEDIA', 6).message).toContain('ping6: bad address [10.0.0.1]');
  });
});
