/**
 * The network lab's pure parts (no root, no namespaces): names and
 * addresses of nodes, private-directory entries, the nft rules that cut,
 * partition and lose frames on the switch, and the capture command.
 */
import { describe, expect, it } from 'vitest';
import { captureArgv } from '../../../devtools/lab/capture.js';
import { filterRules, noFilters } from '../../../devtools/lab/net.js';
import { parsePrivate } from '../../../devtools/lab/node.js';
import { allIds, hostnameOf, ipOf, LAB_NAME_RE, macOf, nodeNs, portOf } from '../../../devtools/lab/state.js';

describe('lab names and addresses', () => {
  it('numbers nodes from .11 and puts the client at .9, with MACs derived from the address', () => {
    expect(allIds(3)).toEqual([1, 2, 3, 'c']);
    expect(ipOf('10.77.0', 1)).toBe('10.77.0.11');
    expect(ipOf('10.77.0', 'c')).toBe('10.77.0.9');
    expect(hostnameOf(2)).toBe('node2');
    expect(hostnameOf('c')).toBe('client');
    expect(macOf('10.77.0', 1)).toBe('02:00:0a:4d:00:0b');
    expect(nodeNs('hblab', 3)).toBe('hblab-n3');
    expect(nodeNs('hblab', 'c')).toBe('hblab-c');
    expect(portOf(4)).toBe('p4');
    expect(portOf('c')).toBe('pc');
  });

  it('puts LAN k on the next /24s, ports p<i>l<k>', () => {
    expect(ipOf('10.231.1', 2, 1)).toBe('10.231.2.12');
    expect(ipOf('10.231.1', 'c', 2)).toBe('10.231.3.9');
    expect(portOf(1, 1)).toBe('p1l1');
    expect(portOf('c', 2)).toBe('pcl2');
  });

  it('accepts short lower-case names only (namespaces are <name>-n<i>)', () => {
    for (const ok of ['hblab', 'hbdemo', 'hbl1a2b3c4d5']) expect(LAB_NAME_RE.test(ok)).toBe(true);
    for (const bad of ['x', 'Lab', 'my-lab', '1lab', 'hbl1a2b3c4d5e', 'a b']) expect(LAB_NAME_RE.test(bad)).toBe(false);
  });
});

describe('private directory entries', () => {
  it('copy is the default, empty on request; trailing slashes go', () => {
    expect(parsePrivate('/etc/ha.d')).toEqual({ path: '/etc/ha.d', mode: 'copy' });
    expect(parsePrivate('/run:empty')).toEqual({ path: '/run', mode: 'empty' });
    expect(parsePrivate('/srv/data/:copy')).toEqual({ path: '/srv/data', mode: 'copy' });
  });

  it('refuses relative paths, unknown modes and a parent of the lab state', () => {
    expect(() => parsePrivate('relative/dir:empty')).toThrow(/not absolute/);
    expect(() => parsePrivate('/srv:shared')).toThrow(/mode shared unknown/);
    expect(() => parsePrivate('/var/lib:empty')).toThrow(/hide the lab's state/);
    expect(() => parsePrivate('/var:copy')).toThrow(/hide the lab's state/);
  });
});

describe('switch filters', () => {
  it('no filters, no rules', () => {
    expect(filterRules(noFilters())).toEqual([]);
  });

  it('a node\'s filters hold on every LAN it is plugged into', () => {
    expect(filterRules({ ...noFilters(), drop: ['2'] }, 2)).toEqual([
      'add rule bridge hblab labfwd iifname { "p2", "p2l1" } drop comment "cut"',
      'add rule bridge hblab labfwd oifname { "p2", "p2l1" } drop comment "cut"',
    ]);
  });

  it('cut drop drops both directions of the port', () => {
    expect(filterRules({ ...noFilters(), drop: ['2'] })).toEqual([
      'add rule bridge hblab labfwd iifname "p2" drop comment "cut"',
      'add rule bridge hblab labfwd oifname "p2" drop comment "cut"',
    ]);
  });

  it('loss draws a random number per frame; 100 % is a plain drop (nft has no "< 100" for mod 100)', () => {
    expect(filterRules({ ...noFilters(), loss: { c: 30 } })).toEqual([
      'add rule bridge hblab labfwd iifname "pc" numgen random mod 100 < 30 drop comment "loss"',
      'add rule bridge hblab labfwd oifname "pc" numgen random mod 100 < 30 drop comment "loss"',
    ]);
    expect(filterRules({ ...noFilters(), loss: { 1: 100 } })).toEqual([
      'add rule bridge hblab labfwd iifname "p1" drop comment "loss"',
      'add rule bridge hblab labfwd oifname "p1" drop comment "loss"',
    ]);
  });

  it('a partition drops frames between groups only, both ways', () => {
    const rules = filterRules({ ...noFilters(), partition: [['1'], ['2', 'c']] });
    expect(rules).toEqual([
      'add rule bridge hblab labfwd iifname "p1" oifname "p2" drop comment "partition"',
      'add rule bridge hblab labfwd iifname "p1" oifname "pc" drop comment "partition"',
      'add rule bridge hblab labfwd iifname "p2" oifname "p1" drop comment "partition"',
      'add rule bridge hblab labfwd iifname "pc" oifname "p1" drop comment "partition"',
    ]);
  });
});

describe('capture command', () => {
  it('runs tcpdump in the switch namespace, bounded by timeout, unbuffered', () => {
    const argv = captureArgv('hblab', '/tmp/x.pcap', { seconds: 20, filter: ['udp', 'port', '694'], port: 2 });
    expect(argv).toEqual([
      'nsenter', '--net=/run/netns/hblab-sw', '--', 'timeout', '-s', 'INT', '20',
      'tcpdump', '-i', 'p2', '--immediate-mode', '-U', '-n', '-s', '0', '-w', '/tmp/x.pcap', 'udp', 'port', '694',
    ]);
    expect(captureArgv('hblab', '/tmp/x.pcap', {})).toContain('br0');
    expect(() => captureArgv('hblab', '/tmp/x.pcap', { seconds: 0 })).toThrow(/positive/);
  });
});
