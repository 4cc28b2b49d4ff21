/**
 * `ping <host>` and `ping_group <name> <host> …` (spec 4.5, 7.6): a router
 * as a cluster member. For every status heartbeat the node sends, the medium
 * sends an ICMP echo request whose payload is the message it wants to hear
 * back, as if the router had written it:
 *
 *     t=NS_st st=ping info=<ping|ping_group> src=<node name> ts=<status ts> (+ auth)
 *
 * The echoed payload is delivered unchanged as a packet, and the normal
 * receive path verifies it (Cluster.receive -> signer.verify): a reply whose
 * payload was altered fails authentication there and is counted as a reject.
 * The medium itself only decides whether an echo reply is *ours*: our
 * identifier (pid & 0xffff), from one of our target addresses, and with a
 * sequence number among the last SEQ_WINDOW we sent (which also keeps old,
 * captured replies from being replayed much later).
 *
 * A group is one ping node: the same request goes to every member, and any
 * member's reply keeps the node alive.
 *
 * Differences from heartbeat 3.0.6, all invisible to peers (nothing here
 * ever reaches another cluster node): heartbeat's sequence numbers start at
 * 0, ours at a random value so that two media of one daemon pinging the same
 * address (same identifier) do not take each other's replies; heartbeat's
 * ping_group drops a second reply to the same sequence number, we deliver
 * it (a forged first reply must not hide the genuine one; duplicates of a
 * status are harmless).
 */
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { HbError } from '../util/errors.js';
import { decodeDatagram } from '../wire/codec.js';
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import { ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP_ECHO_REPLY, buildEcho, parseIcmp6Echo, parseIpv4Echo } from './icmp.js';
import { formatIpv6, parseIpv6 } from '../util/inet6.js';
import { MEDIA } from './codes.js';
import { IcmpSocket } from './icmp-socket.js';
import type { Medium, ReceivedPacket } from './medium.js';
import { ErrorReporter, errnoOf } from './report.js';

/** What the ping media need to sign their payload: the daemon's Authenticator fits. */
export interface PingSigner {
  /** The datagram for `msg` exactly as the node sends its own messages (spec 2.6). */
  sign(msg: HaMsg): Buffer;
}

/** How many recent sequence numbers a reply may carry (heartbeat's ping_group NSLOT). */
export const SEQ_WINDOW = 128;

export interface PingMediumOptions {
  /** ping6: ICMPv6 to numeric IPv6 addresses, otherwise as ping. */
  kind: 'ping' | 'ping6' | 'ping_group';
  /** The ping node's name: the host as written (ping) or the group name (ping_group). */
  name: string;
  /** Addresses or host names to ping; resolved to IPv4 at open(). */
  hosts: readonly string[];
  signer: PingSigner;
  /** ICMP identifier; heartbeat uses pid & 0xffff. */
  ident?: number;
  /** Host name resolution (default: the system resolver, IPv4). */
  resolve?: (host: string) => Promise<string>;
  /** Source of the random first sequence number. */
  random?: () => number;
}

async function resolveIpv4(host: string): Promise<string> {
  if (isIPv4(host)) return host;
  return (await lookup(host, { family: 4 })).address;
}

/** ping6 takes numeric addresses only, as heartbeat's plugin (inet_pton); canonical text is what the socket reports. */
function resolveIpv6(host: string): Promise<string> {
  const bytes = parseIpv6(host);
  if (bytes === undefined) return Promise.reject(new HbError(MEDIA.BAD_ADDRESS, `not a numeric IPv6 address: ${host}`));
  return Promise.resolve(formatIpv6(bytes));
}

export class PingMedium implements Medium {
  readonly kind: 'ping' | 'ping6' | 'ping_group';
  readonly linkName: string;
  readonly description: string;
  readonly ident: number;
  private sock: IcmpSocket | undefined;
  private addresses: string[] = [];
  private nextSeq: number;
  /** Recently sent sequence numbers, oldest first (Map keeps insertion order). */
  private readonly recent = new Map<number, true>();
  private readonly reporter = new ErrorReporter();
  private readonly counters = { sent: 0, replies: 0, ignored: 0 };

  constructor(private readonly opts: PingMediumOptions) {
    if (opts.hosts.length === 0) throw new HbError(MEDIA.BAD_CONFIG, `${opts.kind} ${opts.name}: no host to ping`);
    this.kind = opts.kind;
    this.linkName = opts.name;
    this.description = opts.kind === 'ping_group' ? 'ping group heartbeat started.' : 'ping heartbeat started.';
    this.ident = (opts.ident ?? process.pid) & 0xffff;
    this.nextSeq = Math.floor((opts.random ?? Math.random)() * 0x10000) & 0xffff;
  }

  private get who(): string {
    return `${this.kind} ${this.opts.name}`;
  }

  /** The resolved target addresses (empty before open). */
  get targets(): readonly string[] {
    return this.addresses;
  }

  /** Echo requests sent, replies delivered, and echo replies seen but not ours. */
  stats(): { sent: number; replies: number; ignored: number } {
    return { ...this.counters };
  }

  async open(onPacket: (pkt: ReceivedPacket) => void, onError: (err: Error) => void): Promise<void> {
    if (this.sock !== undefined) throw new HbError(MEDIA.ALREADY_OPEN, `${this.who}: already open`);
    const v6 = this.kind === 'ping6';
    const resolve = this.opts.resolve ?? (v6 ? resolveIpv6 : resolveIpv4);
    const addresses: string[] = [];
    for (const host of this.opts.hosts) {
      try {
        addresses.push(await resolve(host));
      } catch (err) {
        throw new HbError(MEDIA.PEER_UNRESOLVED, `${this.who}: unknown host: ${host}: ${errnoOf(err)}`, { cause: err });
      }
    }
    this.reporter.setSink(onError);
    try {
      this.sock = IcmpSocket.open({
        who: this.who,
        ...(v6 ? { family: 6 as const } : {}),
        acceptTypes: [v6 ? ICMP6_ECHO_REPLY : ICMP_ECHO_REPLY],
        onDatagram: (datagram, from) => this.receive(datagram, from, onPacket),
        onError: (err) => this.reporter.report(err.code, err.message),
      });
    } catch (err) {
      this.reporter.setSink(undefined);
      throw err;
    }
    this.addresses = addresses;
  }

  private receive(datagram: Buffer, from: string, onPacket: (pkt: ReceivedPacket) => void): void {
    const v6 = this.kind === 'ping6';
    const r = v6 ? parseIcmp6Echo(datagram, from) : parseIpv4Echo(datagram);
    // The socket sees every echo reply reaching this host: most are not ours.
    if (!r.ok || r.echo.type !== (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHO_REPLY) || r.echo.id !== this.ident) return;
    if (!this.addresses.includes(from) || !this.recent.has(r.echo.seq)) {
      this.counters.ignored++;
      return;
    }
    this.counters.replies++;
    onPacket({ data: r.echo.payload, from: `${from} icmp_seq=${r.echo.seq}` });
  }

  /**
   * Takes every outbound datagram but acts only on status heartbeats, as
   * heartbeat does: their `ts` becomes the payload's timestamp.
   */
  send(data: Buffer): void {
    const sock = this.sock;
    if (sock === undefined) {
      this.reporter.report(MEDIA.NOT_OPEN, `${this.who}: cannot send: medium is not open`);
      return;
    }
    const decoded = decodeDatagram(data);
    if (!decoded.ok) return;
    const ts = decoded.msg.get(F.TS);
    if (decoded.msg.get(F.TYPE) !== T.STATUS || ts === undefined) return;
    let payload: Buffer;
    try {
      payload = this.opts.signer.sign(pingPayload(this.kind, this.opts.name, ts));
    } catch (err) {
      this.reporter.report(MEDIA.SEND_FAILED, `${this.who}: cannot sign the ping payload: ${errnoOf(err)}`);
      return;
    }
    const seq = this.nextSeq;
    this.nextSeq = (seq + 1) & 0xffff;
    this.remember(seq);
    // ICMPv6: the kernel computes the checksum (it covers a pseudo-header), whatever we put there.
    const pkt = buildEcho({ ...(this.kind === 'ping6' ? { type: ICMP6_ECHO_REQUEST } : {}), id: this.ident, seq, payload });
    for (const addr of this.addresses) {
      const err = sock.send(pkt, addr);
      if (err === undefined) this.counters.sent++;
      else this.reporter.report(MEDIA.SEND_FAILED, `${this.who}: Error sending packet to ${addr}: ${err}`, `send-${err}`);
    }
  }

  private remember(seq: number): void {
    this.recent.delete(seq);
    this.recent.set(seq, true);
    if (this.recent.size > SEQ_WINDOW) {
      const oldest = this.recent.keys().next();
      if (!oldest.done) this.recent.delete(oldest.value);
    }
  }

  async close(): Promise<void> {
    const sock = this.sock;
    this.sock = undefined;
    sock?.close();
    this.reporter.setSink(undefined);
  }
}

/** The message a ping medium asks its target to echo (spec 4.5), before signing. */
export function pingPayload(kind: 'ping' | 'ping6' | 'ping_group', name: string, ts: string): HaMsg {
  return new HaMsg()
    .add(F.TYPE, T.NS_STATUS)
    .add(F.STATUS, 'ping')
    .add(F.INFO, kind)
    .add(F.ORIG, name)
    .add(F.TS, ts);
}
