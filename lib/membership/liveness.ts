/**
 * Node and link liveness as deadlines (spec 5.2): one timer, armed for the
 * earliest deadline, reports every node (and link) silent for longer than
 * its limit. Liveness owns when each node and link was last heard; the node
 * table owns their status. Detection is as precise as the deadline itself
 * rather than a fixed poll interval, and a timer firing far too late — our
 * own process was stalled (SIGSTOP, swap, a hung disk) — defers judgement
 * instead of blaming the peers for our silence.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { NodeInfo } from './nodes.js';

export interface LivenessPort {
  /** The node table, read-only, in configuration order. */
  nodes(): readonly NodeInfo[];
  readonly myName: string;
  readonly keepaliveMs: number;
  readonly deadtimeMs: number;
  /** initdead before comm is up, else the node's own dead time. */
  limitFor(n: NodeInfo): number;
  /** A node stayed silent past its limit. */
  silent(name: string): void;
  /** A link of a peer stayed silent past the link limit. */
  linkSilent(name: string, link: string): void;
  /** Runs after every check (comm-up detection). */
  afterCheck(): void;
  /** Our own process was stalled this long. */
  stalled(ms: number): void;
}

const linkKey = (node: string, link: string): string => `${node}\n${link}`;

/**
 * A deadline timer this late (or half a keepalive, if more) means our own
 * process did not run: timer jitter on a loaded machine stays well below.
 */
const SHORT_STALL_MS = 20;

export class Liveness {
  private timer: TimerHandle | null = null;
  private dueMs = Infinity;
  private stopped = false;
  /** Monotonic ms of each node's last accepted status, moved later by our own stalls. */
  private readonly lastStatus = new Map<string, number>();
  /** Monotonic ms of the last packet on each node's link, moved later by our own stalls. */
  private readonly lastOnLink = new Map<string, number>();
  /** When each node's status and each link's packet really came (a short stall's excuse is bounded by them). */
  private readonly heardStatus = new Map<string, number>();
  private readonly heardOnLink = new Map<string, number>();

  constructor(private readonly port: LivenessPort, private readonly clock: Clock, private readonly startedAtMs: number) {}

  /** Milliseconds since the node's previous status, undefined when none was heard. */
  sinceStatus(name: string): number | undefined {
    const last = this.lastStatus.get(name);
    return last === undefined ? undefined : this.clock.nowMs() - last;
  }
  statusKnown(name: string): boolean {
    return this.lastStatus.has(name);
  }
  statusHeard(name: string): void {
    const now = this.clock.nowMs();
    this.lastStatus.set(name, now);
    this.heardStatus.set(name, now);
  }
  /** A restarted peer: its previous run's timing no longer counts. */
  forgetStatus(name: string): void {
    this.lastStatus.delete(name);
    this.heardStatus.delete(name);
  }
  linkHeard(name: string, link: string): void {
    const now = this.clock.nowMs();
    const key = linkKey(name, link);
    this.lastOnLink.set(key, now);
    this.heardOnLink.set(key, now);
  }

  /** Arms the timer for `dueMs` unless it is already armed for an earlier time. */
  schedule(dueMs: number): void {
    if (this.stopped || dueMs >= this.dueMs) return;
    this.timer?.cancel();
    this.dueMs = dueMs;
    const delay = Math.max(1, dueMs - this.clock.nowMs());
    this.timer = this.clock.setTimer(() => {
      this.dueMs = Infinity;
      this.timer = null;
      if (this.stopped) return;
      // Our own stall is excused before the packets queued meanwhile are read
      // (they would show the peer late); then those packets are read before
      // anyone is judged silent.
      this.excuseOwnLateness(this.clock.nowMs() - dueMs);
      const judge = (): void => this.check();
      if (this.clock.afterInput) this.clock.afterInput(judge);
      else judge();
    }, delay);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /**
   * Gives every live node and link `graceMs` more, counted from now: the
   * silence we measured includes time we were frozen ourselves. A long
   * stall (SIGSTOP, swap) is excused whole; a short one (the whole host
   * paused for some tens of ms) moves no deadline past the real last packet
   * plus one more limit, so that a process that keeps stalling still finds a
   * dead peer dead, at worst one dead time later.
   */
  private excuseStall(now: number, graceMs: number, bounded: boolean): void {
    const p = this.port;
    const nodes = p.nodes();
    const minLimit = Math.min(...nodes.map((n) => p.limitFor(n)));
    const until = now - minLimit + graceMs;
    // a link up but never heard counts from 0, as check() reads it; a node never heard is not judged
    const postpone = (last: Map<string, number>, heard: Map<string, number>, key: string, unheard?: number): void => {
      const was = last.get(key) ?? unheard;
      if (was === undefined) return;
      const cap = bounded ? (heard.get(key) ?? was) + minLimit : Infinity;
      last.set(key, Math.max(was, Math.min(until, cap)));
    };
    for (const n of nodes) {
      if (n.status !== 'dead') postpone(this.lastStatus, this.heardStatus, n.name);
      for (const l of n.links) if (l.status === 'up') postpone(this.lastOnLink, this.heardOnLink, linkKey(n.name, l.name), 0);
    }
  }

  /** A deadline timer `lateness` ms late: our own process did not run meanwhile. */
  private excuseOwnLateness(lateness: number): void {
    const p = this.port;
    const now = this.clock.nowMs();
    if (lateness > Math.max(p.keepaliveMs * 2, 1000)) {
      p.stalled(Math.round(lateness));
      this.excuseStall(now, Math.max(p.keepaliveMs * 2, 500), false);
    } else if (lateness > Math.max(p.keepaliveMs / 2, SHORT_STALL_MS)) {
      this.excuseStall(now, p.keepaliveMs * 2, true);
    }
  }

  private check(): void {
    if (this.stopped) return;
    const p = this.port;
    const now = this.clock.nowMs();
    let next = Infinity;
    for (const n of p.nodes()) {
      if (n.status === 'dead') continue;
      const limit = p.limitFor(n);
      const last = this.lastStatus.get(n.name) ?? this.startedAtMs;
      if (now - last > limit) p.silent(n.name);
      else next = Math.min(next, last + limit);
    }
    // heartbeat applies one limit to every link: that of the last node.
    const nodes = p.nodes();
    const lastNode = nodes[nodes.length - 1];
    const linkLimit = lastNode ? p.limitFor(lastNode) : p.deadtimeMs;
    for (const n of nodes) {
      if (n.name === p.myName) continue;
      for (const l of n.links) {
        if (l.status !== 'up') continue;
        const heard = this.lastOnLink.get(linkKey(n.name, l.name)) ?? 0;
        if (now - heard > linkLimit) p.linkSilent(n.name, l.name);
        else next = Math.min(next, heard + linkLimit);
      }
    }
    p.afterCheck();
    // Re-check at least every keepalive (250 ms at least) so that a late
    // status keeps being judged and comm-up is noticed.
    next = Math.min(next, now + Math.max(p.keepaliveMs, 250));
    this.schedule(next + 1);
  }
}
