/**
 * /status.json: what the status page draws, for people's scripts too.
 * Stable field names (documented in the README); times as ISO 8601 UTC.
 */
import type { ClusterEvent, GroupEntry } from '../overview.js';
import type { FailoverRecord } from './failover-phases.js';
import type { ObservedState } from './observed.js';

export interface StatusDocument {
  node: string;
  version: string;
  time: string;
  startedAt: string;
  resourceState: string | null;
  /** With `quorum majority`: whether this partition has quorum and whom it counts; null otherwise. */
  quorum: { has: boolean; live: string[]; configured: number } | null;
  nodes: Array<{ name: string; type: string; status: string; links: Array<{ name: string; status: string }> }>;
  groups: GroupEntry[];
  monitors: Array<{ resource: string; group: string; failures: number; maxFailures: number; lastFailure: { time: string; reason: string } | null }>;
  /** Newest last. */
  events: ClusterEvent[];
  /** Newest last; the one in progress included (complete false). */
  failovers: Array<{ node: string; deadAt: string; complete: boolean; groups: string[]; phasesMs: FailoverRecord['phases'] }>;
}

/** Events shown on the page. */
const EVENTS_SHOWN = 50;

export function statusDocument(s: ObservedState): StatusDocument {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const failovers = [...s.failovers];
  const latest = s.phases.latest();
  if (latest && !latest.complete) failovers.push(latest);
  return {
    node: s.o.nodename,
    version: s.o.version,
    time: iso(s.o.clock.wallMs()),
    startedAt: iso(s.startedWallMs),
    resourceState: s.o.rscstatus() ?? null,
    quorum: s.quorumState(),
    nodes: (s.cluster?.views() ?? []).map((v) => ({ name: v.name, type: v.type, status: v.status, links: v.links.map((l) => ({ name: l.name, status: l.status })) })),
    groups: s.groupEntries(),
    monitors: s.o.monitors().map((m) => ({
      resource: m.resource, group: m.group, failures: m.failures, maxFailures: m.maxFailures,
      lastFailure: m.lastFailure ? { time: iso(m.lastFailure.atMs), reason: m.lastFailure.reason } : null,
    })),
    events: s.o.events.recent(EVENTS_SHOWN),
    failovers: failovers.map((f) => ({ node: f.node, deadAt: iso(f.deadAtWallMs), complete: f.complete, groups: f.groups, phasesMs: { ...f.phases } })),
  };
}
