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

export class Liveness {
  private timer: TimerHandle | null = null;
  private dueMs = Infinity;
  private stopped = false;
  /** Monotonic ms of each node's last accepted status. */
  private readonly lastStatus = new Map<string, number>();
  /** Monotonic ms of the last packet on each node's link. */
  private readonly lastOnLink = new Map<string, number>();

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
    this.lastStatus.set(name, this.clock.nowMs());
  }
  /** A restarted peer: its previous run's timing no longer counts. */
  forgetStatus(name: string): void {
    this.lastStatus.delete(name);
  }
  linkHeard(name: string, link: string): void {
    this.lastOnLink.set(linkKey(name, link), this.clock.nowMs());
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
      // Heartbeats that arrived while this process was busy (a GC, a burst of
      // work) are read before anyone is judged silent.
      const judge = (): void => this.check(dueMs);
      if (this.clock.afterInput) this.clock.afterInput(judge);
      else judge();
    }, delay);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Gives every live node and link one more keepalive window, counted from now. */
  private excuseStall(now: number, lateness: number): void {
    const p = this.port;
    p.stalled(Math.round(lateness));
    // The packets queued while we were frozen are read first.
    const nodes = p.nodes();
    const grace = now - Math.min(...nodes.map((n) => p.limitFor(n))) + Math.max(p.keepaliveMs * 2, 500);
    for (const n of nodes) {
      const last = this.lastStatus.get(n.name);
      if (n.status !== 'dead' && last !== undefined) this.lastStatus.set(n.name, Math.max(last, grace));
      for (const l of n.links) {
        const key = linkKey(n.name, l.name);
        if (l.status === 'up') this.lastOnLink.set(key, Math.max(this.lastOnLink.get(key) ?? 0, grace));
      }
    }
  }

  private check(dueMs: number): void {
    if (this.stopped) return;
    const p = this.port;
    const now = this.clock.nowMs();
    const lateness = now - dueMs;
    if (lateness > Math.max(p.keepaliveMs * 2, 1000)) this.excuseStall(now, lateness);
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
