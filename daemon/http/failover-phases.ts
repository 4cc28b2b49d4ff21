/**
 * The phases of a failover as this node lived it: a peer declared dead →
 * the first resource script run here → the first address resource started
 * → every group the dead node held (or prefers) started here. Fed by
 * membership's `nodeDead` and by the script tap; a failover with nothing to
 * take never completes and is dropped after `FAILOVER_GIVE_UP_MS`.
 */
import type { Resource, ResourceGroup } from '../../lib/config/types.js';

export type Phase = 'first_script' | 'address_up' | 'group_started';
export const PHASES: readonly Phase[] = ['first_script', 'address_up', 'group_started'];

/** A failover not complete after this long is abandoned (a stop that hung, nothing to take). */
export const FAILOVER_GIVE_UP_MS = 600_000;
/** Scripts that bring up an address (heartbeat's own and Debian's). */
const ADDRESS_SCRIPTS = new Set(['IPaddr', 'IPaddr2', 'IPv6addr', 'IPsrcaddr']);

export interface FailoverRecord {
  /** The node declared dead. */
  node: string;
  /** Wall clock of the declaration, ms since the epoch. */
  deadAtWallMs: number;
  /** Milliseconds from the declaration to each phase reached so far. */
  phases: Partial<Record<Phase, number>>;
  complete: boolean;
  /** The groups being taken. */
  groups: string[];
}

/** The failover in words, for the event log. */
export function failoverText(r: FailoverRecord): string {
  const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v} ms`);
  return `failover from ${r.node}: first script ${ms(r.phases.first_script)}, address up ${ms(r.phases.address_up)}, groups started ${ms(r.phases.group_started)}`;
}

interface Pending {
  record: FailoverRecord;
  startMs: number;
  /** Group key → its last resource; removed once that resource started. */
  waiting: Map<string, string>;
}

export class FailoverPhases {
  private pending: Pending | null = null;
  private last: FailoverRecord | null = null;

  constructor(private readonly groups: readonly ResourceGroup[], private readonly onComplete: (r: FailoverRecord) => void) {}

  /**
   * A peer was declared dead at monotonic `nowMs`; `heldBy` says who held
   * each group just before. The groups to take: those it held, and those
   * it prefers that nobody else holds.
   */
  nodeDead(node: string, nowMs: number, wallMs: number, heldBy: ReadonlyMap<string, string | null>, me: string): void {
    const lower = node.toLowerCase();
    const take = this.groups.filter((g) => {
      const holder = heldBy.get(g.key)?.toLowerCase();
      return holder === lower || (g.node === lower && holder !== me.toLowerCase());
    });
    if (take.length === 0) return;
    const waiting = new Map(take.map((g) => [g.key, (g.resources[g.resources.length - 1] as Resource).spec]));
    this.pending = { startMs: nowMs, waiting, record: { node, deadAtWallMs: wallMs, phases: {}, complete: false, groups: take.map((g) => g.key) } };
    this.last = this.pending.record;
  }

  private since(p: Pending, nowMs: number): number {
    return Math.round((nowMs - p.startMs) * 10) / 10;
  }

  scriptStarted(nowMs: number): void {
    const p = this.live(nowMs);
    if (p && p.record.phases.first_script === undefined) p.record.phases.first_script = this.since(p, nowMs);
  }

  /** A start finished (`ok`: exit 0). */
  started(r: Resource, ok: boolean, nowMs: number): void {
    const p = this.live(nowMs);
    if (!p || !ok) return;
    if (ADDRESS_SCRIPTS.has(r.script) && p.record.phases.address_up === undefined) p.record.phases.address_up = this.since(p, nowMs);
    for (const [key, lastSpec] of p.waiting) if (lastSpec === r.spec) p.waiting.delete(key);
    if (p.waiting.size > 0) return;
    p.record.phases.group_started = this.since(p, nowMs);
    p.record.complete = true;
    this.pending = null;
    this.onComplete(p.record);
  }

  /** The failover in progress or the last one, for the status page. */
  latest(): FailoverRecord | null {
    return this.last;
  }

  private live(nowMs: number): Pending | null {
    if (this.pending && nowMs - this.pending.startMs > FAILOVER_GIVE_UP_MS) this.pending = null;
    return this.pending;
  }
}
