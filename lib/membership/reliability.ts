/**
 * Reliable delivery on top of datagrams (spec 3.4, 3.5): the sequence
 * counter, the transmit history, retransmission requests for gaps, answers
 * to a peer's requests, and the NS_ackmsg acknowledgements a 3.0.6 peer
 * needs to keep its history queue short. Owns its per-peer state (rexmit
 * timers, ack trigger digits, what each peer acked); reads the node table
 * through a narrow port.
 */
import type { Medium } from '../media/medium.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import { TransmitHistory } from './history.js';
import type { NodeInfo } from './nodes.js';
import { RexmitGuard } from './rexmit-guard.js';
import { firstMissing } from './sequencing.js';

/** What the membership layer needs from lib/auth. */
export interface Signer {
  /** The datagram 3.0.6 sends (netstring + classic auth field + trailer). */
  sign(msg: HaMsg): Buffer;
  /** Classic text for serial links. */
  signClassic(msg: HaMsg): Buffer;
  verify(buf: Buffer):
    | { verdict: 'ok'; msg: HaMsg }
    | { verdict: 'malformed'; reason: string }
    | { verdict: 'unknown-key'; authNum: number }
    | { verdict: 'bad-digest'; authNum: number };
  noteReplay(): void;
}

/** What reliability needs of the membership core. */
export interface ReliabilityPort {
  send(msg: HaMsg): number;
  /** Every peer speaks protocol 1 (acks and history warnings apply). */
  flowControl(): boolean;
  /** Names of normal peers now up or active. */
  liveNormalPeers(): string[];
  /** A node's record, read-only (status, type, sequence tracking). */
  peer(name: string): NodeInfo | undefined;
}

/** Per-peer state of the reliability layer. */
interface PeerReliability {
  /** NS_ackmsg: the random digit a peer's seq must end in for us to ack it. */
  ackTrigger: number;
  /** The highest of our seqs the peer acknowledged. */
  ackedOurSeq: number;
  rexmitTimers: Map<number, TimerHandle>;
}

const ACK_DIV = 10;
const HIST_WARN = 375;
const HIST_ERROR = 450;

export interface ReliabilityOptions {
  cluster: ReliabilityPort;
  /** Normal nodes in configuration order (each gets its ack trigger digit). */
  normalNodes: readonly string[];
  signer: Signer;
  media: Medium[];
  clock: Clock;
  log: Logger;
  maxRexmitDelayMs: number;
  random: () => number;
}

export class Reliability {
  private seq = 0;
  private readonly history = new TransmitHistory();
  private readonly counters = { sent: 0, rexmitRequested: 0, rexmitSent: 0 };
  private stopped = false;
  private lastHistWarnMs = -Infinity;
  private readonly peers = new Map<string, PeerReliability>();
  private readonly rexmitGuard: RexmitGuard;

  constructor(private readonly o: ReliabilityOptions) {
    this.rexmitGuard = new RexmitGuard(o.log);
    for (const name of o.normalNodes) {
      this.peers.set(name, { ackTrigger: Math.floor(o.random() * 10), ackedOurSeq: 0, rexmitTimers: new Map() });
    }
  }

  private state(name: string): PeerReliability {
    let p = this.peers.get(name);
    if (!p) {
      p = { ackTrigger: 0, ackedOurSeq: 0, rexmitTimers: new Map() };
      this.peers.set(name, p);
    }
    return p;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** The newest seq handed out (0 = none): echoes of ours never carry a higher one. */
  get highestSeq(): number {
    return this.seq;
  }

  stats(): { sent: number; rexmitRequested: number; rexmitSent: number } {
    return { ...this.counters };
  }

  stop(): void {
    this.stopped = true;
    for (const name of this.peers.keys()) this.cancelRexmits(name);
  }

  /** Signs and sends on every medium; sequenced messages are kept for rexmit. */
  transmit(msg: HaMsg, seq: number): void {
    if (this.stopped) return;
    const needsClassic = this.o.media.some((m) => m.kind === 'serial');
    const netstring = this.o.signer.sign(msg);
    const classic = needsClassic ? this.o.signer.signClassic(msg) : undefined;
    if (seq > 0) {
      this.history.add(seq, netstring, classic);
      this.checkQueue(seq);
    }
    this.counters.sent++;
    this.sendAll(netstring, classic);
  }

  private sendAll(netstring: Buffer, classic: Buffer | undefined): void {
    // Ping media get every message too, as in heartbeat: they act on status
    // heartbeats only (an echo request per status) and ignore the rest.
    for (const m of this.o.media) {
      m.send(m.kind === 'serial' && classic ? classic : netstring);
    }
  }

  /** History warnings as heartbeat gives them when peers stop acknowledging. */
  private checkQueue(newest: number): void {
    if (!this.o.cluster.flowControl()) return;
    const peers = this.o.cluster.liveNormalPeers();
    if (peers.length === 0) return;
    const acked = Math.min(...peers.map((p) => this.state(p).ackedOurSeq));
    const queued = newest - Math.max(acked, this.history.lowest - 1);
    const now = this.o.clock.nowMs();
    if (queued >= HIST_WARN && now - this.lastHistWarnMs > 10_000) {
      this.lastHistWarnMs = now;
      const line = `Message hist queue is filling up (${queued} messages in queue)`;
      if (queued >= HIST_ERROR) this.o.log.error(line);
      else this.o.log.warn(line);
    }
  }

  // ------------------------------------------------------------ receiver side

  /** Schedules one NS_rexmit per missing seq after a random delay (spec 3.4). */
  requestRexmit(name: string, from: number, to: number): void {
    const max = this.o.maxRexmitDelayMs;
    const lo = max < 100 ? 0 : 50;
    const timers = this.state(name).rexmitTimers;
    for (let s = from; s <= to; s++) {
      if (timers.has(s)) continue;
      const delay = lo + Math.floor(this.o.random() * Math.max(1, max - lo));
      this.armRexmit(name, s, delay);
    }
  }

  private armRexmit(name: string, seq: number, delayMs: number): void {
    const timers = this.state(name).rexmitTimers;
    const timer: TimerHandle = this.o.clock.setTimer(() => {
      timers.delete(seq);
      const node = this.o.cluster.peer(name);
      if (this.stopped || !node?.seq.missing.has(seq)) return;
      if (node.status !== 'up' && node.status !== 'active') return;
      this.counters.rexmitRequested++;
      this.o.cluster.send(
        new HaMsg().add(F.TYPE, T.REXMIT).add(F.TO, name).add(F.FIRSTSEQ, String(seq)).add(F.LASTSEQ, String(seq)),
      );
      this.armRexmit(name, seq, this.o.maxRexmitDelayMs);
    }, delayMs);
    timers.set(seq, timer);
  }

  cancelRexmits(name: string): void {
    const timers = this.state(name).rexmitTimers;
    for (const t of timers.values()) t.cancel();
    timers.clear();
  }

  /** A missing packet arrived (or was declared lost): stop asking for it. */
  gapFilled(name: string, seq: number): void {
    const timers = this.state(name).rexmitTimers;
    timers.get(seq)?.cancel();
    timers.delete(seq);
  }

  /**
   * Sends NS_ackmsg when an in-order seq hits this peer's trigger digit;
   * after a gap closes, acks the highest trigger-aligned seq below the next
   * remaining gap.
   */
  maybeAck(node: NodeInfo, seq: number, filledGap: boolean): void {
    if (!this.o.cluster.flowControl() || node.type !== 'normal') return;
    const trigger = this.state(node.name).ackTrigger;
    const fm = firstMissing(node.seq);
    if (!filledGap) {
      if (fm !== undefined && seq > fm) return;
      if (seq % ACK_DIV !== trigger) return;
      this.sendAck(node.name, seq);
      return;
    }
    const upTo = fm === undefined ? node.seq.lastSeq : fm - 1;
    const base = Math.floor(upTo / ACK_DIV) * ACK_DIV;
    const ackSeq = upTo % ACK_DIV >= trigger ? base + trigger : base - ACK_DIV + trigger;
    if (ackSeq > 0 && ackSeq >= seq) this.sendAck(node.name, ackSeq);
  }

  private sendAck(name: string, seq: number): void {
    this.o.cluster.send(new HaMsg().add(F.TYPE, T.ACKMSG).add(F.TO, name).add(F.ACKSEQ, seq.toString(16)));
  }

  onAck(name: string, msg: HaMsg): void {
    const text = msg.get(F.ACKSEQ) ?? '';
    if (!/^[0-9a-fA-F]{1,13}$/.test(text)) return;
    const acked = parseInt(text, 16);
    const p = this.state(name);
    if (acked > p.ackedOurSeq && acked <= this.history.highest) p.ackedOurSeq = acked;
  }

  /** NS_nakrexmit: the seq the peer can never resend (the caller stops expecting it), or undefined. */
  onNak(name: string, msg: HaMsg, toUs: boolean): number | undefined {
    const text = msg.get(F.FIRSTSEQ) ?? '';
    if (!/^[0-9a-fA-F]{1,13}$/.test(text)) {
      this.o.log.error('should_drop_message: bad nak seq number');
      return undefined;
    }
    const seq = parseInt(text, 16);
    if (toUs) this.o.log.error(`Irretrievably lost packet: node ${name} seq ${seq}`);
    return seq;
  }

  // ------------------------------------------------------------ sender side

  /** Answers a peer's NS_rexmit from the history (spec 3.4). */
  onRexmitRequest(name: string, msg: HaMsg): void {
    const first = atoi(msg.get(F.FIRSTSEQ));
    const last = atoi(msg.get(F.LASTSEQ));
    if (first <= 0 || last <= 0 || first > last) {
      this.rexmitGuard.invalid(name, this.o.clock.nowMs());
      return;
    }
    const acked = this.state(name).ackedOurSeq;
    // Bounded to the history window and a per-peer budget (rexmit-guard.ts).
    this.rexmitGuard.answer(name, first, last, {
      window: () => ({ lowest: this.history.lowest, highest: this.history.highest, acked }),
      resend: (s, now) => this.resend(s, now),
      nak: (s, reason) => this.o.cluster.send(
        new HaMsg().add(F.TYPE, T.NAKREXMIT).add(F.FIRSTSEQ, s.toString(16)).add(F.TO, name).add(F.INFO, reason),
      ),
    }, this.o.clock.nowMs());
  }

  private resend(seq: number, now: number): 'sent' | 'recent' | 'not-found' {
    const entry = this.history.lookup(seq);
    if (!entry) return 'not-found';
    if (entry.lastRexmitMs > 0 && now - entry.lastRexmitMs < this.o.maxRexmitDelayMs - 10) return 'recent';
    entry.lastRexmitMs = now;
    this.counters.rexmitSent++;
    this.sendAll(entry.netstring, entry.classic);
    return 'sent';
  }
}

/** C atoi: leading digits, 0 when there are none. */
function atoi(text: string | undefined): number {
  const m = /^\s*([+-]?\d+)/.exec(text ?? '');
  return m?.[1] ? Math.min(Number(m[1]), Number.MAX_SAFE_INTEGER) : 0;
}
