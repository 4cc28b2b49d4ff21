/**
 * A simulated Ethernet segment: every datagram a node sends reaches every
 * attached medium (the sender too, as a broadcast loops back) after a
 * latency on the injected clock (simulated time with a manual clock), never
 * inside the sender's call, unless the pair is partitioned, the datagram is
 * lost or dropped by a filter, or the receiver is down. Deterministic: loss
 * draws from a seeded generator. Also the segment of the membership and
 * API unit tests.
 */
import type { Medium, ReceivedPacket } from '../../lib/media/medium.js';
import type { Clock } from '../../lib/util/clock.js';
import { prng } from '../netns/hostile-gen.js';

/** A small deterministic generator, for loss and the nodes' own randomness. */
export const seededRandom = prng;

export class SimNetwork {
  private readonly media: SimMedium[] = [];
  private readonly blocked = new Set<string>();
  private lossRate = 0;
  private readonly random: () => number;
  /** Delivery delay; 0 delivers on the clock's next turn instead of after a timer. */
  latencyMs = 1;
  /** Datagrams sent and delivered, for the scenarios' checks. */
  readonly counters = { sent: 0, delivered: 0, lost: 0, blocked: 0 };
  /** Every datagram sent, in order. */
  readonly captured: { from: string; data: Buffer }[] = [];
  /** Return true to drop a datagram (loss injection); `to` is the receiver. */
  dropFilter: ((data: Buffer, from: string, to: string) => boolean) | null = null;

  constructor(private readonly clock: Clock, seed = 1) {
    this.random = seededRandom(seed);
  }

  medium(owner: string, linkName = 'eth0'): SimMedium {
    const m = new SimMedium(this, owner, linkName);
    this.media.push(m);
    return m;
  }

  /** Cuts the segment into groups that hear only each other (nodes in no group hear nobody). */
  partition(...groups: string[][]): void {
    this.blocked.clear();
    const names = new Set(this.media.map((m) => m.owner));
    const side = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((n) => side.set(n, i)));
    for (const a of names) for (const b of names) {
      if (a !== b && side.get(a) !== side.get(b)) this.blocked.add(`${a}>${b}`);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Drops this fraction of datagrams (each receiver draws on its own). */
  setLoss(rate: number): void {
    this.lossRate = rate;
  }

  /** Delivers raw bytes at once, as if some host on the segment sent them. */
  inject(data: Buffer): void {
    for (const m of this.media) m.deliver({ data, from: 'injector' });
  }

  post(from: SimMedium, data: Buffer): void {
    this.counters.sent++;
    this.captured.push({ from: from.owner, data });
    for (const to of this.media) {
      if (!to.isOpen || this.dropFilter?.(data, from.owner, to.owner)) continue;
      if (to.owner !== from.owner && this.blocked.has(`${from.owner}>${to.owner}`)) {
        this.counters.blocked++;
        continue;
      }
      if (to.owner !== from.owner && this.lossRate > 0 && this.random() < this.lossRate) {
        this.counters.lost++;
        continue;
      }
      const deliver = (): void => {
        this.counters.delivered++;
        to.deliver({ data, from: from.owner });
      };
      // No latency: on the clock's next turn (also while nobody advances a manual clock).
      if (this.latencyMs === 0) this.clock.defer(deliver);
      else this.clock.setTimer(deliver, this.latencyMs);
    }
  }
}

export class SimMedium implements Medium {
  readonly kind = 'bcast' as const;
  readonly description: string;
  private onPacket: ((p: ReceivedPacket) => void) | null = null;
  private open_ = false;

  constructor(private readonly net: SimNetwork, readonly owner: string, readonly linkName: string) {
    this.description = `simulated segment ${linkName} for ${owner}`;
  }

  get isOpen(): boolean {
    return this.open_;
  }

  open(onPacket: (pkt: ReceivedPacket) => void): Promise<void> {
    this.onPacket = onPacket;
    this.open_ = true;
    return Promise.resolve();
  }

  send(data: Buffer): void {
    if (this.open_) this.net.post(this, data);
  }

  deliver(p: ReceivedPacket): void {
    if (this.open_) this.onPacket?.(p);
  }

  close(): Promise<void> {
    this.open_ = false;
    return Promise.resolve();
  }
}
