/**
 * The socket pair behind every UDP medium (spec 7.1): a receive socket bound
 * to a medium-specific address on the heartbeat port, and a send socket on
 * an ephemeral port, like heartbeat's unbound write socket.
 *
 * Heartbeat ties both sockets to the interface with SO_BINDTODEVICE; Node's
 * dgram cannot, so each medium picks a receive address that only its own
 * interface's traffic reaches (broadcast address, own address, group).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { HbError } from '../util/errors.js';
import type { ReceivedPacket } from './medium.js';
import { errnoOf, type ErrorReporter } from './report.js';

export interface UdpLinkConfig {
  /** Names the medium in messages, e.g. `bcast eth0`. */
  who: string;
  recvAddress: string;
  port: number;
  destAddress: string;
  destPort: number;
  /** Runs after the receive socket is bound (multicast membership). */
  setupRecv?: (sock: Socket) => void;
  /** Runs after the send socket is bound (broadcast flag, multicast options). */
  setupSend?: (sock: Socket) => void;
  /** Datagrams for which this returns false are dropped silently. */
  accept?: (rinfo: RemoteInfo) => boolean;
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
    const recv = createSocket({ type: 'udp4', reuseAddr: true });
    const send = createSocket({ type: 'udp4' });
    this.recv = recv;
    this.sendSock = send;
    let step = `bind receive socket to ${cfg.recvAddress}:${cfg.port}`;
    try {
      await bindSocket(recv, cfg.recvAddress, cfg.port);
      step = 'set up receive socket';
      cfg.setupRecv?.(recv);
      // Port 0: the kernel picks an ephemeral source port, as for heartbeat's unbound socket.
      step = 'bind send socket';
      await bindSocket(send, '0.0.0.0', 0);
      step = 'set up send socket';
      cfg.setupSend?.(send);
    } catch (err) {
      await this.close();
      throw new HbError('MEDIA_OPEN_FAILED', `${cfg.who}: cannot ${step}: ${errnoOf(err)}`, { cause: err });
    }
    // Listeners only after a successful bind: bind errors are reported by open() itself.
    recv.on('error', (err) => {
      this.reporter.report('MEDIA_RECEIVE_FAILED', `${cfg.who}: receive error: ${errnoOf(err)}`, `recv:${errnoOf(err)}`, err);
    });
    send.on('error', (err) => {
      this.reporter.report('MEDIA_SEND_FAILED', `${cfg.who}: send socket error: ${errnoOf(err)}`, `send:${errnoOf(err)}`, err);
    });
    // The send socket could receive unicast to its ephemeral port; nothing legitimate goes there.
    send.on('message', () => undefined);
    recv.on('message', (data, rinfo) => {
      if (this.closed) return;
      if (cfg.accept !== undefined && !cfg.accept(rinfo)) return;
      try {
        onPacket({ data, from: `${rinfo.address}:${rinfo.port}` });
      } catch (err) {
        this.reporter.report('MEDIA_CALLBACK_FAILED', `${cfg.who}: packet handler threw: ${errnoOf(err)}`, 'callback', err);
      }
    });
  }

  send(data: Buffer): void {
    const { cfg } = this;
    const sock = this.sendSock;
    if (sock === undefined || this.closed) {
      this.reporter.report('MEDIA_NOT_OPEN', `${cfg.who}: cannot send: medium is ${this.closed ? 'closed' : 'not open'}`);
      return;
    }
    const fail = (err: unknown): void => {
      const code = errnoOf(err);
      this.reporter.report(
        'MEDIA_SEND_FAILED',
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
