/**
 * /metrics: everything ObservedState knows, in Prometheus naming (one
 * `heartbeat_` prefix, base units, `_total` counters). Labels take only
 * configured names (nodes, links, groups, resources) or fixed sets
 * (statuses, reasons, operations, phases): the series count is bounded by
 * the configuration.
 */
import type { NodeStatus } from '../../lib/membership/nodes.js';
import { PHASES } from './failover-phases.js';
import type { ObservedState } from './observed.js';
import { Exposition, type Labels } from './prom-text.js';

const NODE_STATUSES: readonly NodeStatus[] = ['init', 'up', 'active', 'dead', 'ping'];
const RESOURCE_STATES = ['none', 'local', 'foreign', 'all', 'transition'] as const;
const REJECT_REASONS = ['malformed', 'unknown-key', 'bad-digest', 'replay'] as const;

type Sample = [Labels | undefined, number];

function membership(s: ObservedState, e: Exposition): void {
  const views = s.cluster?.views() ?? [];
  e.family('heartbeat_node_up', 'Whether the node is alive as this node sees it (1) or dead (0).',
    views.map((v): Sample => [{ node: v.name, type: v.type }, v.status === 'dead' ? 0 : 1]));
  e.family('heartbeat_node_status', 'The node\'s status: 1 for the current one.',
    views.flatMap((v) => NODE_STATUSES.map((st): Sample => [{ node: v.name, status: st }, v.status === st ? 1 : 0])));
  e.family('heartbeat_link_up', 'Whether a link to the node is up (1) or dead (0).',
    views.flatMap((v) => v.links.map((l): Sample => [{ node: v.name, link: l.name }, l.status === 'up' ? 1 : 0])));
  const m = s.messagingTotals();
  e.family('heartbeat_heartbeats_sent_total', 'Status heartbeats this node sent.', [[undefined, m.heartbeatsSent]]);
  e.family('heartbeat_messages_sent_total', 'Cluster messages this node sent (heartbeats included).', [[undefined, m.sent]]);
  const peers = [...s.peerTotals()];
  e.family('heartbeat_heartbeats_received_total', 'Status heartbeats received from the node.', peers.map(([node, c]): Sample => [{ node }, c.heartbeats]));
  e.family('heartbeat_late_heartbeats_total', 'Heartbeats from the node later than warntime.', peers.map(([node, c]): Sample => [{ node }, c.late]));
  e.family('heartbeat_lost_packets_total', 'Sequence numbers found missing from the node (gaps).', peers.map(([node, c]): Sample => [{ node }, c.lost]));
  e.family('heartbeat_packet_loss_resets_total', 'Gaps from the node too large to ask for again.', peers.map(([node, c]): Sample => [{ node }, c.lostALot]));
  e.family('heartbeat_retransmit_requests_total', 'Retransmissions this node asked peers for.', [[undefined, m.rexmitRequested]]);
  e.family('heartbeat_retransmissions_total', 'Messages this node sent again on a peer\'s request.', [[undefined, m.rexmitSent]]);
  const a = s.authTotals();
  e.family('heartbeat_packets_accepted_total', 'Packets that passed authentication.', [[undefined, a.ok]]);
  e.family('heartbeat_packets_rejected_total', 'Packets rejected, by reason.', REJECT_REASONS.map((r): Sample => [{ reason: r }, a[r]]));
  e.family('heartbeat_node_deaths_total', 'Times the node was declared dead.', [...s.deaths].map(([node, n]): Sample => [{ node }, n]));
  e.family('heartbeat_peer_restarts_total', 'Times the node came back with a new generation.', [...s.restarts].map(([node, n]): Sample => [{ node }, n]));
  e.family('heartbeat_partition_heals_total', 'Nodes seen returning after a partition.', [[undefined, s.partitionHeals]]);
  e.family('heartbeat_event_loop_stalls_total', 'Times this daemon\'s own event loop stalled past the checks.', [[undefined, s.stalls]]);
}

function resources(s: ObservedState, e: Exposition): void {
  const groups = s.groupEntries();
  e.family('heartbeat_group_held', 'Whether this node runs the group now (1) or not (0).',
    groups.map((g): Sample => [{ group: g.group }, g.holder !== null && g.holder.toLowerCase() === s.o.nodename.toLowerCase() ? 1 : 0]));
  e.family('heartbeat_group_holder', 'The node running the group as this node knows it (1), none: holder="".',
    groups.map((g): Sample => [{ group: g.group, holder: g.holder ?? '' }, 1]));
  e.family('heartbeat_group_in_transition', 'Whether resources are moving (cl_status rscstatus says transition).',
    groups.map((g): Sample => [{ group: g.group }, g.state === 'transition' ? 1 : 0]));
  const rs = s.o.rscstatus();
  e.family('heartbeat_resource_state', 'cl_status rscstatus of this node: 1 for the current one.',
    rs === undefined ? [] : RESOURCE_STATES.map((st): Sample => [{ state: st }, rs === st ? 1 : 0]));
  const q = s.quorumState();
  e.family('heartbeat_quorum', 'With quorum majority: whether this node\'s partition has quorum (1) or not (0).', q ? [[undefined, q.has ? 1 : 0]] : []);
  e.family('heartbeat_quorum_nodes', 'With quorum majority: normal nodes this partition counts, itself included.', q ? [[undefined, q.live.length]] : []);
  e.family('heartbeat_takeovers_total', 'Failovers completed here: every group of a dead node started.', [[undefined, s.takeovers]]);
  e.family('heartbeat_standby_requests_total', 'Standby requests (hb_standby, monitor moves) seen, by requesting node.',
    [...s.standbyRequests].map(([node, n]): Sample => [{ node }, n]));
  const scripts = [...s.scripts.values()];
  e.family('heartbeat_script_runs_total', 'Resource script runs, by resource and operation.',
    scripts.map((x): Sample => [{ resource: x.resource, operation: x.op }, x.stats.runs]));
  e.family('heartbeat_script_failures_total', 'Failed resource script runs (exit code, timeout, spawn error).',
    scripts.map((x): Sample => [{ resource: x.resource, operation: x.op }, x.stats.failures]));
  e.histograms('heartbeat_script_duration_seconds', 'Resource script run time, by operation.',
    [...s.scriptDurations].map(([op, h]) => [{ operation: op }, h]));
  const mons = s.o.monitors();
  e.family('heartbeat_monitor_failures', 'Monitor failures of the resource within its failure window.',
    mons.map((m): Sample => [{ resource: m.resource, group: m.group }, m.failures]));
  e.histograms('heartbeat_failover_phase_seconds', 'Time from a peer declared dead to each phase of the takeover here.',
    PHASES.map((p) => [{ phase: p }, s.phaseHistograms.get(p) as NonNullable<ReturnType<typeof s.phaseHistograms.get>>]));
  const last = s.failovers[s.failovers.length - 1];
  e.family('heartbeat_last_failover_phase_seconds', 'The last completed failover here: seconds from dead to each phase.',
    last === undefined ? [] : PHASES.flatMap((p): Sample[] => (last.phases[p] === undefined ? [] : [[{ phase: p }, (last.phases[p] as number) / 1000]])));
}

export function renderMetrics(s: ObservedState): string {
  const e = new Exposition();
  e.family('heartbeat_info', 'The daemon: its node name and version.', [[{ node: s.o.nodename, version: s.o.version }, 1]]);
  e.family('heartbeat_start_time_seconds', 'When this daemon started, seconds since the epoch.', [[undefined, s.startedWallMs / 1000]]);
  membership(s, e);
  resources(s, e);
  return e.text();
}
