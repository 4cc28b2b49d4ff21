/**
 * `bcast <if>` (spec 7.2): UDP broadcast to the interface's broadcast address.
 *
 * Receive socket as heartbeat's: bound to 0.0.0.0 on the port and tied to
 * the interface with SO_BINDTODEVICE. It therefore hears broadcasts (subnet
 * and 255.255.255.255) and also datagrams unicast to this node's address on
 * the port, as 3.0.6 does, and only those that arrived on this interface:
 * two bcast media on two interfaces each hear only their own link. Our own
 * broadcasts come back to us, as they do to heartbeat (its own bcast links
 * report `up`, spec 11.3).
 *
 * Limit: /31 and /32 addresses have no broadcast address and are refused.
 */
import { MEDIA } from './codes.js';
import { HbError } from '../util/errors.js';
import { lookupIpv4, type InterfaceTable } from './netif.js';
import { UdpMedium, type UdpLinkConfig } from './udp.js';

export interface BcastOptions {
  iface: string;
  port: number;
  /** The global `udpport`, printed first in the start line; defaults to `port`. */
  udpport?: number;
  /** Interface table source, for tests of the error paths. */
  interfaces?: () => InterfaceTable;
}

export class BcastMedium extends UdpMedium {
  readonly kind = 'bcast' as const;
  readonly description: string;
  private bcastAddr: string | undefined;

  constructor(private readonly opts: BcastOptions) {
    super(opts.iface);
    this.description = `UDP Broadcast heartbeat started on port ${opts.udpport ?? opts.port} (${opts.port}) interface ${opts.iface}`;
  }

  protected get who(): string {
    return `bcast ${this.opts.iface}`;
  }

  /** The broadcast address in use once open. */
  get broadcastAddress(): string | undefined {
    return this.isOpen ? this.bcastAddr : undefined;
  }

  protected linkConfig(): Promise<UdpLinkConfig> {
    const { iface, port } = this.opts;
    const ifc = this.opts.interfaces ? lookupIpv4(iface, 'bcast', this.opts.interfaces()) : lookupIpv4(iface, 'bcast');
    if (ifc.prefixLength >= 31) {
      throw new HbError(MEDIA.NO_BROADCAST, `bcast: interface ${iface} (${ifc.address}/${ifc.prefixLength}) has no broadcast address`);
    }
    this.bcastAddr = ifc.broadcast;
    return Promise.resolve({
      who: this.who,
      recvAddress: '0.0.0.0',
      port,
      bindDevice: iface,
      destAddress: ifc.broadcast,
      destPort: port,
      setupSend: (s) => s.setBroadcast(true),
    });
  }
}
