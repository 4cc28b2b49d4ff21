/**
 * `mcast6 <dev> <group> <port> <hops> <loop>`: UDP over IPv6 multicast, as
 * Heartbeat's mcast6 plugin: the receive socket bound to [::]:port joins the
 * group on the interface (by index); the send socket has
 * IPV6_MULTICAST_IF/HOPS/LOOP. With loop 0 our own datagrams do not come
 * back, so our own mcast6 link is `dead`, as with heartbeat.
 *
 * Stricter than the plugin, invisibly to peers: the receive socket is also
 * tied to the interface (SO_BINDTODEVICE) and IPv6-only, so two mcast6 lines
 * on two interfaces each hear only their own link.
 */
import { HbError } from '../util/errors.js';
import { formatIpv6, parseIpv6 } from '../util/inet6.js';
import { MEDIA } from './codes.js';
import { requireDevice } from './netif.js';
import { ipv6Link, UdpMedium, type UdpLinkConfig } from './udp.js';

export interface Mcast6Options {
  iface: string;
  group: string;
  port: number;
  hops: number;
  loop: boolean;
}

export class Mcast6Medium extends UdpMedium {
  readonly kind = 'mcast6' as const;
  readonly description: string;
  private readonly group: string;

  constructor(private readonly opts: Mcast6Options) {
    super(opts.iface);
    const bytes = parseIpv6(opts.group);
    if (bytes === undefined || bytes[0] !== 0xff) {
      throw new HbError(MEDIA.BAD_GROUP, `mcast6 ${opts.iface}: not an IPv6 multicast group: ${opts.group}`);
    }
    this.group = formatIpv6(bytes);
    this.description =
      `UDP multicast heartbeat started for [${this.group}]:${opts.port} on interface ${opts.iface}` +
      ` (hops=${opts.hops} loop=${opts.loop ? 1 : 0})`;
  }

  protected get who(): string {
    return `mcast6 ${this.opts.iface}`;
  }

  protected linkConfig(): Promise<UdpLinkConfig> {
    const { iface, port, hops, loop } = this.opts;
    requireDevice('mcast6', iface);
    if (!Number.isInteger(hops) || hops < 0 || hops > 255) throw new HbError(MEDIA.BAD_TTL, `${this.who}: bad hops ${hops}`);
    // libuv takes the interface of IPv6 multicast calls as the scope of `::%dev`.
    const viaIface = `::%${iface}`;
    const group = this.group;
    return Promise.resolve(ipv6Link(this.who, iface, port, `${group}%${iface}`, {
      setupRecv: (s) => s.addMembership(group, viaIface),
      setupSend: (s) => {
        s.setMulticastInterface(viaIface);
        s.setMulticastTTL(hops);
        s.setMulticastLoopback(loop);
      },
    }));
  }
}
