/**
 * What every UDP medium shares (spec 7.1): a receive socket on the heartbeat
 * port, a send socket on an ephemeral port (heartbeat's unbound write
 * socket), error reporting, and the open/send/close life cycle. A medium
 * (bcast, ucast, mcast, ucast6, mcast6) only says which addresses and socket
 * options its link needs, in linkConfig().
 *
 * Keeping links apart: Heartbeat ties its sockets to the interface with
 * SO_BINDTODEVICE. Node's dgram cannot, so `bindDevice` does it through our
 * hb_net addon on the socket Node created; media that bind to an address only
 * their own interface's traffic reaches (ucast's own address, an mcast group)
 * do without.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { errnoName, loadAddon } from '../util/addon.js';
import { HbError } from '../util/errors.js';
import { MEDIA } from './codes.js';
import type { Medium, MediumKind, ReceivedPacket } from './medium.js';
import { ErrorReporter, errnoOf } from './report.js';

export interface UdpLinkConfig {
  /** Names the medium in messages, e.g. `bcast eth0`. */
  who: string;
  /** 4 (default) or 6; IPv6 sockets are IPv6-only so that an IPv4 medium's traffic is not heard twice. */
  family?: 4 | 6;
  recvAddress: string;
  port: number;
  destAddress: string;
  destPort: number;
  /** SO_BINDTODEVICE on both sockets: only this interface's datagrams are heard, and sent there. */
  bindDevice?: string;
  /** Runs after the receive socket is bound (multicast membership). */
  setupRecv?: (sock: Socket) => void;
  /** Runs after the send socket is bound (broadcast flag, multicast options). */
  setupSend?: (sock: Socket) => void;
  /** Datagrams for which this returns false are dropped silently. */
  accept?: (rinfo: RemoteInfo) => boolean;
}

/**
 * An IPv6 medium's link (ucast6, mcast6): it hears the wildcard address on
 * its port, both sockets bound to the device, and sends to `destAddress`.
 */
export function ipv6Link(
  who: string, iface: string, port: number, destAddress: string,
  setup: Pick<UdpLinkConfig, 'setupRecv' | 'setupSend'> = {},
): UdpLinkConfig {
  return { who, family: 6, recvAddress: '::', port, bindDevice: iface, destAddress, destPort: port, ...setup };
}

interface NetAddon {
  bindToDevice(fd: number, ifname: string): number;
}

/**
 * The kernel descriptor behind a bound dgram socket. Node keeps it on the
 * handle it stores under its internal `state symbol`; there is no public way.
 */
function socketFd(sock: Socket): number | undefined {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const state = sym === undefined ? undefined : (sock as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[sym];
  const fd = state?.handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** SO_BINDTODEVICE on a bound dgram socket; throws with the errno (EPERM without CAP_NET_RAW, ENODEV). */
export function bindSocketToDevice(sock: Socket, device: string): void {
  const fd = socketFd(sock);
  if (fd === undefined) throw new Error('no file descriptor for the socket (Node internals changed?)');
  const rc = loadAddon<NetAddon>('hb_net', 'NET', 'socket options').bindToDevice(fd, device);
  if (rc !== 0) throw Object.assign(new Error(`SO_BINDTODEVICE ${device}: ${errnoName(rc)}`), { code: errnoName(rc) });
}

function bindSocket(sock: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      sock.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      sock.off('error', onError);
      resolve();
    };
    sock.once('error', onError);
    sock.once('listening', onListening);
    sock.bind({ address, port });
  });
}

function closeSocket(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

export class UdpLink {
  private recv: Socket | undefined;
  private sendSock: Socket | undefined;
  private closed = false;
  /** Datagrams handed to dgram whose send has not completed yet. */
  private inFlight = 0;
  private readonly onDrained: (() => void)[] = [];

  constructor(
    private readonly cfg: UdpLinkConfig,
    private readonly reporter: ErrorReporter,
  ) {}

  /** Opens both sockets; on failure nothing stays open and an HbError says which step failed. */
  async open(onPacket: (pkt: ReceivedPacket) => void): Promise<void> {
    const { cfg } = this;
    const v6 = cfg.family === 6;
    const recv = createSocket(v6 ? { type: 'udp6', reuseAddr: true, ipv6Only: true } : { type: 'udp4', reuseAddr: true });
    const send = createSocket(v6 ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
    this.recv = recv;
    this.sendSock = send;
    const shown = v6 ? `[${cfg.recvAddress}]:${cfg.port}` : `${cfg.recvAddress}:${cfg.port}`;
    let step = `bind receive socket to ${shown}`;
    try {
      await bindSocket(recv, cfg.recvAddress, cfg.port);
      if (cfg.bindDevice !== undefined) {
        step = `bind receive socket to device ${cfg.bindDevice}`;
        bindSocketToDevice(recv, cfg.bindDevice);
      }
      step = 'set up receive socket';
      cfg.setupRecv?.(recv);
      // Port 0: the kernel picks an ephemeral source port, as for heartbeat's unbound socket.
      step = 'bind send socket';
      await bindSocket(send, v6 ? '::' : '0.0.0.0', 0);
      if (cfg.bindDevice !== undefined) {
        step = `bind send socket to device ${cfg.bindDevice}`;
        bindSocketToDevice(send, cfg.bindDevice);
      }
      step = 'set up send socket';
      cfg.setupSend?.(send);
    } catch (err) {
      await this.close();
      throw new HbError(MEDIA.OPEN_FAILED, `${cfg.who}: cannot ${step}: ${errnoOf(err)}`, { cause: err });
    }
    // Listeners only after a successful bind: bind errors are reported by open() itself.
    recv.on('error', (err) => {
      this.reporter.report(MEDIA.RECEIVE_FAILED, `${cfg.who}: receive error: ${errnoOf(err)}`, `recv:${errnoOf(err)}`, err);
    });
    send.on('error', (err) => {
      this.reporter.report(MEDIA.SEND_FAILED, `${cfg.who}: send socket error: ${errnoOf(err)}`, `send:${errnoOf(err)}`, err);
    });
    // The send socket could receive unicast to its ephemeral port; nothing legitimate goes there.
    send.on('message', () => undefined);
    recv.on('message', (data, rinfo) => {
      if (this.closed) return;
      if (cfg.accept !== undefined && !cfg.accept(rinfo)) return;
      try {
        onPacket({ data, from: v6 ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}` });
      } catch (err) {
        this.reporter.report(MEDIA.CALLBACK_FAILED, `${cfg.who}: packet handler threw: ${errnoOf(err)}`, 'callback', err);
      }
    });
  }

  send(data: Buffer): void {
    const { cfg } = this;
    const sock = this.sendSock;
    if (sock === undefined || this.closed) {
      this.reporter.report(MEDIA.NOT_OPEN, `${cfg.who}: cannot send: medium is ${this.closed ? 'closed' : 'not open'}`);
      return;
    }
    const fail = (err: unknown): void => {
      const code = errnoOf(err);
      this.reporter.report(
        MEDIA.SEND_FAILED,
        `${cfg.who}: cannot send ${data.length} bytes to ${cfg.destAddress}:${cfg.destPort}: ${code}`,
        `send:${code}`,
        err,
      );
    };
    this.inFlight++;
    const done = (): void => {
      this.inFlight--;
      if (this.inFlight === 0) for (const f of this.onDrained.splice(0)) f();
    };
    try {
      sock.send(data, cfg.destPort, cfg.destAddress, (err) => {
        done();
        if (err) fail(err);
      });
    } catch (err) {
      done();
      fail(err);
    }
  }

  /**
   * Closes both sockets once the datagrams already sent have left (bounded
   * by drainMs): dgram sends complete asynchronously, and closing at once
   * silently drops them — a daemon's last words (`shutdone`) included.
   */
  async close(drainMs = 1000): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        this.onDrained.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const socks = [this.recv, this.sendSock].filter((s): s is Socket => s !== undefined);
    this.recv = undefined;
    this.sendSock = undefined;
    await Promise.all(socks.map(closeSocket));
  }
}

/**
 * The Medium life cycle of every UDP medium: refuse a second open, resolve
 * the link's configuration (interface lookups may throw), open the
 * UdpLink, and keep nothing on failure.
 */
export abstract class UdpMedium implements Medium {
  abstract readonly kind: MediumKind;
  abstract readonly description: string;
  private link: UdpLink | undefined;
  private readonly reporter = new ErrorReporter();

  /** linkName: the interface, as heartbeat names the link. */
  constructor(readonly linkName: string) {}

  /** `bcast eth0`: names the medium in errors. */
  protected abstract get who(): string;

  /** The sockets' addresses and options; called by open(), may throw an HbError. */
  protected abstract linkConfig(): Promise<UdpLinkConfig>;

  async open(onPacket: (pkt: ReceivedPacket) => void, onError: (err: Error) => void): Promise<void> {
    if (this.link !== undefined) throw new HbError(MEDIA.ALREADY_OPEN, `${this.who}: already open`);
    const cfg = await this.linkConfig();
    this.reporter.setSink(onError);
    const link = new UdpLink(cfg, this.reporter);
    try {
      await link.open(onPacket);
    } catch (err) {
      this.reporter.setSink(undefined);
      throw err;
    }
    this.link = link;
  }

  get isOpen(): boolean {
    return this.link !== undefined;
  }

  send(data: Buffer): void {
    if (this.link === undefined) {
      this.reporter.report(MEDIA.NOT_OPEN, `${this.who}: cannot send: medium is not open`);
      return;
    }
    this.link.send(data);
  }

  async close(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    // Closing the sockets drops multicast memberships with them.
    if (link !== undefined) await link.close();
  }
}
