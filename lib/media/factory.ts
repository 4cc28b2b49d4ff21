/**
 * Builds the Medium for one ha.cf media line. Constructing a medium opens
 * nothing; the daemon calls open() on each and logs its description.
 */
import type { MediaLine } from '../config/types.js';
import { HbError } from '../util/errors.js';
import { BcastMedium } from './bcast.js';
import { McastMedium } from './mcast.js';
import type { Medium } from './medium.js';
import { SerialMedium, type FlowControl } from './serial.js';
import { UcastMedium } from './ucast.js';

export interface MediaFactoryOptions {
  /** The global `udpport` (bcast prints it next to its own port); defaults to the line's port. */
  udpport?: number;
  /** Serial RTS/CTS policy, see serial.ts; default 'auto'. */
  serialFlowControl?: FlowControl;
  /** Directory for UUCP lock files; default /var/lock. */
  lockDir?: string;
}

export function createMedium(line: MediaLine, opts: MediaFactoryOptions = {}): Medium {
  switch (line.kind) {
    case 'bcast':
      return new BcastMedium({ iface: line.iface, port: line.port, udpport: opts.udpport ?? line.port });
    case 'ucast':
      return new UcastMedium({ iface: line.iface, peer: line.peer, port: line.port });
    case 'mcast':
      return new McastMedium({ iface: line.iface, group: line.group, port: line.port, ttl: line.ttl, loop: line.loop });
    case 'serial':
      return new SerialMedium({
        device: line.device,
        baud: line.baud,
        ...(opts.serialFlowControl !== undefined ? { flowControl: opts.serialFlowControl } : {}),
        ...(opts.lockDir !== undefined ? { lockDir: opts.lockDir } : {}),
      });
    case 'ping':
    case 'ping_group':
      throw new HbError('MEDIA_UNSUPPORTED', `${line.kind} media are not implemented yet (ha.cf line ${line.line})`);
  }
}

/**
 * The start lines heartbeat logs (as `glib: <text>`) for these media lines,
 * in order, without opening anything. ping lines are skipped until ping.ts
 * exists. A ucast peer given as a host name appears as written here; the
 * opened medium's description shows the resolved address, as heartbeat does.
 */
export function describeMedia(lines: readonly MediaLine[], opts: MediaFactoryOptions = {}): string[] {
  return lines
    .filter((l) => l.kind !== 'ping' && l.kind !== 'ping_group')
    .map((l) => createMedium(l, opts).description);
}
