/**
 * Feeds ObservedState from the running node: membership events, the
 * totals of the current core, group holders (polled: no event exists for
 * them), standby requests and late heartbeats into the event log. One
 * ObservedFeed per assembled node (attachments are rebuilt on a restart);
 * the state it feeds lives as long as the daemon. The script tap is
 * observed once for the daemon's life (observeScripts).
 */
import type { Cluster } from '../../lib/membership/cluster.js';
import type { Attachment, NodeHandle } from '../../lib/node/runtime.js';
import type { ScriptTap } from '../../lib/resources/script-tap.js';
import type { Clock } from '../../lib/util/clock.js';
import { F, T } from '../../lib/wire/fields.js';
import type { HaMsg } from '../../lib/wire/message.js';
import { HeartbeatPoll } from '../overview.js';
import { bump, type ObservedState } from './observed.js';

/** Script runs into the state and the failover phases, for the daemon's life. */
export function observeScripts(tap: ScriptTap, s: ObservedState, clock: Clock): () => void {
  return tap.observe({
    started: () => s.phases.scriptStarted(clock.nowMs()),
    finished: (r, op, result) => {
      const failed = result.timedOut || result.spawnError !== undefined || (op !== 'status' && result.code !== 0);
      s.scriptFinished(r.spec, op, failed, result.durationMs / 1000);
      if (op === 'start') s.phases.started(r, result.code === 0 && !result.timedOut, clock.nowMs());
    },
  });
}

export class ObservedFeed implements Attachment {
  readonly name = 'observed';
  private cluster: Cluster | null = null;
  private readonly poll: HeartbeatPoll;
  private holders = new Map<string, string | null>();
  private late = new Map<string, number>();

  private readonly onDead = (node: string): void => {
    const c = this.cluster;
    if (!c || c.node(node)?.type !== 'normal') return;
    bump(this.s.deaths, node);
    this.s.phases.nodeDead(node, this.s.o.clock.nowMs(), this.s.o.clock.wallMs(), this.holders, this.s.o.nodename);
  };
  private readonly onRestart = (node: string): void => bump(this.s.restarts, node);
  private readonly onHeal = (): void => { this.s.partitionHeals++; };
  private readonly onStall = (): void => { this.s.stalls++; };
  private readonly onMessage = (msg: HaMsg): void => {
    if (msg.get(F.TYPE) !== T.ASK_RESOURCES || msg.get(F.INFO)?.toLowerCase() !== 'me') return;
    const from = msg.get(F.ORIG) ?? '';
    // only configured names become labels
    if (this.cluster?.node(from)?.type !== 'normal') return;
    bump(this.s.standbyRequests, from);
    this.s.event({ kind: 'standby', node: from, text: `node ${from} asked to go standby (${msg.get(F.RSC_HOLD) ?? 'all'})` });
  };
  private readonly onStatus = (): void => this.snapshotHolders();

  constructor(private readonly s: ObservedState) {
    this.poll = new HeartbeatPoll(s.o.clock, () => this.tick());
  }

  start(node: NodeHandle): void {
    this.bind(node);
    this.snapshotHolders();
    this.late = new Map([...this.s.peerTotals()].map(([n, c]) => [n, c.late]));
  }

  rebind(node: NodeHandle): void {
    this.bind(node);
  }

  async shutdown(): Promise<void> {
    this.subscribe(null);
  }

  private bind(node: NodeHandle): void {
    const auth = node.auth;
    this.s.bind({ cluster: node.cluster, auth: () => auth?.snapshot() ?? { ok: 0, malformed: 0, 'unknown-key': 0, 'bad-digest': 0, replay: 0 } });
    this.subscribe(node.cluster);
  }

  private subscribe(c: Cluster | null): void {
    const old = this.cluster;
    old?.off('nodeDead', this.onDead).off('peerRestart', this.onRestart).off('partitionHeal', this.onHeal);
    old?.off('stalled', this.onStall).off('message', this.onMessage).off('nodeStatus', this.onStatus);
    this.cluster = c;
    c?.on('nodeDead', this.onDead).on('peerRestart', this.onRestart).on('partitionHeal', this.onHeal);
    c?.on('stalled', this.onStall).on('message', this.onMessage).on('nodeStatus', this.onStatus);
    this.poll.bind(c);
  }

  /** Holders as known before a death (a dead peer's groups show no holder afterwards). */
  private snapshotHolders(): void {
    const entries = this.s.groupEntries();
    if (entries.length === 0) return;
    const dead = new Set((this.cluster?.allNodes() ?? []).filter((v) => v.status === 'dead').map((v) => v.name.toLowerCase()));
    for (const g of entries) {
      const before = this.holders.get(g.group);
      // a group we saw on a node that has just died stays attributed to it
      if (g.holder === null && before && dead.has(before.toLowerCase())) continue;
      this.holders.set(g.group, g.holder);
    }
  }

  private tick(): void {
    this.snapshotHolders();
    for (const [node, c] of this.s.peerTotals()) {
      const before = this.late.get(node) ?? 0;
      if (c.late > before) this.s.event({ kind: 'late', node, text: `${c.late - before} late heartbeat(s) from ${node}` });
      this.late.set(node, c.late);
    }
  }
}
