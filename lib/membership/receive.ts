/**
 * The receive path's checks (spec 3.2): authentication, header fields, the
 * sending node, addressing, and sequencing with its consequences (restart,
 * partition heal, lost packets, acks). What passes goes back to the Cluster
 * for dispatch; the state each check touches belongs to the node table,
 * Liveness or Reliability.
 */
import type { Medium, ReceivedPacket } from '../media/medium.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T, isUnsequencedType } from '../wire/fields.js';
import type { HaMsg } from '../wire/message.js';
import type { MembershipCounters } from './counters.js';
import type { Liveness } from './liveness.js';
import type { NodeTable } from './node-table.js';
import type { NodeInfo } from './nodes.js';
import type { Reliability, Signer } from './reliability.js';
import { RateGate } from '../util/rate-gate.js';
import { parseHex } from './sequencing.js';
import { judgeOwnName, nsReplayReason } from './wire-trust.js';

/** Rate limit for repeated complaints about bad packets (one line per key per interval). */
const BADPACK_LOG_INTERVAL_MS = 10_000;
/** Keys of that rate limit (reason × configured node); bounded whatever senders claim to be. */
const BADPACK_MAX_KEYS = 256;

/** What the receive path learnt of a message before acting on it. */
export interface Admitted {
  node: NodeInfo;
  type: string;
  unsequenced: boolean;
  msgtime: number;
  toUs: boolean;
  link: string | undefined;
  /** From a medium (not our own loopback copy). */
  fromWire: boolean;
}

export interface ReceiveOptions {
  table: NodeTable;
  liveness: Liveness;
  reliability: Reliability;
  signer: Signer;
  clock: Clock;
  log: Logger;
  logBadpack: boolean;
  myName: string;
  uuid: Buffer;
  generation: number;
  /** A peer restarted (higher generation). */
  peerRestart(name: string): void;
  /** A peer we had declared dead came back with the same generation. */
  partitionHealed(name: string): void;
  /** Totals for observers. */
  counters: MembershipCounters;
}

export class ReceivePath {
  private readonly badpackLogged = new RateGate(BADPACK_LOG_INTERVAL_MS, BADPACK_MAX_KEYS);

  constructor(private readonly o: ReceiveOptions) {}

  /** Authentication: the message, or undefined (counted and logged, rate-limited). */
  verify(pkt: ReceivedPacket, medium: Medium): HaMsg | undefined {
    const verdict = this.o.signer.verify(pkt.data);
    if (verdict.verdict !== 'ok') {
      this.badPacket(`${verdict.verdict}`, () => {
        switch (verdict.verdict) {
          case 'malformed': return `Dropping malformed packet from ${pkt.from} on ${medium.linkName}: ${verdict.reason}`;
          case 'unknown-key': return `Dropping packet from ${pkt.from} on ${medium.linkName}: auth method ${verdict.authNum} not in authkeys`;
          default: return `Dropping packet from ${pkt.from} on ${medium.linkName}: failed authentication`;
        }
      });
      return undefined;
    }
    return verdict.msg;
  }

  badPacket(key: string, text: () => string): void {
    if (!this.o.logBadpack) return;
    if (this.badpackLogged.pass(key, this.o.clock.nowMs()) === false) return;
    this.o.log.warn(text());
  }

  /** Header checks and the sending node; undefined when the message is dropped. */
  admit(msg: HaMsg, medium: Medium | null): Admitted | undefined {
    const type = msg.get(F.TYPE);
    const from = msg.get(F.ORIG);
    const ts = msg.get(F.TS);
    if (type === undefined || from === undefined || ts === undefined) {
      this.badPacket('missing-fields', () => `process_clustermsg: missing from/ts/type (from ${from ?? '<?>'})`);
      return undefined;
    }
    const unsequenced = isUnsequencedType(type);
    if (!unsequenced && msg.get(F.SEQ) === undefined) {
      this.badPacket('missing-seq', () => `process_clustermsg: missing seqno (from ${from})`);
      return undefined;
    }
    const msgtime = parseHex(ts);
    if (msgtime === undefined || msgtime === 0) return undefined;
    const node = this.o.table.lookup(from, msg.getBinary(F.ORIGUUID));
    if (!node) {
      // one key for every unknown name: made-up senders must not grow the rate limit
      this.badPacket('bad-node', () => `process_status_message: bad node [${from}] in message`);
      return undefined;
    }
    if (node.type === 'ping' && type !== T.NS_STATUS) return undefined;
    this.o.table.heardFrom(node.name);
    const link = medium ? node.links.find((l) => l.name === medium.linkName)?.name : undefined;
    const destUuid = msg.getBinary(F.TOUUID);
    const dest = msg.get(F.TO);
    const toUs = destUuid !== undefined && destUuid.length === 16
      ? destUuid.equals(this.o.uuid)
      : dest === undefined || dest === this.o.myName;
    return { node, type, unsequenced, msgtime, toUs, link, fromWire: medium !== null };
  }

  acceptUnsequenced(a: Admitted, msg: HaMsg): boolean {
    if (a.fromWire && this.staleUnsequenced(a, msg)) return false;
    if (a.type === T.NAKREXMIT) {
      const seq = this.o.reliability.onNak(a.node.name, msg, a.toUs);
      if (seq !== undefined && this.o.table.forgetMissing(a.node.name, seq)) {
        this.o.reliability.gapFilled(a.node.name, seq);
        if (a.node.seq.missing.size === 0) this.o.log.info(`No pkts missing from ${a.node.name}!`);
      }
      return false;
    }
    if (!a.toUs) return false;
    if (a.link) this.refreshLink(a.node.name, a.link);
    return true;
  }

  /**
   * should_drop_message and its consequences. Our own loopback copy is
   * tracked too, so that a copy the network brings back is a duplicate.
   */
  acceptSequenced(a: Admitted, msg: HaMsg): boolean {
    const { node } = a;
    const from = node.name;
    const seq = parseHex(msg.get(F.SEQ) ?? '');
    const gen = msg.get(F.GEN) === undefined ? 0 : parseHex(msg.get(F.GEN) ?? '');
    if (seq === undefined || seq <= 0 || gen === undefined) {
      this.badPacket(`bad-seq-${from}`, () => `should_drop_message: bad sequence or generation number from ${from}`);
      return false;
    }
    const isStatus = a.type === T.STATUS;
    if (isStatus && node.seq.generation === gen && gen > 0 && node.status === 'dead' && seq <= node.statusSeq) return false;
    const decision = this.o.table.track(from, { seq, generation: gen, isStatus, peerDead: node.status === 'dead' });
    if (!decision) return false;
    if (decision.action === 'drop') {
      if (decision.reason === 'replay') {
        this.o.signer.noteReplay();
        this.badPacket(`replay-${from}`, () => `should_drop_message: attempted replay attack [${from}]? [gen = ${gen}, curgen = ${node.seq.generation}]`);
      }
      return false;
    }
    if (a.link) this.refreshLink(from, a.link);
    if (decision.action === 'duplicate') return false;
    if (decision.restart) {
      this.o.log.info(`Heartbeat restart on node ${from}`);
      this.o.table.restarted(from);
      this.o.liveness.forgetStatus(from);
      this.o.reliability.cancelRexmits(from);
      this.o.peerRestart(from);
    }
    if (decision.heal) this.o.partitionHealed(from);
    if (decision.lostALot) {
      this.o.log.error('lost a lot of packets!');
      this.o.counters.peer(from).lostALot++;
      this.o.reliability.cancelRexmits(from);
    }
    if (decision.lost) {
      const n = decision.lost.to - decision.lost.from + 1;
      this.o.counters.peer(from).lost += n;
      this.o.log.warn(`${n} lost packet(s) for [${from}] [${decision.lost.from - 1}:${decision.lost.to + 1}]`);
      this.o.reliability.requestRexmit(from, decision.lost.from, decision.lost.to);
    }
    if (decision.filledGap) {
      this.o.reliability.gapFilled(from, seq);
      if (decision.gapsCleared) this.o.log.info(`No pkts missing from ${from}!`);
    }
    if (!a.toUs) return false;
    if (node.name !== this.o.myName) this.o.reliability.maybeAck(node, seq, decision.filledGap);
    return true;
  }

  /**
   * A message from the network that names us: only the echo of what we sent
   * (our generation and uuid, a seq we used) may show that the link works;
   * anything else is a forgery or a replay, counted and dropped (wire-trust.ts).
   */
  ownNameOnWire(a: Admitted, msg: HaMsg, from: string, linkName: string, highestSeq: number): void {
    const uuid = msg.getBinary(F.ORIGUUID);
    const v = judgeOwnName({
      generation: parseHex(msg.get(F.GEN) ?? ''),
      seq: parseHex(msg.get(F.SEQ) ?? ''),
      unsequenced: a.unsequenced,
      uuid: uuid?.length === 16 ? uuid : undefined,
    }, { generation: this.o.generation, uuid: this.o.uuid, highestSeq });
    if (v.kind === 'echo') {
      if (a.link) this.refreshLink(a.node.name, a.link);
      return;
    }
    this.o.signer.noteReplay();
    this.badPacket('own-name', () => `Dropping packet from ${from} on ${linkName} that claims to come from this node (${this.o.myName}): ${v.reason}`);
  }

  /** NS_* carry no seq: a replay is told by generation and timestamp (wire-trust.ts). Counted and dropped. */
  private staleUnsequenced(a: Admitted, msg: HaMsg): boolean {
    const { node } = a;
    if (node.type !== 'normal' || node.name === this.o.myName) return false;
    const why = nsReplayReason({ generation: parseHex(msg.get(F.GEN) ?? ''), ts: a.msgtime },
      { generation: node.seq.generation, lastStatusTs: node.remoteLastUpdate, deadtimeMs: node.deadtimeMs });
    if (why === undefined) return false;
    this.o.signer.noteReplay();
    this.badPacket(`ns-replay-${node.name}`, () => `Dropping ${a.type} from ${node.name}: replayed? (${why})`);
    return true;
  }

  refreshLink(node: string, link: string): void {
    this.o.liveness.linkHeard(node, link);
    this.o.table.setLinkStatus(node, link, 'up');
  }
}
