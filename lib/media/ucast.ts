/**
 * `ucast <dev> <peer>` (spec 7.3): UDP unicast to one peer.
 *
 * The receive socket is bound to the interface's own address, so two ucast
 * media on two interfaces stay distinguishable without SO_BINDTODEVICE.
 *
 * A line naming our own address must be harmless, since admins copy one
 * ha.cf to every node. Heartbeat's device-bound socket never sees those
 * packets (they travel over `lo`), which is why `cl_status listhblinks`
 * reports a node's own ucast links `dead` (spec 11.3). Our socket would
 * receive them, so datagrams whose source is this interface's own address
 * are dropped: a peer on the wire never has our address as its source.
 *
 * Not done: IP_TOS=IPTOS_LOWDELAY on the send socket (dgram cannot set it).
 */
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { HbError } from '../util/errors.js';
import { MEDIA } from './codes.js';
import { lookupIpv4, type InterfaceTable } from './netif.js';
import { errnoOf } from './report.js';
import { UdpMedium, type UdpLinkConfig } from './udp.js';

export interface UcastOptions {
  iface: string;
  /** IPv4 address or host name, resolved once at open. */
  peer: string;
  port: number;
  interfaces?: () => InterfaceTable;
}

async function resolvePeer(iface: string, peer: string): Promise<string> {
  if (isIPv4(peer)) return peer;
  try {
    const res = await lookup(peer, { family: 4 });
    return res.address;
  } catch (err) {
    throw new HbError(MEDIA.PEER_UNRESOLVED, `ucast ${iface}: cannot resolve peer ${peer}: ${errnoOf(err)}`, { cause: err });
  }
}

export class UcastMedium extends UdpMedium {
  readonly kind = 'ucast' as const;
  private peerAddr: string | undefined;

  constructor(private readonly opts: UcastOptions) {
    super(opts.iface);
  }

  protected get who(): string {
    return `ucast ${this.opts.iface}`;
  }

  /** Heartbeat prints the resolved address; before open we only know the name. */
  get description(): string {
    return `ucast: started on port ${this.opts.port} interface ${this.opts.iface} to ${this.peerAddress ?? this.opts.peer}`;
  }

  get peerAddress(): string | undefined {
    return this.isOpen ? this.peerAddr : undefined;
  }

  protected async linkConfig(): Promise<UdpLinkConfig> {
    const { iface, port, peer } = this.opts;
    const ifc = this.opts.interfaces ? lookupIpv4(iface, 'ucast', this.opts.interfaces()) : lookupIpv4(iface, 'ucast');
    const peerAddr = await resolvePeer(iface, peer);
    this.peerAddr = peerAddr;
    return {
      who: this.who,
      recvAddress: ifc.address,
      port,
      destAddress: peerAddr,
      destPort: port,
      accept: (rinfo) => rinfo.address !== ifc.address,
    };
  }
}
