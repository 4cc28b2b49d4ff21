/**
 * `ucast6 <dev> <peer>`: UDP over IPv6 unicast to one peer, as Heartbeat's
 * ucast6 plugin: the global udpport, a receive socket bound to [::]:port and
 * tied to the interface (SO_BINDTODEVICE), a send socket tied to it too, and
 * the interface as scope of a link-local peer (fe80::/10).
 *
 * A line naming our own address is harmless, as with heartbeat: those
 * datagrams travel over `lo`, which the device-bound socket does not hear.
 */
import { HbError } from '../util/errors.js';
import { formatIpv6, isLinkLocal6, parseIpv6 } from '../util/inet6.js';
import { MEDIA } from './codes.js';
import { requireDevice } from './netif.js';
import { ipv6Link, UdpMedium, type UdpLinkConfig } from './udp.js';

export interface Ucast6Options {
  iface: string;
  /** A numeric IPv6 address (the config layer refuses names, as heartbeat does). */
  peer: string;
  /** `%scope` written after a link-local peer: the interface name or its index. */
  scope?: string | undefined;
  port: number;
}

export class Ucast6Medium extends UdpMedium {
  readonly kind = 'ucast6' as const;
  readonly description: string;
  /**
   * As the plugin logs them at open. Its third line, `ucast6: set SO_REUSEPORT`, is not
   * claimed: Node 20's dgram cannot set SO_REUSEPORT before bind (the plugin needs it only on BSD).
   */
  readonly startNotes: readonly string[];
  /** The peer as heartbeat prints it: canonical, with `%dev` when link-local. */
  readonly peerText: string;
  private readonly linkLocal: boolean;

  constructor(private readonly opts: Ucast6Options) {
    super(opts.iface);
    const bytes = parseIpv6(opts.peer);
    if (bytes === undefined) throw new HbError(MEDIA.BAD_ADDRESS, `ucast6 ${opts.iface}: not an IPv6 address: ${opts.peer}`);
    this.linkLocal = isLinkLocal6(bytes);
    this.peerText = `${formatIpv6(bytes)}${this.linkLocal ? `%${opts.iface}` : ''}`;
    this.description = `ucast6: heartbeat started for [${this.peerText}]:${opts.port} on interface ${opts.iface}`;
    this.startNotes = [`ucast6: bound send socket to device: ${opts.iface}`, `ucast6: bound receive socket to device: ${opts.iface}`];
  }

  protected get who(): string {
    return `ucast6 ${this.opts.iface}`;
  }

  protected linkConfig(): Promise<UdpLinkConfig> {
    const { iface, port, scope } = this.opts;
    const index = requireDevice('ucast6', iface);
    if (this.linkLocal && scope !== undefined && scope !== iface && Number(scope) !== index) {
      throw new HbError(MEDIA.BAD_ADDRESS, `ucast6: scope ${scope} of ${this.opts.peer} does not name device ${iface} (index ${index})`);
    }
    return Promise.resolve(ipv6Link(this.who, iface, port, this.peerText));
  }
}
