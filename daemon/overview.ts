/**
 * What `hb_status` shows beyond cl_status (a heartbeat-ts addition): who holds
 * each haresources group, and a bounded log of recent cluster events (node
 * and link changes, peer restarts, stalls, groups changing hands). The log
 * lives as long as the daemon; an EventRecorder per node feeds it.
 */
import type { ResourceGroup } from '../lib/config/types.js';
import type { Cluster } from '../lib/membership/cluster.js';
import type { NodeView } from '../lib/membership/nodes.js';
import type { Attachment, NodeHandle } from '../lib/node/runtime.js';
import type { ResourceController } from '../lib/resources/controller.js';
import { RSC } from '../lib/resources/sets.js';
import type { Clock } from '../lib/util/clock.js';

/** Events kept by the daemon; older ones are dropped. */
export const EVENT_CAPACITY = 200;
/** How often group holders are compared (no event exists for them). */
const HOLDER_POLL_MS = 1000;

export interface GroupEntry {
  /** The group key: its first resource as written in haresources. */
  group: string;
  resources: string[];
  /** The preferred node (first word of the haresources line). */
  home: string;
  /** The node running it as far as this node knows, null for nobody. */
  holder: string | null;
  /** `transition` while resources move (cl_status rscstatus says the same). */
  state: 'stable' | 'transition';
}

export type EventKind = 'node' | 'link' | 'restart' | 'partition-heal' | 'stalled' | 'holder' | 'late' | 'standby' | 'failover';

export interface ClusterEvent {
  /** Wall-clock time, ISO 8601 UTC. */
  time: string;
  kind: EventKind;
  node?: string;
  link?: string;
  group?: string;
  status?: string;
  previous?: string;
  /** The event in words, as hb_status prints it. */
  text: string;
}

/** What groupEntries reads of a node: Cluster.allNodes() will do (no view to build on every poll). */
export type NodeBrief = Pick<NodeView, 'name' | 'type' | 'status'>;

/** Holders of the groups from the controller's holdings (v1 resource sets, spec 4.3). */
export function groupEntries(groups: readonly ResourceGroup[], rsc: ResourceController | undefined, views: readonly NodeBrief[], me: string): GroupEntry[] {
  if (groups.length === 0) return [];
  const mine = me.toLowerCase();
  const peer = views.find((v) => v.type === 'normal' && v.name.toLowerCase() !== mine);
  const peerUp = peer !== undefined && peer.status !== 'dead';
  const h = rsc?.holdings;
  const state = rsc === undefined || rsc.rscstatus() !== 'transition' ? 'stable' : 'transition';
  return groups.map((g) => {
    const local = g.node === mine;
    // The peer's sets are from its side: our local groups are its foreign ones.
    const weHold = h !== undefined && (h.iHold & (local ? RSC.LOCAL : RSC.FOREIGN)) !== 0;
    const peerHolds = h !== undefined && peerUp && (h.otherHolds & (local ? RSC.FOREIGN : RSC.LOCAL)) !== 0;
    const holder = weHold ? me : peerHolds && peer ? peer.name : null;
    return { group: g.key, resources: g.resources.map((r) => r.spec), home: g.node, holder, state };
  });
}

/**
 * Runs `fn` on our own heartbeats, about once per `everyMs` at most: the
 * pollers ride on the keepalive timer rather than wake the process with
 * timers of their own (an idle daemon's cost is mostly its wake-ups). With
 * a keepalive longer than `everyMs`, they poll once per heartbeat.
 */
export class HeartbeatPoll {
  private cluster: Cluster | null = null;
  private lastMs = -Infinity;
  private lastBeatMs = -Infinity;
  private readonly onSent = (): void => {
    const now = this.clock.nowMs();
    const beat = now - this.lastBeatMs;
    this.lastBeatMs = now;
    // the heartbeat nearest to a second after the last poll (timer jitter makes them a little early or late)
    if (now - this.lastMs + beat / 2 < this.everyMs) return;
    this.lastMs = now;
    this.fn();
  };

  constructor(private readonly clock: Clock, private readonly fn: () => void, private readonly everyMs = HOLDER_POLL_MS) {}

  bind(cluster: Cluster | null): void {
    this.cluster?.off('statusSent', this.onSent);
    this.cluster = cluster;
    cluster?.on('statusSent', this.onSent);
  }
}

/** A ring of recent events. */
export class EventLog {
  private readonly ring: ClusterEvent[] = [];

  constructor(private readonly capacity = EVENT_CAPACITY) {}

  add(e: ClusterEvent): void {
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
  }

  /** The last `limit` events, oldest first. */
  recent(limit = this.capacity): ClusterEvent[] {
    const n = Math.max(0, Math.min(limit, this.capacity));
    return n === 0 ? [] : this.ring.slice(-n);
  }
}

/** Feeds an EventLog from one node's cluster events and group holders. */
export class EventRecorder implements Attachment {
  readonly name = 'events';
  private cluster: Cluster | null = null;
  private readonly poll: HeartbeatPoll;
  private holders = new Map<string, string | null>();
  private readonly onNode = (node: string, status: string, previous: string): void =>
    this.add({ kind: 'node', node, status, previous, text: `node ${node}: ${previous} -> ${status}` });
  private readonly onLink = (node: string, link: string, status: string): void =>
    this.add({ kind: 'link', node, link, status, text: `link ${node}/${link}: ${status}` });
  private readonly onRestart = (node: string): void => this.add({ kind: 'restart', node, text: `node ${node} restarted` });
  private readonly onHeal = (node: string): void => this.add({ kind: 'partition-heal', node, text: `partition healed with ${node}` });
  private readonly onStall = (ms: number): void => this.add({ kind: 'stalled', text: `event loop stalled for ${Math.round(ms)} ms` });

  constructor(private readonly o: {
    log: EventLog;
    clock: Clock;
    groups: (cluster: Cluster) => GroupEntry[];
  }) {
    this.poll = new HeartbeatPoll(o.clock, () => this.catchUp());
  }

  start(node: NodeHandle): void {
    this.bind(node.cluster);
    this.holders = new Map(this.o.groups(node.cluster).map((g) => [g.group, g.holder]));
  }

  rebind(node: NodeHandle): void {
    this.bind(node.cluster);
  }

  async shutdown(): Promise<void> {
    this.bind(null);
  }

  private bind(cluster: Cluster | null): void {
    const c = this.cluster;
    c?.off('nodeStatus', this.onNode).off('link', this.onLink).off('peerRestart', this.onRestart);
    c?.off('partitionHeal', this.onHeal).off('stalled', this.onStall);
    this.cluster = cluster;
    cluster?.on('nodeStatus', this.onNode).on('link', this.onLink).on('peerRestart', this.onRestart);
    cluster?.on('partitionHeal', this.onHeal).on('stalled', this.onStall);
    this.poll.bind(cluster);
  }

  private catchUp(): void {
    if (this.cluster) this.noteHolders(this.o.groups(this.cluster));
  }

  /** Records the holder changes in `entries` the poll has not seen yet (a reader passes what it shows). */
  noteHolders(entries: readonly GroupEntry[]): void {
    if (!this.cluster) return; // not started: the holders at start are not changes
    for (const g of entries) {
      const before = this.holders.get(g.group) ?? null;
      if (before === g.holder) continue;
      this.holders.set(g.group, g.holder);
      this.add({
        kind: 'holder', group: g.group, status: g.holder ?? 'none', previous: before ?? 'none',
        text: `group ${g.group}: ${before ?? 'nobody'} -> ${g.holder ?? 'nobody'}`,
      });
    }
  }

  private add(e: Omit<ClusterEvent, 'time'>): void {
    this.o.log.add({ time: new Date(this.o.clock.wallMs()).toISOString(), ...e });
  }
}
