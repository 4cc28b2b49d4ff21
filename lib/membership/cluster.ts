/**
 * The messaging and membership core of a heartbeat node: status heartbeats,
 * the receive path (authentication, sequencing, duplicates, replays) and
 * the routing of each message to the part that owns its state: the node
 * table (node-table.ts: every node's status machine), Liveness (when nodes
 * and links were last heard), Reliability (history, rexmit, acks) and
 * CommUp (the comm-up handshake). Upper layers only get events.
 *
 * Timing: one injected clock. Our own messages reach the receive path on
 * the clock's next turn, in order, never inside the handler that sent them.
 */
import { EventEmitter } from 'node:events';
import type { HaConfig } from '../config/types.js';
import type { Medium } from '../media/medium.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T, isUnsequencedType } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import { CommUp } from './comm-up.js';
import { MembershipCounters } from './counters.js';
import type { ClusterEvents } from './events.js';
import { Liveness } from './liveness.js';
import { NodeTable } from './node-table.js';
import { toView, type NodeInfo, type NodeStatus, type NodeView } from './nodes.js';
import { ReceivePath, type Admitted } from './receive.js';
import { Reliability, type Signer } from './reliability.js';
import { parseHex } from './sequencing.js';

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

/** Extra dead time advertised during the first seconds after start (spec 5.4). */
const START_DEADTIME_BONUS_MS = 2000;
const START_BONUS_DURATION_MS = 5000;

export class Cluster extends EventEmitter<ClusterEvents> {
  private readonly table: NodeTable;
  private readonly cfg: HaConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly reliability: Reliability;
  private readonly comm: CommUp;
  private readonly liveness: Liveness;
  private flowControl = true;
  private advertisedDeadtimeMs: number;
  private readonly timers: TimerHandle[] = [];
  private readonly receiving: ReceivePath;
  private stopped = false;
  /** Our own messages, waiting for the next turn to reach our receive path. */
  private readonly loopback: HaMsg[] = [];
  readonly startedAtMs: number;
  /** Totals for observers (/metrics); membership itself never reads them. */
  readonly counters = new MembershipCounters();

  constructor(private readonly opts: ClusterOptions) {
    super();
    this.cfg = opts.config;
    this.clock = opts.clock;
    this.log = opts.log;
    const random = opts.random ?? Math.random;
    const pingMedia = opts.media.filter((m) => m.kind === 'ping' || m.kind === 'ping6' || m.kind === 'ping_group');
    this.table = new NodeTable({
      normal: this.cfg.nodes,
      ping: this.cfg.media.flatMap((m) => (m.kind === 'ping' || m.kind === 'ping6' ? [m.host] : m.kind === 'ping_group' ? [m.group] : [])),
      myName: opts.myName,
      uuid: opts.uuid,
      linkNames: opts.media.filter((m) => !pingMedia.includes(m)).map((m) => m.linkName),
      deadtimeMs: this.cfg.deadtimeMs,
      deadpingMs: this.cfg.deadpingMs,
      log: this.log,
      emit: (event, ...args) => (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args),
    });
    this.advertisedDeadtimeMs = this.cfg.deadtimeMs;
    this.startedAtMs = this.clock.nowMs();
    this.reliability = new Reliability({
      cluster: {
        send: (m) => this.send(m),
        flowControl: () => this.flowControl,
        liveNormalPeers: () => this.table.liveNormalPeers(),
        peer: (name) => this.table.get(name),
      },
      normalNodes: this.cfg.nodes,
      signer: opts.signer,
      media: opts.media,
      clock: opts.clock,
      log: opts.log,
      maxRexmitDelayMs: this.cfg.maxRexmitDelayMs,
      random,
    });
    this.liveness = new Liveness({
      nodes: () => this.table.all(),
      myName: opts.myName,
      keepaliveMs: this.cfg.keepaliveMs,
      deadtimeMs: this.cfg.deadtimeMs,
      limitFor: (n) => (this.comm.state === 'init' ? this.cfg.initdeadMs : n.deadtimeMs),
      silent: (name) => this.markDead(name),
      linkSilent: (name, link) => this.table.setLinkStatus(name, link, 'dead'),
      afterCheck: () => this.comm.check(),
      stalled: (ms) => {
        this.log.warn(`Main loop was stalled for ${ms} ms: deferring dead-node decisions until peers are heard again.`);
        this.emit('stalled', ms);
      },
    }, this.clock, this.startedAtMs);
    this.receiving = new ReceivePath({
      table: this.table,
      liveness: this.liveness,
      reliability: this.reliability,
      signer: opts.signer,
      clock: this.clock,
      log: this.log,
      logBadpack: this.cfg.logBadpack,
      myName: opts.myName,
      uuid: opts.uuid,
      generation: opts.generation,
      peerRestart: (name) => this.emit('peerRestart', name),
      partitionHealed: (name) => this.partitionHealed(name),
      counters: this.counters,
    });
    this.comm = new CommUp({
      nodes: () => this.table.all(),
      myName: opts.myName,
      flowControl: () => this.flowControl,
      send: (m) => this.send(m),
      // The pending liveness check was armed for initdead: deadtime applies from now on.
      linksUp: () => this.liveness.schedule(this.clock.nowMs() + Math.max(this.cfg.keepaliveMs, 250)),
      commNowUp: () => this.commNowUp(),
    }, this.clock);
  }

  // ---------------------------------------------------------------- queries

  get me(): NodeInfo {
    return this.table.me;
  }
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
    return this.table.all().length;
  }
  node(name: string): NodeInfo | undefined {
    return this.table.get(name);
  }
  allNodes(): readonly NodeInfo[] {
    return this.table.all();
  }
  view(name: string): NodeView | undefined {
    const n = this.table.get(name);
    return n ? toView(n) : undefined;
  }
  views(): NodeView[] {
    return this.table.all().map(toView);
  }
  /** Normal nodes that are alive (ourselves included). */
  members(): string[] {
    return this.table.members();
  }
  /**
   * Normal nodes for the resource layer; `statusKnown` false: packets came
   * from the node but no status message yet (its status is only our default).
   */
  normalNodes(): { name: string; status: NodeStatus; anyPacketsYet: boolean; statusKnown: boolean }[] {
    return this.table.all().filter((n) => n.type === 'normal')
      .map((n) => ({ name: n.name, status: n.status, anyPacketsYet: n.anyPacketsYet, statusKnown: this.liveness.statusKnown(n.name) }));
  }
  stats(): { sent: number; rexmitRequested: number; rexmitSent: number } {
    return this.reliability.stats();
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens the media and starts heartbeating (spec 5.4). */
  async start(): Promise<void> {
    for (const m of this.opts.media) {
      await m.open(
        (pkt) => {
          if (this.stopped) return;
          const msg = this.receiving.verify(pkt, m);
          if (msg) this.process(msg, m, pkt.from);
        },
        (err) => this.log.error(`glib: ${err.message}`),
      );
      for (const note of m.startNotes ?? []) this.log.info(`glib: ${note}`);
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
    if (this.me.status === 'init') this.setLocalStatus('up');
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
    await Promise.all(this.opts.media.map((m) => m.close().catch(() => undefined)));
  }

  /** Announces a graceful shutdown: the final `shutdone` (spec 5.7). */
  sendShutdone(): void {
    this.send(new HaMsg().add(F.TYPE, T.SHUTDONE).add(F.STATUS, 'dead'));
  }

  setLocalStatus(status: NodeStatus): void {
    this.table.setLocalStatus(status, () => this.sendLocalStatus());
  }

  sendLocalStatus(): void {
    if (this.stopped) return;
    const m = new HaMsg()
      .add(F.TYPE, T.STATUS)
      .add(F.STATUS, this.me.status)
      .add(F.DEADTIME, this.advertisedDeadtimeMs.toString(16));
    if (this.flowControl) m.add(F.PROTOCOL, '1');
    this.send(m);
    this.counters.heartbeatsSent++;
    this.emit('statusSent');
  }

  /**
   * Sends a cluster message: control fields (spec 3.1), signature, history,
   * every medium, then our own receive path on the next turn. Returns the
   * seq used (0 for unsequenced types).
   */
  send(msg: HaMsg): number {
    if (this.stopped) return 0;
    const ns = isUnsequencedType(msg.get(F.TYPE) ?? '');
    const dest = msg.get(F.TO);
    if (dest !== undefined) {
      const uuid = this.table.get(dest)?.uuid;
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
    setField(F.TTL, String(this.cfg.hopfudge + this.table.all().length));
    this.reliability.transmit(msg, seq);
    // A node acts on its own messages (resource and standby protocols rely
    // on it), queued as heartbeat queues them.
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

  /** process_clustermsg: one authenticated message, from a medium or loopback (medium null). */
  private process(msg: HaMsg, medium: Medium | null, from = ''): void {
    const r = this.receiving;
    const a = r.admit(msg, medium);
    if (!a) return;
    // The network's copy of our own message (a broadcast comes back): it
    // shows the link works; the message itself we act on through loopback.
    // Never let the wire speak for us: only a genuine echo counts.
    if (a.node === this.me && medium !== null) {
      r.ownNameOnWire(a, msg, from, medium.linkName, this.reliability.highestSeq);
      return;
    }
    const proceed = a.unsequenced ? r.acceptUnsequenced(a, msg) : r.acceptSequenced(a, msg);
    if (!proceed) return;
    this.dispatch(a, msg, medium);
    this.comm.check();
  }

  private dispatch(a: Admitted, msg: HaMsg, medium: Medium | null): void {
    const { node } = a;
    switch (a.type) {
      case T.STATUS:
      case T.NS_STATUS:
        this.onStatus(node, msg, a.msgtime);
        break;
      case T.REXMIT:
        this.reliability.onRexmitRequest(node.name, msg);
        break;
      case T.ACKMSG:
        this.reliability.onAck(node.name, msg);
        break;
      case T.REQNODES:
        this.comm.onReqnodes(node.name);
        break;
      case T.REPNODES:
        if (node !== this.me) this.comm.onRepnodes();
        break;
      default:
        this.emit('message', msg, node.name, node === this.me && medium === null);
    }
  }

  private onStatus(node: NodeInfo, msg: HaMsg, msgtime: number): void {
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
    const interval = this.liveness.sinceStatus(node.name);
    if (node !== this.me) this.counters.peer(node.name).heartbeats++;
    if (interval !== undefined && node !== this.me) {
      const ms = Math.round(interval);
      if (ms > this.cfg.warntimeMs) this.counters.peer(node.name).late++;
      if (ms > this.cfg.deadtimeMs) {
        this.log.crit(`Late heartbeat: Node ${node.name}: interval ${ms} ms (> deadtime)`);
        this.markDead(node.name);
      } else if (ms > this.cfg.warntimeMs) {
        this.log.warn(`Late heartbeat: Node ${node.name}: interval ${ms} ms`);
      }
    }
    const dt = msg.get(F.DEADTIME);
    this.table.statusReceived(node.name, status as NodeStatus, {
      deadtimeMs: dt === undefined ? undefined : parseHex(dt),
      remoteTime: msgtime,
      seq,
    });
    this.liveness.statusHeard(node.name);
    if (node !== this.me) this.emit('message', msg, node.name, false);
  }

  private partitionHealed(node: string): void {
    this.log.crit(`Cluster node ${node} returning after partition.`);
    this.log.info('For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain');
    this.log.warn('Deadtime value may be too small.');
    this.log.info('See FAQ for information on tuning deadtime.');
    this.log.info('URL: http://linux-ha.org/wiki/FAQ#Heavy_Load');
    this.emit('partitionHeal', node);
  }

  private commNowUp(): void {
    this.log.info('Comm_now_up(): updating status to active');
    this.setLocalStatus('active');
    this.table.publishMembership();
    this.emit('commUp');
  }

  private markDead(name: string): void {
    if (name !== this.me.name) this.reliability.cancelRexmits(name);
    this.table.markDead(name);
  }
}
