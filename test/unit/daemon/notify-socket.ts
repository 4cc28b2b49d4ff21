/**
 * Plays systemd's side of the notify protocol in tests: a real AF_UNIX
 * datagram socket (path or @abstract) bound through the hb_notify addon,
 * drained every 20 ms into a list of received datagrams.
 */
import { loadAddon } from '../../../lib/util/addon.js';

interface NotifyAddon {
  notifyBind(address: string): number;
  notifyRecv(fd: number): Buffer | null;
  notifySend(address: string, data: Buffer): number;
}

export const notifyAddon = (): NotifyAddon => loadAddon<NotifyAddon>('hb_notify', 'NOTIFY', 'systemd notify');

export interface Datagram {
  /** Milliseconds since the listener was bound (performance.now based). */
  atMs: number;
  text: string;
}

export class NotifyListener {
  readonly received: Datagram[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = performance.now();

  private constructor(readonly address: string, private readonly fd: number) {
    this.timer = setInterval(() => this.drain(), 20);
  }

  static bind(address: string): NotifyListener {
    const fd = notifyAddon().notifyBind(address);
    if (fd < 0) throw new Error(`cannot bind ${address}: errno ${-fd}`);
    return new NotifyListener(address, fd);
  }

  drain(): void {
    for (;;) {
      const b = notifyAddon().notifyRecv(this.fd);
      if (b === null) return;
      this.received.push({ atMs: performance.now() - this.t0, text: b.toString('utf8') });
    }
  }

  /** Every `KEY=value` line received, in order. */
  lines(): string[] {
    return this.received.flatMap((d) => d.text.split('\n')).filter((l) => l !== '');
  }

  close(): void {
    clearInterval(this.timer);
    loadAddon<{ closeFd(fd: number): number }>('hb_net', 'NET', 'socket options').closeFd(this.fd);
  }
}
