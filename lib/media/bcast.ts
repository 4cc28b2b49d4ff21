/**
 * `bcast <if>` (spec 7.2): UDP broadcast to the interface's broadcast address.
 *
 * Keeping links apart without SO_BINDTODEVICE: the receive socket is bound
 * to the interface's broadcast address, and Linux hands a broadcast only to
 * sockets bound to the wildcard or to exactly the broadcast's destination
 * address. Two bcast media on two interfaces (different subnets) therefore
 * each hear only their own link, and our own broadcasts come back to us as
 * they do to heartbeat (its own bcast links report `up`, spec 11.3).
 *
 * Limits, all harmless for heartbeat peers, which send to the subnet
 * broadcast address that SIOCGIFBRDADDR reports:
 *  - Limited broadcasts (to 255.255.255.255) are not heard. Binding another
 *    socket to 255.255.255.255 would hear them from every interface at once
 *    and defeat the separation above, so we do not; we never send them.
 *  - Unicast datagrams to our own address on this port are not heard by the
 *    bcast medium (heartbeat's wildcard socket would take them): a peer that
 *    unicasts to us needs a matching `ucast` line here.
 *  - Two interfaces with addresses in the same subnet share one broadcast
 *    address and cannot be told apart.
 *  - /31 and /32 addresses have no broadcast address and are refused.
 */
import { HbError } from '../util/errors.js';
import type { Medium, ReceivedPacket } from './medium.js';
import { lookupIpv4, type InterfaceTable } from './netif.js';
import { ErrorReporter } from './report.js';
import { UdpLink } from './udp.js';

export interface BcastOptions {
  iface: string;
  port: number;
  /** The global `udpport`, printed first in the start line; defaults to `port`. */
  udpport?: number;
  /** Interface table source, for tests of the error paths. */
  interfaces?: () => InterfaceTable;
}

export class BcastMedium implements Medium {
  readonly kind = 'bcast' as const;
  readonly linkName: string;
  readonly description: string;
  private link: UdpLink | undefined;
  private readonly reporter = new ErrorReporter();
  private bcastAddr: string | undefined;

  constructor(private readonly opts: BcastOptions) {
    this.linkName = opts.iface;
    this.description = `UDP Broadcast heartbeat started on port ${opts.udpport ?? opts.port} (${opts.port}) interface ${opts.iface}`;
  }

  /** The broadcast address in use once open. */
  get broadcastAddress(): string | undefined {
    return this.bcastAddr;
  }

  async open(onPacket: (pkt: ReceivedPacket) => void, onError: (err: Error) => void): Promise<void> {
    if (this.link !== undefined) throw new HbError('MEDIA_ALREADY_OPEN', `bcast ${this.opts.iface}: already open`);
    const { iface, port } = this.opts;
    const ifc = this.opts.interfaces ? lookupIpv4(iface, 'bcast', this.opts.interfaces()) : lookupIpv4(iface, 'bcast');
    if (ifc.prefixLength >= 31) {
      throw new HbError(
        'MEDIA_NO_BROADCAST',
        `bcast: interface ${iface} (${ifc.address}/${ifc.prefixLength}) has no broadcast address`,
      );
    }
    this.reporter.setSink(onError);
    const link = new UdpLink(
      {
        who: `bcast ${iface}`,
        recvAddress: ifc.broadcast,
        port,
        destAddress: ifc.broadcast,
        destPort: port,
        setupSend: (s) => s.setBroadcast(true),
      },
      this.reporter,
    );
    try {
      await link.open(onPacket);
    } catch (err) {
      this.reporter.setSink(undefined);
      throw err;
    }
    this.link = link;
    this.bcastAddr = ifc.broadcast;
  }

  send(data: Buffer): void {
    if (this.link === undefined) {
      this.reporter.report('MEDIA_NOT_OPEN', `bcast ${this.opts.iface}: cannot send: medium is not open`);
      return;
    }
    this.link.send(data);
  }

  async close(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    if (link !== undefined) await link.close();
  }
}
