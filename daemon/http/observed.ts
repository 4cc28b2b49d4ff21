/**
 * What the daemon's HTTP endpoint reports, kept for the daemon's whole life:
 * a node restart (healed partition) or a reload of ha.cf builds a new
 * membership core whose counters start at zero, so the totals of the old
 * one are carried over here and /metrics counters never go backwards while
 * the process lives. Fed by ObservedFeed (./feed.ts).
 */
import type { AuthCounters } from '../../lib/auth/authenticator.js';
import type { ResourceGroup } from '../../lib/config/types.js';
import type { Cluster } from '../../lib/membership/cluster.js';
import type { PeerCounts } from '../../lib/membership/counters.js';
import type { MonitorEntry } from '../../lib/resources/monitor.js';
import { QuorumRules, type QuorumMode, type QuorumState } from '../../lib/resources/quorum.js';
import type { Operation } from '../../lib/resources/script-runner.js';
import type { Clock } from '../../lib/util/clock.js';
import type { ClusterEvent, EventLog, GroupEntry } from '../overview.js';
import { FailoverPhases, failoverText, PHASES, type FailoverRecord, type Phase } from './failover-phases.js';
import { Histogram } from './prom-text.js';

/** Seconds: from a few milliseconds (in-process moves) to minutes (slow services). */
export const PHASE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
export const SCRIPT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];
/** Failovers kept for the page. */
const FAILOVERS_KEPT = 10;

export type AuthTotals = AuthCounters;
type MessagingTotals = { heartbeatsSent: number; sent: number; rexmitRequested: number; rexmitSent: number };

export interface ScriptStats { runs: number; failures: number }

/** The membership core being observed now, and how to read its totals. */
export interface ObservedCore {
  cluster: Cluster;
  auth: () => AuthTotals;
}

export interface ObservedOptions {
  clock: Clock;
  nodename: string;
  version: string;
  groups: readonly ResourceGroup[];
  events: EventLog;
  /** Holders of the groups as this node sees them (empty without resource management). */
  groupEntries: (cluster: Cluster) => GroupEntry[];
  rscstatus: () => string | undefined;
  monitors: () => MonitorEntry[];
  /** heartbeat-ts.cf `quorum` in effect (off: 3.0.6's behaviour). */
  quorum: QuorumMode;
}

const zeroAuth = (): AuthTotals => ({ ok: 0, malformed: 0, 'unknown-key': 0, 'bad-digest': 0, replay: 0 });
const zeroPeer = (): PeerCounts => ({ heartbeats: 0, late: 0, lost: 0, lostALot: 0 });

/** `into` plus `more`, field by field. */
function addPeer(into: PeerCounts, more: PeerCounts): PeerCounts {
  into.heartbeats += more.heartbeats;
  into.late += more.late;
  into.lost += more.lost;
  into.lostALot += more.lostALot;
  return into;
}

export class ObservedState {
  readonly startedWallMs: number;
  private core: ObservedCore | null = null;
  private readonly carriedAuth = zeroAuth();
  private readonly carriedMsg: MessagingTotals = { heartbeatsSent: 0, sent: 0, rexmitRequested: 0, rexmitSent: 0 };
  private readonly carriedPeers = new Map<string, PeerCounts>();
  readonly deaths = new Map<string, number>();
  readonly restarts = new Map<string, number>();
  readonly standbyRequests = new Map<string, number>();
  partitionHeals = 0;
  stalls = 0;
  takeovers = 0;
  readonly scripts = new Map<string, { resource: string; op: Operation; stats: ScriptStats }>();
  readonly scriptDurations = new Map<Operation, Histogram>();
  readonly phaseHistograms = new Map<Phase, Histogram>(PHASES.map((p) => [p, new Histogram(PHASE_BUCKETS)]));
  readonly failovers: FailoverRecord[] = [];
  readonly phases: FailoverPhases;

  constructor(readonly o: ObservedOptions) {
    this.startedWallMs = o.clock.wallMs();
    this.phases = new FailoverPhases(o.groups, (r) => this.failoverComplete(r));
  }

  get cluster(): Cluster | null {
    return this.core?.cluster ?? null;
  }

  /** A new membership core: the old one's totals are carried over. */
  bind(core: ObservedCore | null): void {
    const old = this.core;
    if (old && old !== core) {
      const a = old.auth();
      for (const k of Object.keys(a) as (keyof AuthTotals)[]) this.carriedAuth[k] += a[k];
      const s = old.cluster.stats();
      this.carriedMsg.heartbeatsSent += old.cluster.counters.heartbeatsSent;
      this.carriedMsg.sent += s.sent;
      this.carriedMsg.rexmitRequested += s.rexmitRequested;
      this.carriedMsg.rexmitSent += s.rexmitSent;
      for (const p of old.cluster.counters.snapshot()) this.carriedPeers.set(p.node, addPeer(this.carriedPeers.get(p.node) ?? zeroPeer(), p));
    }
    this.core = core;
  }

  authTotals(): AuthTotals {
    const now = this.core?.auth() ?? zeroAuth();
    const out = { ...this.carriedAuth };
    for (const k of Object.keys(out) as (keyof AuthTotals)[]) out[k] += now[k];
    return out;
  }

  messagingTotals(): MessagingTotals {
    const c = this.core?.cluster;
    const s = c?.stats() ?? { sent: 0, rexmitRequested: 0, rexmitSent: 0 };
    return {
      heartbeatsSent: this.carriedMsg.heartbeatsSent + (c?.counters.heartbeatsSent ?? 0),
      sent: this.carriedMsg.sent + s.sent,
      rexmitRequested: this.carriedMsg.rexmitRequested + s.rexmitRequested,
      rexmitSent: this.carriedMsg.rexmitSent + s.rexmitSent,
    };
  }

  peerTotals(): Map<string, PeerCounts> {
    const out = new Map<string, PeerCounts>();
    for (const [n, c] of this.carriedPeers) out.set(n, { ...c });
    for (const p of this.core?.cluster.counters.snapshot() ?? []) out.set(p.node, addPeer(out.get(p.node) ?? zeroPeer(), p));
    return out;
  }

  /** The partition's quorum now, with `quorum majority`; null when off or before the node runs. */
  quorumState(): QuorumState | null {
    const c = this.core?.cluster;
    if (this.o.quorum !== 'majority' || !c) return null;
    return new QuorumRules(c.views().filter((v) => v.type === 'normal').map((v) => v.name), this.o.nodename).evaluate(c.normalNodes());
  }

  groupEntries(): GroupEntry[] {
    const c = this.core?.cluster;
    return c ? this.o.groupEntries(c) : [];
  }

  scriptFinished(resource: string, op: Operation, failed: boolean, seconds: number): void {
    const key = `${resource}\u0000${op}`;
    const entry = this.scripts.get(key) ?? { resource, op, stats: { runs: 0, failures: 0 } };
    entry.stats.runs++;
    if (failed) entry.stats.failures++;
    this.scripts.set(key, entry);
    let h = this.scriptDurations.get(op);
    if (!h) this.scriptDurations.set(op, (h = new Histogram(SCRIPT_BUCKETS)));
    h.observe(seconds);
  }

  /** An event for the page and hb_status, stamped now. */
  event(e: Omit<ClusterEvent, 'time'>): void {
    this.o.events.add({ time: new Date(this.o.clock.wallMs()).toISOString(), ...e });
  }

  private failoverComplete(r: FailoverRecord): void {
    this.takeovers++;
    for (const p of PHASES) {
      const ms = r.phases[p];
      if (ms !== undefined) this.phaseHistograms.get(p)?.observe(ms / 1000);
    }
    this.failovers.push(r);
    if (this.failovers.length > FAILOVERS_KEPT) this.failovers.splice(0, this.failovers.length - FAILOVERS_KEPT);
    this.event({ kind: 'failover', node: r.node, text: failoverText(r) });
  }
}

/** Adds one to a bounded map keyed by configured names. */
export function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
