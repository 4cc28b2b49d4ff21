/**
 * Builds the Medium for one ha.cf media line. Constructing a medium opens
 * nothing; the daemon calls open() on each and logs its description.
 */
import type { MediaLine } from '../config/types.js';
import { HbError } from '../util/errors.js';
import { MEDIA } from './codes.js';
import { BcastMedium } from './bcast.js';
import { McastMedium } from './mcast.js';
import { Mcast6Medium } from './mcast6.js';
import type { Medium } from './medium.js';
import { PingMedium, type PingSigner } from './ping.js';
import { SerialMedium, type FlowControl } from './serial.js';
import { UcastMedium } from './ucast.js';
import { Ucast6Medium } from './ucast6.js';

export interface MediaFactoryOptions {
  /** The global `udpport` (bcast prints it next to its own port); defaults to the line's port. */
  udpport?: number;
  /** Serial RTS/CTS policy, see serial.ts; default 'auto'. */
  serialFlowControl?: FlowControl;
  /** Directory for UUCP lock files; default /var/lock. */
  lockDir?: string;
  /**
   * Signs the payload the ping media ask their targets to echo (the
   * daemon's Authenticator). Required for ping and ping_group lines only.
   */
  signer?: PingSigner;
  /** ICMP identifier of the ping media; default pid & 0xffff, as heartbeat. */
  pingIdent?: number;
}

export function createMedium(line: MediaLine, opts: MediaFactoryOptions = {}): Medium {
  switch (line.kind) {
    case 'bcast':
      return new BcastMedium({ iface: line.iface, port: line.port, udpport: opts.udpport ?? line.port });
    case 'ucast':
      return new UcastMedium({ iface: line.iface, peer: line.peer, port: line.port });
    case 'mcast':
      return new McastMedium({ iface: line.iface, group: line.group, port: line.port, ttl: line.ttl, loop: line.loop });
    case 'ucast6':
      return new Ucast6Medium({ iface: line.iface, peer: line.peer, scope: line.scope, port: line.port });
    case 'mcast6':
      return new Mcast6Medium({ iface: line.iface, group: line.group, port: line.port, hops: line.hops, loop: line.loop });
    case 'serial':
      return new SerialMedium({
        device: line.device,
        baud: line.baud,
        ...(opts.serialFlowControl !== undefined ? { flowControl: opts.serialFlowControl } : {}),
        ...(opts.lockDir !== undefined ? { lockDir: opts.lockDir } : {}),
      });
    case 'ping':
    case 'ping6':
    case 'ping_group': {
      if (opts.signer === undefined) {
        throw new HbError(MEDIA.NO_SIGNER, `${line.kind} (ha.cf line ${line.line}) needs a signer for its payload: pass createMedium(line, { signer })`);
      }
      const name = line.kind === 'ping_group' ? line.group : line.host;
      const hosts = line.kind === 'ping_group' ? line.hosts : [line.host];
      return new PingMedium({
        kind: line.kind,
        name,
        hosts,
        signer: opts.signer,
        ...(opts.pingIdent !== undefined ? { ident: opts.pingIdent } : {}),
      });
    }
  }
}

/** Start lines of the ping media, which need no signer to be described. */
const PING_DESCRIPTIONS = { ping: 'ping heartbeat started.', ping6: 'ping heartbeat started.', ping_group: 'ping group heartbeat started.' } as const;

/**
 * The start lines heartbeat logs (as `glib: <text>`) for these media lines,
 * in order, without opening anything. A ucast peer given as a host name
 * appears as written here; the opened medium's description shows the
 * resolved address, as heartbeat does.
 */
export function describeMedia(lines: readonly MediaLine[], opts: MediaFactoryOptions = {}): string[] {
  return lines.map((l) => (l.kind === 'ping' || l.kind === 'ping6' || l.kind === 'ping_group' ? PING_DESCRIPTIONS[l.kind] : createMedium(l, opts).description));
}
