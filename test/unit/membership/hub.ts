/**
 * An in-process broadcast segment for unit tests of membership logic: every
 * datagram sent is delivered to every attached medium (the sender too, as a
 * real broadcast loops back) on a later turn (the clock's deferred queue, in
 * order with the nodes' own loopback), never inside the sender's call. The real UDP media are exercised
 * by the network-namespace tests; test/sim has a segment with latency,
 * loss and partitions.
 */
import type { Medium, ReceivedPacket } from '../../../lib/media/medium.js';
import type { Clock } from '../../../lib/util/clock.js';

export class Hub {
  private readonly members: HubMedium[] = [];
  private readonly queue: { from: HubMedium; data: Buffer }[] = [];
  private scheduled = false;
  /** Return true to drop a datagram (loss injection); `to` is the receiver. */
  dropFilter: ((data: Buffer, from: string, to: string) => boolean) | null = null;
  readonly captured: { from: string; data: Buffer }[] = [];

  constructor(private readonly clock: Clock) {}

  medium(owner: string, linkName = 'eth0'): HubMedium {
    const m = new HubMedium(this, owner, linkName);
    this.members.push(m);
    return m;
  }

  post(from: HubMedium, data: Buffer): void {
    this.captured.push({ from: from.owner, data });
    this.queue.push({ from, data });
    if (this.scheduled) return;
    this.scheduled = true;
    this.clock.defer(() => this.deliverQueued());
  }

  /** Delivers what was sent before this turn; what is sent while receiving goes on the next. */
  private deliverQueued(): void {
    this.scheduled = false;
    for (const item of this.queue.splice(0)) {
      for (const m of this.members) {
        if (this.dropFilter?.(item.data, item.from.owner, m.owner)) continue;
        m.deliver({ data: item.data, from: item.from.owner });
      }
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
