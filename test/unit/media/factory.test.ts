import { describe, expect, it } from 'vitest';
import type { MediaLine } from '../../../lib/config/types.js';
import { createMedium, describeMedia } from '../../../lib/media/factory.js';
import { HbError } from '../../../lib/util/errors.js';

const lines: MediaLine[] = [
  { kind: 'bcast', iface: 'eth0', port: 694, line: 3 },
  { kind: 'ucast', iface: 'eth1', peer: '10.0.0.2', port: 694, line: 4 },
  { kind: 'mcast', iface: 'eth0', group: '225.0.0.1', port: 694, ttl: 1, loop: false, line: 5 },
  { kind: 'serial', device: '/dev/ttyS0', baud: 19200, line: 6 },
  { kind: 'ping', host: '10.0.0.254', line: 7 },
];

describe('createMedium / describeMedia', () => {
  it('builds each kind without opening anything, with heartbeat start lines and link names', () => {
    expect(describeMedia(lines, { udpport: 694 })).toEqual([
      'UDP Broadcast heartbeat started on port 694 (694) interface eth0',
      'ucast: started on port 694 interface eth1 to 10.0.0.2',
      'UDP multicast heartbeat started for group 225.0.0.1 port 694 interface eth0 (ttl=1 loop=0)',
      'Starting serial heartbeat on tty /dev/ttyS0 (19200 baud)',
      'ping heartbeat started.',
    ]);
    expect(lines.slice(0, 4).map((l) => [createMedium(l).kind, createMedium(l).linkName])).toEqual([
      ['bcast', 'eth0'],
      ['ucast', 'eth1'],
      ['mcast', 'eth0'],
      ['serial', '/dev/ttyS0'],
    ]);
  });

  it('prints the global udpport and the medium port separately for bcast', () => {
    expect(createMedium({ kind: 'bcast', iface: 'eth0', port: 700, line: 1 }, { udpport: 694 }).description).toBe(
      'UDP Broadcast heartbeat started on port 694 (700) interface eth0',
    );
  });

  it('refuses ping media without a signer for their payload (MEDIA_NO_SIGNER)', () => {
    for (const l of lines.slice(4)) {
      expect(() => createMedium(l)).toThrow(HbError);
      expect(() => createMedium(l)).toThrow(/ping \(ha\.cf line 7\) needs a signer/);
    }
    let code: string | undefined;
    try {
      createMedium({ kind: 'ping_group', group: 'g', hosts: ['a'], line: 9 });
    } catch (e) {
      code = (e as HbError).code;
    }
    expect(code).toBe('MEDIA_NO_SIGNER');
  });
});
