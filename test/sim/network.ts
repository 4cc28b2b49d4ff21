/**
 * A simulated Ethernet segment on simulated time: every datagram a node
 * sends reaches every attached medium (the sender too, as a broadcast
 * loops back) after a latency, through the shared manual clock, unless the
 * pair is partitioned, the datagram is lost, or the receiver is down.
 * Deterministic: loss draws from a seeded generator.
 */
import type { Medium, ReceivedPacket } from '../../lib/media/medium.js';
import type { ManualClock } from '../../lib/util/clock.js';

/** A small deterministic generator (mulberry32), for loss and the nodes' own randomness. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimNetwork {
  private readonly media: SimMedium[] = [];
  private readonly blocked = new Set<string>();
  private lossRate = 0;
  private readonly random: () => number;
  latencyMs = 1;
  /** Datagrams sent and delivered, for the scenarios' checks. */
  readonly counters = { sent: 0, delivered: 0, lost: 0, blocked: 0 };

  constructor(private readonly clock: ManualClock, seed = 1) {
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

  post(from: SimMedium, data: Buffer): void {
    this.counters.sent++;
    for (const to of this.media) {
      if (!to.isOpen) continue;
      if (to.owner !== from.owner && this.blocked.has(`${from.owner}>${to.owner}`)) {
        this.counters.blocked++;
        continue;
      }
      if (to.owner !== from.owner && this.lossRate > 0 && this.random() < this.lossRate) {
        this.counters.lost++;
        continue;
      }
      this.clock.setTimer(() => {
        this.counters.delivered++;
        to.deliver({ data, from: from.owner });
      }, this.latencyMs);
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
