/**
 * The messaging and membership core of a heartbeat node: status heartbeats,
 * the receive path (authentication, sequencing, duplicates, replays), node
 * and link liveness, the reqnodes/repnodes handshake and comm-up.
 * Reliability (history, rexmit, acks) lives in reliability.ts.
 *
 * Timing: one injected clock. Liveness is a per-node deadline, checked by a
 * single timer armed for the earliest deadline, so detection is as precise as
 * the deadline itself rather than a fixed poll interval.
 */
import { EventEmitter } from 'node:events';
import type { HaConfig } from '../config/types.js';
import type { Medium, ReceivedPacket } from '../media/medium.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T, isUnsequencedType } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import type { ClusterEvents, MembershipChange } from './events.js';
import { newNode, toView, type LinkStatus, type NodeRecord, type NodeStatus, type NodeView } from './nodes.js';
import { CommUp } from './comm-up.js';
import { Liveness } from './liveness.js';
import { Reliability, type Signer } from './reliability.js';
import { freshSeqState, parseHex, trackSequence } from './sequencing.js';
import { uuidToText } from './state-files.js';

export interface ClusterOptions {
  config: HaConfig;
  myName: string;
  uuid: Buffer;
  generation: number;
  signer: Signer;
  media: Medium[];
  clock: Clock;
  log: Logger;
  /** Contents of /proc/loadavg without newline (`ld` field). */
  loadavg: () => string;
  random?: () => number;
}


/** Rate limit for repeated complaints about bad packets (one line per key per interval). */
const BADPACK_LOG_INTERVAL_MS = 10_000;
/** Extra dead time advertised during the first seconds after start (spec 5.4). */
const START_DEADTIME_BONUS_MS = 2000;
const START_BONUS_DURATION_MS = 5000;

export class Cluster extends EventEmitter<ClusterEvents> {
  readonly me: NodeRecord;
  private readonly nodes = new Map<string, NodeRecord>();
  private readonly order: NodeRecord[] = [];
  private readonly cfg: HaConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly reliability: Reliability;
  private readonly comm: CommUp;
  private flowControl = true;
  private advertisedDeadtimeMs: number;
  private readonly timers: TimerHandle[] = [];
  private readonly liveness: Liveness;
  private lastMembers: string[] = [];
  private readonly badpackLogged = new Map<string, number>();
  private stopped = false;
  /** Our own messages, waiting for the next turn to reach our receive path. */
  private readonly loopback: HaMsg[] = [];
  readonly startedAtMs: number;

  constructor(private readonly opts: ClusterOptions) {
    super();
    this.cfg = opts.config;
    this.clock = opts.clock;
    this.log = opts.log;
    const random = opts.random ?? Math.random;
    const linkNames = opts.media.filter((m) => m.kind !== 'ping' && m.kind !== 'ping_group').map((m) => m.linkName);
    for (const name of this.cfg.nodes) {
      this.addNode(newNode(name, 'normal', linkNames, this.cfg.deadtimeMs, Math.floor(random() * 10)));
    }
    for (const m of this.cfg.media) {
      if (m.kind === 'ping') this.addNode(newNode(m.host, 'ping', [m.host], this.cfg.deadpingMs, 0));
      if (m.kind === 'ping_group') this.addNode(newNode(m.group, 'ping', [m.group], this.cfg.deadpingMs, 0));
    }
    const me = this.nodes.get(opts.myName);
    if (!me) throw new Error(`local node ${opts.myName} is not in the node list`);
    this.me = me;
    me.uuid = opts.uuid;
    this.advertisedDeadtimeMs = this.cfg.deadtimeMs;
    this.startedAtMs = this.clock.nowMs();
    this.liveness = new Liveness({
      order: this.order,
      me,
      keepaliveMs: this.cfg.keepaliveMs,
      deadtimeMs: this.cfg.deadtimeMs,
      limitFor: (n) => this.limitFor(n),
      markDead: (n) => this.markDead(n),
      setLinkStatus: (n, l, st) => this.setLinkStatus(n, l, st),
      afterCheck: () => {
        this.comm.check();
      },
      stalled: (ms) => {
        this.log.warn(`Main loop was stalled for ${ms} ms: deferring dead-node decisions until peers are heard again.`);
        this.emit('stalled', ms);
      },
    }, this.clock, this.startedAtMs);
    this.comm = new CommUp({
      order: this.order,
      me,
      flowControl: () => this.flowControl,
      send: (m) => this.send(m),
      // The pending liveness check was armed for initdead: deadtime applies from now on.
      linksUp: () => this.liveness.schedule(this.clock.nowMs() + Math.max(this.cfg.keepaliveMs, 250)),
      commNowUp: () => this.commNowUp(),
    }, this.clock);
    this.reliability = new Reliability({
      cluster: this,
      signer: opts.signer,
      media: opts.media,
      clock: opts.clock,
      log: opts.log,
      maxRexmitDelayMs: this.cfg.maxRexmitDelayMs,
      random,
    });
  }

  private addNode(n: NodeRecord): void {
    if (this.nodes.has(n.name)) return;
    this.nodes.set(n.name, n);
    this.order.push(n);
  }

  // ---------------------------------------------------------------- queries

  get generation(): number {
    return this.opts.generation;
  }
  get isCommUp(): boolean {
    return this.comm.state === 'up';
  }
  get flowControlEnabled(): boolean {
    return this.flowControl;
  }
  get nodeCount(): number {
    return this.order.length;
  }
  node(name: string): NodeRecord | undefined {
    return this.nodes.get(name);
  }
  allNodes(): readonly NodeRecord[] {
    return this.order;
  }
  view(name: string): NodeView | undefined {
    const n = this.nodes.get(name);
    return n ? toView(n) : undefined;
  }
  views(): NodeView[] {
    return this.order.map(toView);
  }
  /** Normal nodes that are alive (ourselves included). */
  members(): string[] {
    return this.order.filter((n) => n.type === 'normal' && n.status !== 'dead').map((n) => n.name);
  }
  /** Normal peers currently up or active. */
  liveNormalPeers(): NodeRecord[] {
    return this.order.filter((n) => n.type === 'normal' && n !== this.me && (n.status === 'up' || n.status === 'active'));
  }
  stats(): { sent: number; rexmitRequested: number; rexmitSent: number } {
    return this.reliability.stats();
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens the media and starts heartbeating (spec 5.4). */
  async start(): Promise<void> {
    for (const m of this.opts.media) {
      await m.open(
        (pkt) => this.receive(pkt, m),
        (err) => this.log.error(`glib: ${err.message}`),
      );
      this.log.info(`glib: ${m.description}`);
    }
    // st=init with the start-up bonus, then `up` (sent twice), then every keepalive.
    this.advertisedDeadtimeMs = this.cfg.deadtimeMs + START_DEADTIME_BONUS_MS;
    this.sendLocalStatus();
    this.timers.push(this.clock.setTimer(() => {
      this.advertisedDeadtimeMs = this.cfg.deadtimeMs;
      this.sendLocalStatus();
    }, START_BONUS_DURATION_MS));
    // Comm may already be up if a peer answered while we were opening.
    if (this.me.status === 'init') {
      this.setLocalStatus('up');
      this.sendLocalStatus();
    }
    this.timers.push(this.clock.setRepeating(() => this.sendLocalStatus(), this.cfg.keepaliveMs));
    this.liveness.schedule(this.clock.nowMs() + this.cfg.initdeadMs);
  }

  /** Stops timers and closes media; the node simply falls silent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.liveness.stop();
    this.comm.stop();
    this.reliability.stop();
    for (const n of this.order) for (const t of n.rexmitTimers.values()) t.cancel();
    await Promise.all(this.opts.media.map((m) => m.close().catch(() => undefined)));
  }

  /** Announces a graceful shutdown: the final `shutdone` (spec 5.7). */
  sendShutdone(): void {
    this.send(new HaMsg().add(F.TYPE, T.SHUTDONE).add(F.STATUS, 'dead'));
  }

  setLocalStatus(status: NodeStatus): void {
    if (this.me.status === status) return;
    const previous = this.me.status;
    this.me.status = status;
    this.sendLocalStatus();
    this.log.info(`Local status now set to: '${status}'`);
    this.emit('nodeStatus', this.me.name, status, previous);
  }

  sendLocalStatus(): void {
    if (this.stopped) return;
    const m = new HaMsg()
      .add(F.TYPE, T.STATUS)
      .add(F.STATUS, this.me.status)
      .add(F.DEADTIME, this.advertisedDeadtimeMs.toString(16));
    if (this.flowControl) m.add(F.PROTOCOL, '1');
    this.send(m);
  }

  /**
   * Sends a cluster message: control fields (spec 3.1), signature, history,
   * loopback to our own receive path, then every medium. Returns the seq
   * used (0 for unsequenced types).
   */
  send(msg: HaMsg): number {
    if (this.stopped) return 0;
    const type = msg.get(F.TYPE) ?? '';
    const ns = isUnsequencedType(type);
    const dest = msg.get(F.TO);
    if (dest !== undefined) {
      const uuid = this.nodes.get(dest)?.uuid;
      if (uuid) msg.modBinary(F.TOUUID, uuid);
    }
    const setField = (name: string, value: string): void => {
      if (ns && msg.has(name)) return;
      msg.mod(name, value);
    };
    setField(F.ORIG, this.me.name);
    if (!(ns && msg.has(F.ORIGUUID))) msg.modBinary(F.ORIGUUID, this.opts.uuid);
    const seq = ns ? 0 : this.reliability.nextSeq();
    if (!ns) msg.mod(F.SEQ, seq.toString(16));
    setField(F.GEN, this.opts.generation.toString(16));
    setField(F.TS, Math.floor(this.clock.wallMs() / 1000).toString(16));
    // heartbeat flags `ld` like `seq`: NS_ messages go without it.
    if (!ns) msg.mod(F.LOAD, this.opts.loadavg());
    setField(F.TTL, String(this.cfg.hopfudge + this.order.length));
    this.reliability.transmit(msg, seq);
    // Loopback: a node acts on its own messages (resource and standby
    // protocols rely on it) on the next turn, in order, as heartbeat queues
    // them — never inside the handler that sent them.
    this.loopback.push(msg);
    if (this.loopback.length === 1) this.clock.defer(() => this.drainLoopback());
    return seq;
  }

  /** The head of the queue stays queued while processed: what it sends goes behind it. */
  private drainLoopback(): void {
    try {
      while (!this.stopped && this.loopback.length > 0) {
        try {
          this.process(this.loopback[0] as HaMsg, null);
        } finally {
          this.loopback.shift();
        }
      }
    } finally {
      if (this.stopped) this.loopback.length = 0;
      else if (this.loopback.length > 0) this.clock.defer(() => this.drainLoopback());
    }
  }

  // ---------------------------------------------------------------- receive path

  private receive(pkt: ReceivedPacket, medium: Medium): void {
    if (this.stopped) return;
    const verdict = this.opts.signer.verify(pkt.data);
    if (verdict.verdict !== 'ok') {
      this.badPacket(`${verdict.verdict}`, () => {
        switch (verdict.verdict) {
          case 'malformed': return `Dropping malformed packet from ${pkt.from} on ${medium.linkName}: ${verdict.reason}`;
          case 'unknown-key': return `Dropping packet from ${pkt.from} on ${medium.linkName}: auth method ${verdict.authNum} not in authkeys`;
          default: return `Dropping packet from ${pkt.from} on ${medium.linkName}: failed authentication`;
        }
      });
      return;
    }
    this.process(verdict.msg, medium);
  }

  private badPacket(key: string, text: () => string): void {
    if (!this.cfg.logBadpack) return;
    const now = this.clock.nowMs();
    const last = this.badpackLogged.get(key);
    if (last !== undefined && now - last < BADPACK_LOG_INTERVAL_MS) return;
    this.badpackLogged.set(key, now);
    this.log.warn(text());
  }

  /** process_clustermsg: one authenticated message, from a medium or loopback (medium null). */
  private process(msg: HaMsg, medium: Medium | null): void {
    const type = msg.get(F.TYPE);
    const from = msg.get(F.ORIG);
    const ts = msg.get(F.TS);
    if (type === undefined || from === undefined || ts === undefined) {
      this.badPacket('missing-fields', () => `process_clustermsg: missing from/ts/type (from ${from ?? '<?>'})`);
      return;
    }
    const unsequenced = isUnsequencedType(type);
    const seqText = msg.get(F.SEQ);
    if (!unsequenced && seqText === undefined) {
      this.badPacket('missing-seq', () => `process_clustermsg: missing seqno (from ${from})`);
      return;
    }
    const msgtime = parseHex(ts);
    if (msgtime === undefined || msgtime === 0) return;
    const node = this.lookup(from, msg.getBinary(F.ORIGUUID));
    if (!node) {
      this.badPacket(`bad-node-${from}`, () => `process_status_message: bad node [${from}] in message`);
      return;
    }
    if (node.type === 'ping' && type !== T.NS_STATUS) return;
    node.anyPacketsYet = true;
    const link = medium ? node.links.find((l) => l.name === medium.linkName) : undefined;
    // The network's copy of our own message (a broadcast comes back): it
    // shows the link works; the message itself we act on through loopback.
    if (node === this.me && medium !== null) {
      if (link) this.refreshLink(node, link);
      return;
    }

    const dest = msg.get(F.TO);
    const destUuid = msg.getBinary(F.TOUUID);
    const toUs = destUuid !== undefined && destUuid.length === 16
      ? destUuid.equals(this.opts.uuid)
      : dest === undefined || dest === this.me.name;

    let filledGap = false;
    if (unsequenced) {
      if (type === T.NAKREXMIT) {
        this.reliability.onNak(node, msg, toUs);
        return;
      }
      if (!toUs) return;
    } else {
      // Our own loopback copy is tracked too, so that the copy a broadcast
      // brings back from the network is recognised as a duplicate.
      const seq = parseHex(seqText ?? '');
      const gen = msg.get(F.GEN) === undefined ? 0 : parseHex(msg.get(F.GEN) ?? '');
      if (seq === undefined || seq <= 0 || gen === undefined) {
        this.badPacket(`bad-seq-${from}`, () => `should_drop_message: bad sequence or generation number from ${from}`);
        return;
      }
      const isStatus = type === T.STATUS;
      if (isStatus && node.seq.generation === gen && gen > 0 && node.status === 'dead' && seq <= node.statusSeq) return;
      const decision = trackSequence(node.seq, { seq, generation: gen, isStatus, peerDead: node.status === 'dead' });
      if (decision.action === 'drop') {
        if (decision.reason === 'replay') {
          this.opts.signer.noteReplay();
          this.badPacket(`replay-${from}`, () => `should_drop_message: attempted replay attack [${from}]? [gen = ${gen}, curgen = ${node.seq.generation}]`);
        }
        return;
      }
      if (link) this.refreshLink(node, link);
      if (decision.action === 'duplicate') return;
      if (decision.restart) {
        this.log.info(`Heartbeat restart on node ${from}`);
        node.remoteLastUpdate = 0;
        node.lastStatusMs = 0;
        node.statusSeq = 0;
        this.reliability.cancelRexmits(node);
        this.emit('peerRestart', from);
      }
      if (decision.heal) this.partitionHealed(node);
      if (decision.lostALot) {
        this.log.error('lost a lot of packets!');
        this.reliability.cancelRexmits(node);
      }
      if (decision.lost) {
        const n = decision.lost.to - decision.lost.from + 1;
        this.log.warn(`${n} lost packet(s) for [${from}] [${decision.lost.from - 1}:${decision.lost.to + 1}]`);
        this.reliability.requestRexmit(node, decision.lost.from, decision.lost.to);
      }
      if (decision.filledGap) {
        filledGap = true;
        this.reliability.gapFilled(node, seq);
        if (decision.gapsCleared) this.log.info(`No pkts missing from ${from}!`);
      }
      if (!toUs) return;
      if (node !== this.me) this.reliability.maybeAck(node, seq, filledGap);
    }
    if (link && unsequenced) this.refreshLink(node, link);

    switch (type) {
      case T.STATUS:
      case T.NS_STATUS:
        this.onStatus(node, msg, msgtime);
        break;
      case T.REXMIT:
        this.reliability.onRexmitRequest(node, msg);
        break;
      case T.ACKMSG:
        this.reliability.onAck(node, msg);
        break;
      case T.REQNODES:
        this.comm.onReqnodes(node);
        break;
      case T.REPNODES:
        if (node !== this.me) this.comm.onRepnodes();
        break;
      default:
        this.emit('message', msg, node.name, node === this.me && medium === null);
    }
    this.comm.check();
  }

  private lookup(name: string, uuid: Buffer | undefined): NodeRecord | undefined {
    if (uuid && uuid.length === 16) {
      for (const n of this.order) if (n.uuid && n.uuid.equals(uuid)) {
        if (n.name === name) return n;
      }
    }
    const n = this.nodes.get(name);
    if (n && uuid && uuid.length === 16 && n !== this.me) {
      if (n.uuid && !n.uuid.equals(uuid)) this.log.info(`node ${name} changed its uuid to ${uuidToText(uuid)}`);
      n.uuid = uuid;
    }
    return n;
  }

  private refreshLink(node: NodeRecord, link: { name: string; status: LinkStatus; lastHeardMs: number }): void {
    link.lastHeardMs = this.clock.nowMs();
    if (link.status !== 'up') this.setLinkStatus(node, link, 'up');
  }

  private setLinkStatus(node: NodeRecord, link: { name: string; status: LinkStatus }, status: LinkStatus): void {
    link.status = status;
    this.log.info(`Link ${node.name}:${link.name} ${status}.`);
    this.emit('link', node.name, link.name, status);
  }

  private onStatus(node: NodeRecord, msg: HaMsg, msgtime: number): void {
    const status = (msg.get(F.STATUS) ?? '').toLowerCase();
    if (status === '') {
      this.log.error('HBDoMsg_T_STATUS: status update without st field');
      return;
    }
    const seq = parseHex(msg.get(F.SEQ) ?? '') ?? 0;
    if (msgtime < node.remoteLastUpdate && seq < node.statusSeq) return;
    if (node.type === 'normal' && this.flowControl && msg.get(F.PROTOCOL) === undefined) {
      this.log.info('flow control disabled due to different version heartbeat');
      this.flowControl = false;
    }
    const now = this.clock.nowMs();
    if (node.lastStatusMs > 0 && node !== this.me) {
      const interval = Math.round(now - node.lastStatusMs);
      if (interval > this.cfg.deadtimeMs) {
        this.log.crit(`Late heartbeat: Node ${node.name}: interval ${interval} ms (> deadtime)`);
        this.markDead(node);
      } else if (interval > this.cfg.warntimeMs) {
        this.log.warn(`Late heartbeat: Node ${node.name}: interval ${interval} ms`);
      }
    }
    const newStatus = (node.type === 'ping' ? 'ping' : status) as NodeStatus;
    if (node.status !== newStatus && node !== this.me) {
      const previous = node.status;
      // heartbeat logs this for ping nodes too (`status ping`), and ipfail users grep for it.
      this.log.info(`Status update for node ${node.name}: status ${newStatus}`);
      node.status = newStatus;
      this.emit('nodeStatus', node.name, newStatus, previous);
      this.publishMembership();
    }
    const dt = msg.get(F.DEADTIME);
    const dtMs = dt === undefined ? undefined : parseHex(dt);
    if (dtMs !== undefined && dtMs > 0) node.deadtimeMs = dtMs;
    node.remoteLastUpdate = msgtime;
    node.lastStatusMs = now;
    node.statusSeq = seq;
    if (node !== this.me) this.emit('message', msg, node.name, false);
  }

  private partitionHealed(node: NodeRecord): void {
    this.log.crit(`Cluster node ${node.name} returning after partition.`);
    this.log.info('For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain');
    this.log.warn('Deadtime value may be too small.');
    this.log.info('See FAQ for information on tuning deadtime.');
    this.log.info('URL: http://linux-ha.org/wiki/FAQ#Heavy_Load');
    this.emit('partitionHeal', node.name);
  }

  private commNowUp(): void {
    this.log.info('Comm_now_up(): updating status to active');
    this.setLocalStatus('active');
    this.publishMembership();
    this.emit('commUp');
  }

  // ---------------------------------------------------------------- liveness

  /** initdead until every node was heard from (heartbeat's COMM_LINKSUP), then the node's own dead time. */
  private limitFor(n: NodeRecord): number {
    return this.comm.state === 'init' ? this.cfg.initdeadMs : n.deadtimeMs;
  }

  private markDead(n: NodeRecord): void {
    this.log.warn(`node ${n.name}: is dead`);
    if (n === this.me) {
      this.log.error('No local heartbeat. Forcing restart.');
      this.emit('nodeDead', n.name, true);
      return;
    }
    const previous = n.status;
    const heardFrom = n.anyPacketsYet;
    n.status = 'dead';
    n.remoteLastUpdate = 0;
    n.anyPacketsYet = false;
    n.seq = { ...freshSeqState(), generation: n.seq.generation, lastSeq: 0 };
    this.reliability.cancelRexmits(n);
    this.emit('nodeStatus', n.name, 'dead', previous);
    this.emit('nodeDead', n.name, heardFrom);
    this.publishMembership();
  }

  private publishMembership(): void {
    const members = this.members();
    const joined = members.filter((m) => !this.lastMembers.includes(m));
    const left = this.lastMembers.filter((m) => !members.includes(m));
    if (joined.length === 0 && left.length === 0) return;
    this.lastMembers = members;
    const change: MembershipChange = { members, joined, left };
    this.emit('membership', change);
  }
}
