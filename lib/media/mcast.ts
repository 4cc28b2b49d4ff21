/**
 * `mcast <dev> <group> <port> <ttl> <loop>` (spec 7.4): UDP multicast.
 *
 * Receive socket bound to group:port and joined on the interface's address;
 * send socket with IP_MULTICAST_IF/TTL/LOOP, like heartbeat's. With loop 0
 * the kernel does not hand our own datagrams back, so our own mcast link is
 * `dead` there, as with heartbeat.
 *
 * Limit (shared with heartbeat, which does not bind mcast sockets to a
 * device either): Linux delivers a group's datagrams to every socket bound
 * to group:port once any socket joined it on any interface
 * (IP_MULTICAST_ALL), so two mcast lines with the same group and port on
 * two interfaces of one host both hear both links. Use distinct groups.
 */
import { HbError } from '../util/errors.js';
import { MEDIA } from './codes.js';
import { isMulticast, lookupIpv4, type InterfaceTable } from './netif.js';
import { UdpMedium, type UdpLinkConfig } from './udp.js';

export interface McastOptions {
  iface: string;
  group: string;
  port: number;
  ttl: number;
  loop: boolean;
  interfaces?: () => InterfaceTable;
}

export class McastMedium extends UdpMedium {
  readonly kind = 'mcast' as const;
  readonly description: string;

  constructor(private readonly opts: McastOptions) {
    super(opts.iface);
    this.description =
      `UDP multicast heartbeat started for group ${opts.group} port ${opts.port} interface ${opts.iface}` +
      ` (ttl=${opts.ttl} loop=${opts.loop ? 1 : 0})`;
  }

  protected get who(): string {
    return `mcast ${this.opts.iface}`;
  }

  protected linkConfig(): Promise<UdpLinkConfig> {
    const { iface, group, port, ttl, loop } = this.opts;
    const who = this.who;
    if (!isMulticast(group)) throw new HbError(MEDIA.BAD_GROUP, `${who}: ${group} is not a multicast (class D) address`);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) throw new HbError(MEDIA.BAD_TTL, `${who}: bad ttl ${ttl}`);
    const ifc = this.opts.interfaces ? lookupIpv4(iface, 'mcast', this.opts.interfaces()) : lookupIpv4(iface, 'mcast');
    return Promise.resolve({
      who,
      recvAddress: group,
      port,
      destAddress: group,
      destPort: port,
      setupRecv: (s) => s.addMembership(group, ifc.address),
      setupSend: (s) => {
        s.setMulticastInterface(ifc.address);
        s.setMulticastTTL(ttl);
        s.setMulticastLoopback(loop);
      },
    });
  }
}
