/**
 * An in-process broadcast segment for unit tests of membership logic with a
 * manual clock: every datagram sent is delivered to every attached medium
 * (the sender too, as a real broadcast loops back). Delivery is queued and
 * drained iteratively so that replies sent while receiving do not recurse.
 * The real UDP media are exercised by the network-namespace tests.
 */
import type { Medium, ReceivedPacket } from '../../../lib/media/medium.js';

export class Hub {
  private readonly members: HubMedium[] = [];
  private readonly queue: { from: HubMedium; data: Buffer }[] = [];
  private draining = false;
  /** Return true to drop a datagram (loss injection); `to` is the receiver. */
  dropFilter: ((data: Buffer, from: string, to: string) => boolean) | null = null;
  readonly captured: { from: string; data: Buffer }[] = [];

  medium(owner: string, linkName = 'eth0'): HubMedium {
    const m = new HubMedium(this, owner, linkName);
    this.members.push(m);
    return m;
  }

  post(from: HubMedium, data: Buffer): void {
    this.captured.push({ from: from.owner, data });
    this.queue.push({ from, data });
    if (this.draining) return;
    this.draining = true;
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift()) {
        for (const m of this.members) {
          if (this.dropFilter?.(item.data, item.from.owner, m.owner)) continue;
          m.deliver({ data: item.data, from: item.from.owner });
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Delivers raw bytes as if some host on the segment sent them. */
  inject(data: Buffer): void {
    for (const m of this.members) m.deliver({ data, from: 'injector' });
  }
}

export class HubMedium implements Medium {
  readonly kind = 'bcast' as const;
  readonly description: string;
  private onPacket: ((p: ReceivedPacket) => void) | null = null;
  private open_ = false;
  constructor(private readonly hub: Hub, readonly owner: string, readonly linkName: string) {
    this.description = `hub medium ${linkName} for ${owner}`;
  }
  open(onPacket: (pkt: ReceivedPacket) => void): Promise<void> {
    this.onPacket = onPacket;
    this.open_ = true;
    return Promise.resolve();
  }
  send(data: Buffer): void {
    if (this.open_) this.hub.post(this, data);
  }
  deliver(p: ReceivedPacket): void {
    if (this.open_) this.onPacket?.(p);
  }
  close(): Promise<void> {
    this.open_ = false;
    return Promise.resolve();
  }
}
