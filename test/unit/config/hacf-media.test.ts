import { describe, expect, it } from 'vitest';
import { parseInetAddr } from '../../../lib/config/media.js';
import { errors, only, parse, parseWith, soleError } from './hacf-helpers.js';

describe('mcast', () => {
  it('reads all five arguments', () => {
    const p = parseWith('mcast eth1 225.0.0.1 694 1 0\nmcast eth2 239.255.255.255 7000 4 1\n');
    expect(errors(p)).toEqual([]);
    expect(p.cfg.media.slice(1)).toEqual([
      { kind: 'mcast', iface: 'eth1', group: '225.0.0.1', port: 694, ttl: 1, loop: false, line: 6 },
      { kind: 'mcast', iface: 'eth2', group: '239.255.255.255', port: 7000, ttl: 4, loop: true, line: 7 },
    ]);
  });

  it.each([
    ['eth1', 'mcast [eth1] missing mcast address'],
    ['eth1 10.0.0.1 694 1 0', 'mcast [eth1] bad addr [10.0.0.1]: the group must be a class-D address'],
    ['eth1 240.0.0.1 694 1 0', 'mcast [eth1] bad addr [240.0.0.1]'],
    ['eth1 group 694 1 0', 'mcast [eth1] bad addr [group]'],
    ['eth1 225.0.0.1', 'mcast [eth1] missing port'],
    ['eth1 225.0.0.1 0 1 0', 'mcast [eth1] bad port [0]: the port must be 1-65535'],
    ['eth1 225.0.0.1 65536 1 0', 'mcast [eth1] bad port [0]'],
    ['eth1 225.0.0.1 694', 'mcast [eth1] missing ttl'],
    ['eth1 225.0.0.1 694 5 0', 'mcast [eth1] bad ttl [5]: the ttl must be 0-4'],
    ['eth1 225.0.0.1 694 255 0', 'mcast [eth1] bad ttl [255]'],
    ['eth1 225.0.0.1 694 1', 'mcast [eth1] missing loop'],
    ['eth1 225.0.0.1 694 1 2', 'mcast [eth1] bad loop [2]: loop must be 0 or 1'],
  ])('mcast %s is rejected', (args, message) => {
    const p = parseWith(`mcast ${args}\n`);
    expect(soleError(p, 'HACF_BAD_MEDIA', 6).message).toContain(message);
    expect(p.cfg.media).toHaveLength(1);
  });

  it('wraps numbers like the C plugin (u_char ttl) and says so', () => {
    const p = parseWith('mcast eth1 225.0.0.1 694 260 0\n');
    expect(errors(p)).toEqual([]);
    expect(p.cfg.media[1]).toMatchObject({ ttl: 4 });
    expect(only(p, 'HACF_LAX_NUMBER').message).toBe('mcast ttl [260] does not fit; heartbeat reads it as 4');
  });

  it('accepts inet_addr forms of the group and stores dotted quads', () => {
    const p = parseWith('mcast eth1 0xe1000001 694 1 0\n');
    expect(p.cfg.media[1]).toMatchObject({ group: '225.0.0.1' });
    expect(parseInetAddr('225.1')).toBe(0xe1000001);
    expect(parseInetAddr('010.0.0.1')).toBe(0x08000001);
    expect(parseInetAddr('1.2.3.256')).toBeUndefined();
    expect(parseInetAddr('1.2.3.4.5')).toBeUndefined();
    expect(parseInetAddr('')).toBeUndefined();
  });

  it('accepts an empty mcast line as heartbeat does, with a warning', () => {
    const p = parseWith('mcast\n');
    expect(errors(p)).toEqual([]);
    expect(only(p, 'HACF_NO_VALUE').line).toBe(6);
  });
});

describe('media ports, baud and order', () => {
  it('applies udpport to the media after it', () => {
    const p = parse('node node1\nudpport 700\nbcast eth0\nucast eth1 10.0.0.2\nauto_failback on\n');
    expect(p.cfg.media.map((m) => ('port' in m ? m.port : 0))).toEqual([700, 700]);
    expect(p.cfg.udpport).toBe(700);
    expect(p.cfg.raw['udpport']).toBe('700');
  });

  it('keeps the port latched by the first bcast and warns when udpport comes late', () => {
    const p = parse('node node1\nbcast eth0\nudpport 700\nbcast eth1\nucast eth2 10.0.0.2\nauto_failback on\n');
    expect(p.cfg.media.map((m) => ('port' in m ? m.port : 0))).toEqual([694, 694, 700]);
    expect(only(p, 'HACF_ORDER')).toMatchObject({ line: 3, severity: 'warning' });
    expect(only(p, 'HACF_ORDER').message).toBe('udpport setting must precede media statements: the media above keep port 694');
  });

  it('warns when udpport is a port /etc/services gives to another service', () => {
    const p = parseWith('udpport 53\n', { services: new Map([['domain', 53], ['ha-cluster', 694]]) });
    expect(only(p, 'HACF_UDPPORT_RESERVED').message).toBe('udp port 53 reserved for service "domain".');
  });

  it('uses baud for serial lines after it only', () => {
    const before = parseWith('baud 115200\nserial /dev/ttyS0 /dev/ttyS1\n');
    expect(errors(before)).toEqual([]);
    expect(before.cfg.media.slice(1)).toEqual([
      { kind: 'serial', device: '/dev/ttyS0', baud: 115200, line: 7 },
      { kind: 'serial', device: '/dev/ttyS1', baud: 115200, line: 7 },
    ]);
    const after = parseWith('serial /dev/ttyS0\nbaud 9600\n');
    expect(after.cfg.media[1]).toMatchObject({ baud: 19200 });
    expect(after.cfg.baud).toBe(9600);
    expect(only(after, 'HACF_ORDER').line).toBe(7);
  });

  it('requires absolute serial device paths', () => {
    expect(soleError(parseWith('serial ttyS0\n'), 'HACF_BAD_MEDIA', 6).message)
      .toMatch(/^Serial port not full pathname \[ttyS0\] in config file/);
  });

  it('limits the number of media to 64', () => {
    const ifaces = Array.from({ length: 64 }, (_, i) => `e${i}`).join(' ');
    const p = parseWith(`bcast ${ifaces}\n`);
    expect(soleError(p, 'HACF_TOO_MANY', 6).message).toBe('Too many media specified (> 64)');
    expect(p.cfg.media).toHaveLength(64);
  });
});

describe('ping nodes', () => {
  it('turns ping and ping_group lines into media entries, not normal nodes', () => {
    const p = parseWith('ping 10.0.0.254 GW2\nping_group Routers 10.0.0.1 10.0.0.2\n');
    expect(errors(p)).toEqual([]);
    expect(p.cfg.media.slice(1)).toEqual([
      { kind: 'ping', host: '10.0.0.254', line: 6 },
      { kind: 'ping', host: 'gw2', line: 6 },
      { kind: 'ping_group', group: 'routers', hosts: ['10.0.0.1', '10.0.0.2'], line: 7 },
    ]);
    expect(p.cfg.nodes).toEqual(['node1', 'node2']);
  });

  it('counts ping media as media', () => {
    expect(errors(parse('node node1\nping 10.0.0.254\nauto_failback on\n'))).toEqual([]);
  });

  it('rejects a ping_group without hosts', () => {
    expect(soleError(parseWith('ping_group lonely\n'), 'HACF_BAD_MEDIA', 6).message).toMatch(/^ping_group needs a group name/);
  });
});

describe('STONITH devices', () => {
  it('records stonith lines and the stonith_host lines for this node or *, in order; others are skipped', () => {
    const p = parseWith('stonith baytech /etc/ha.d/conf/stonith.baytech\nstonith_host node2 baytech 10.0.0.3\n'
      + 'stonith_host * external/ssh node1 node2\nstonith_host node1 meatware node2\n');
    expect(errors(p)).toEqual([]);
    expect(p.problems.filter((x) => x.code === 'HACF_UNIMPLEMENTED')).toEqual([]);
    expect(p.cfg.stonith).toEqual([
      { type: 'baytech', configFile: '/etc/ha.d/conf/stonith.baytech', line: 6 },
      { type: 'external/ssh', params: 'node1 node2', line: 8 },
      { type: 'meatware', params: 'node2', line: 9 },
    ]);
  });
});

describe('accepted but not implemented', () => {
  it.each([
    ['failfast hacluster /bin/true', 'failfast'],
    ['quorum_server q.example.com', 'quorum_server'],
    ['hbaping fc0', 'hbaping'],
  ])('%s: warning, recorded, no error', (text, directive) => {
    const p = parseWith(`${text}\n`);
    expect(errors(p)).toEqual([]);
    const w = only(p, 'HACF_UNIMPLEMENTED');
    expect(w).toMatchObject({ line: 6, severity: 'warning' });
    expect(w.message).toMatch(new RegExp(`^${directive} is accepted but not implemented by heartbeat-ts yet: `));
    expect(p.cfg.unimplemented).toHaveLength(1);
    expect(p.cfg.unimplemented[0]).toMatchObject({ directive, line: 6 });
  });

  it('counts unimplemented media for "No heartbeat media defined", as heartbeat would', () => {
    const p = parse('node node1\nhbaping fc0\nauto_failback on\n');
    expect(p.problems.map((x) => x.code)).not.toContain('HACF_NO_MEDIA');
    expect(p.cfg.media).toEqual([]);
  });

  it('still checks their arguments', () => {
    expect(soleError(parseWith('stonith\n'), 'HACF_BAD_VALUE', 6).message).toMatch(/^No Stonith type given/);
    expect(soleError(parseWith('stonith_host\n'), 'HACF_BAD_VALUE', 6).message).toMatch(/^No Stonith hostname argument given/);
    expect(soleError(parseWith('stonith_host node1\n'), 'HACF_BAD_VALUE', 6).message).toMatch(/^No Stonith type given/);
    expect(soleError(parseWith('failfast root relative\n'), 'HACF_BAD_VALUE', 6).message).toMatch(/is not full pathname/);
  });
});
