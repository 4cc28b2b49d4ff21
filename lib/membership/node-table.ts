/**
 * The node table and each node's status machine: init → up → active → dead
 * (and back through a restart or a healed partition), ping nodes `ping`.
 * Every change to a node's record happens here and is published as an
 * event; everyone else reads `NodeInfo`.
 */
import type { Logger } from '../util/log.js';
import type { ClusterEvents, MembershipChange } from './events.js';
import { freshSeqState, seqStateAfterDeath, trackSequence, type SeqDecision, type SeqInput } from './sequencing.js';
import { newNode, type LinkStatus, type NodeInfo, type NodeRecord, type NodeStatus } from './nodes.js';
import { uuidToText } from './state-files.js';

export type Emit = <K extends keyof ClusterEvents>(event: K, ...args: ClusterEvents[K]) => void;

export interface NodeTableOptions {
  normal: readonly string[];
  /** Ping nodes (ping and ping_group media), by name. */
  ping: readonly string[];
  myName: string;
  uuid: Buffer;
  linkNames: readonly string[];
  deadtimeMs: number;
  deadpingMs: number;
  log: Logger;
  emit: Emit;
}

export class NodeTable {
  private readonly byName = new Map<string, NodeRecord>();
  private readonly order: NodeRecord[] = [];
  private readonly me_: NodeRecord;
  private lastMembers: string[] = [];

  constructor(private readonly o: NodeTableOptions) {
    for (const name of o.normal) this.add(newNode(name, 'normal', [...o.linkNames], o.deadtimeMs));
    for (const name of o.ping) this.add(newNode(name, 'ping', [name], o.deadpingMs));
    const me = this.byName.get(o.myName);
    if (!me) throw new Error(`local node ${o.myName} is not in the node list`);
    me.uuid = o.uuid;
    this.me_ = me;
  }

  private add(n: NodeRecord): void {
    if (this.byName.has(n.name)) return;
    this.byName.set(n.name, n);
    this.order.push(n);
  }

  get me(): NodeInfo {
    return this.me_;
  }
  get(name: string): NodeInfo | undefined {
    return this.byName.get(name);
  }
  all(): readonly NodeInfo[] {
    return this.order;
  }
  /** Normal nodes that are alive (ourselves included). */
  members(): string[] {
    return this.order.filter((n) => n.type === 'normal' && n.status !== 'dead').map((n) => n.name);
  }
  liveNormalPeers(): string[] {
    return this.order
      .filter((n) => n.type === 'normal' && n !== this.me_ && (n.status === 'up' || n.status === 'active'))
      .map((n) => n.name);
  }

  /**
   * The node a message claims to come from: by uuid when it carries one
   * (a name whose uuid changed is noted and followed), else by name.
   */
  lookup(name: string, uuid: Buffer | undefined): NodeInfo | undefined {
    if (uuid && uuid.length === 16) {
      for (const n of this.order) if (n.uuid && n.uuid.equals(uuid) && n.name === name) return n;
    }
    const n = this.byName.get(name);
    // a peer may not take our uuid (messages addressed to it would then count as ours)
    if (n && uuid && uuid.length === 16 && n !== this.me_ && !uuid.equals(this.o.uuid)) {
      if (n.uuid && !n.uuid.equals(uuid)) this.o.log.info(`node ${name} changed its uuid to ${uuidToText(uuid)}`);
      n.uuid = uuid;
    }
    return n;
  }

  heardFrom(name: string): void {
    const n = this.byName.get(name);
    if (n) n.anyPacketsYet = true;
  }

  /** Sequence tracking for one sequenced message (heartbeat's should_drop_message). */
  track(name: string, input: SeqInput): SeqDecision | undefined {
    const n = this.byName.get(name);
    return n ? trackSequence(n.seq, input) : undefined;
  }

  /** Stops expecting a seq the peer said it cannot resend; true when it was missing. */
  forgetMissing(name: string, seq: number): boolean {
    return this.byName.get(name)?.seq.missing.delete(seq) ?? false;
  }

  /** A peer restarted: what we knew of its previous run's statuses no longer counts. */
  restarted(name: string): void {
    const n = this.byName.get(name);
    if (!n) return;
    n.remoteLastUpdate = 0;
    n.statusSeq = 0;
  }

  setLinkStatus(name: string, link: string, status: LinkStatus): void {
    const l = this.byName.get(name)?.links.find((x) => x.name === link);
    if (!l || l.status === status) return;
    l.status = status;
    this.o.log.info(`Link ${name}:${link} ${status}.`);
    this.o.emit('link', name, link, status);
  }

  /** Our own status; `announce` sends it before anyone hears of the change. */
  setLocalStatus(status: NodeStatus, announce: () => void): void {
    const me = this.me_;
    if (me.status === status) return;
    const previous = me.status;
    me.status = status;
    announce();
    this.o.log.info(`Local status now set to: '${status}'`);
    this.o.emit('nodeStatus', me.name, status, previous);
  }

  /** A peer's status message was accepted: its status, advertised dead time and stale-status marks. */
  statusReceived(name: string, status: NodeStatus, s: { deadtimeMs: number | undefined; remoteTime: number; seq: number }): void {
    const n = this.byName.get(name);
    if (!n) return;
    const newStatus: NodeStatus = n.type === 'ping' ? 'ping' : status;
    if (n.status !== newStatus && n !== this.me_) {
      const previous = n.status;
      // heartbeat logs this for ping nodes too (`status ping`), and ipfail users grep for it.
      this.o.log.info(`Status update for node ${n.name}: status ${newStatus}`);
      n.status = newStatus;
      this.o.emit('nodeStatus', n.name, newStatus, previous);
      this.publishMembership();
    }
    if (s.deadtimeMs !== undefined && s.deadtimeMs > 0) n.deadtimeMs = s.deadtimeMs;
    n.remoteLastUpdate = s.remoteTime;
    n.statusSeq = s.seq;
  }

  /** A peer went silent past its dead time: dead, with fresh sequence tracking for its return. */
  markDead(name: string): void {
    const n = this.byName.get(name);
    if (!n) return;
    this.o.log.warn(`node ${n.name}: is dead`);
    if (n === this.me_) {
      this.o.log.error('No local heartbeat. Forcing restart.');
      this.o.emit('nodeDead', n.name, true);
      return;
    }
    const previous = n.status;
    const heardFrom = n.anyPacketsYet;
    n.status = 'dead';
    n.remoteLastUpdate = 0;
    n.anyPacketsYet = false;
    n.seq = seqStateAfterDeath(n.seq);
    this.o.emit('nodeStatus', n.name, 'dead', previous);
    this.o.emit('nodeDead', n.name, heardFrom);
    this.publishMembership();
  }

  publishMembership(): void {
    const members = this.members();
    const joined = members.filter((m) => !this.lastMembers.includes(m));
    const left = this.lastMembers.filter((m) => !members.includes(m));
    if (joined.length === 0 && left.length === 0) return;
    this.lastMembers = members;
    const change: MembershipChange = { members, joined, left };
    this.o.emit('membership', change);
  }
}
