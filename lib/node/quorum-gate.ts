/**
 * `quorum majority` between membership and the resource controller (the
 * only place they meet, with ./resources.ts): resources start only once
 * this node's partition has quorum; a dead node's groups are taken by one
 * member only (QuorumRules.taker), after a grace that lets the lost side
 * stop first; peers' `resource` announcements are merged so that a node
 * joining a cluster of three or more sees what any of them holds (the v1
 * negotiation compares two nodes). Losing quorum is the runtime's business
 * (runtime.ts: give up everything, rejoin as a new generation).
 */
import type { Cluster } from '../membership/cluster.js';
import type { ResourceController } from '../resources/controller.js';
import { describeQuorum, QuorumRules } from '../resources/quorum.js';
import { parseRsc, RSC, rscName, type RscSet } from '../resources/sets.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T } from '../wire/fields.js';
import type { HaMsg } from '../wire/message.js';

export interface QuorumGateOptions {
  rules: QuorumRules;
  controller: ResourceController;
  clock: Clock;
  log: Logger;
  graceMs: number;
  /** This node's name (our own held-back messages are delivered as from it). */
  me: string;
  /** Whether haresources gives this node groups of its own. */
  hasOwnGroups: boolean;
  /** Nodes (lower case) that haresources gives groups. */
  nodesWithGroups: ReadonlySet<string>;
  /** Longest wait for every peer's holdings while negotiating (a node never heard is dead by then). */
  answerWaitMs: number;
}

export class QuorumGate {
  private activated = false;
  private commUpSeen = false;
  /** Each live peer's last full `resource` announcement. */
  private readonly peerHolds = new Map<string, RscSet>();
  private readonly timers = new Set<TimerHandle>();
  /** Peers that announced their holdings since we activated. */
  private readonly answered = new Set<string>();
  private pending: { msg: HaMsg; from: string } | undefined;
  /** Our own `resource` announcements held back with the peers'. */
  private readonly ownPending: HaMsg[] = [];
  private waitForAnswers: TimerHandle | undefined;

  constructor(private readonly o: QuorumGateOptions) {}

  /** Follows `c`; returns what stops following it. */
  bind(c: Cluster): () => void {
    const onCommUp = (): void => { this.commUpSeen = true; this.maybeActivate(c); };
    const onStatus = (node: string, status: string): void => {
      if (status === 'dead') this.peerHolds.delete(node.toLowerCase());
      this.maybeActivate(c);
      if ((this.pending || this.ownPending.length > 0) && this.everyPeerAnswered(c)) this.flush();
    };
    const onMessage = (msg: HaMsg, from: string, local: boolean): void => {
      if (this.activated && c.isCommUp) this.deliver(c, msg, from, local);
    };
    const onDead = (name: string): void => {
      if (this.activated && !this.o.rules.isMe(name) && c.node(name)?.type === 'normal') this.nodeDead(c, name);
    };
    c.on('commUp', onCommUp).on('nodeStatus', onStatus).on('message', onMessage).on('nodeDead', onDead);
    return () => {
      c.off('commUp', onCommUp).off('nodeStatus', onStatus).off('message', onMessage).off('nodeDead', onDead);
      this.stop();
    };
  }

  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.waitForAnswers?.cancel();
  }

  private maybeActivate(c: Cluster): void {
    if (this.activated || !this.commUpSeen || !c.isCommUp) return;
    const q = this.o.rules.evaluate(c.normalNodes());
    if (!q.has) return;
    this.activated = true;
    this.o.log.info(`Quorum: ${describeQuorum(q)}: resources may run here.`);
    this.o.controller.commUp();
  }

  private deliver(c: Cluster, msg: HaMsg, from: string, local: boolean): void {
    const type = msg.get(F.TYPE);
    const peer = !local && !this.o.rules.isMe(from);
    if (peer && type === T.SHUTDONE && !this.o.rules.isMe(this.o.rules.taker(this.o.rules.evaluate(c.normalNodes()), from))) return;
    // Our own announcement moves v1 to `rscrcvd` and starts RQSTDELAY: it
    // waits with the peers' until every one has answered.
    if (local && type === T.RESOURCE && this.holding(c)) {
      this.ownPending.push(msg);
      this.waitForAnswers ??= this.o.clock.setTimer(() => this.flush(), this.o.answerWaitMs);
      return;
    }
    if (peer && type === T.RESOURCE) {
      const held = parseRsc(msg.get(F.RSC_HOLD));
      if (held !== undefined) {
        const key = from.toLowerCase();
        const before = this.peerHolds.get(key) ?? RSC.NONE;
        this.peerHolds.set(key, msg.get(F.RTYPE) === 'full' || held === RSC.NONE ? held : ((before | held) as RscSet));
        this.answered.add(key);
        this.pending = { msg, from };
        if (!this.holding(c)) this.flush();
        else this.waitForAnswers ??= this.o.clock.setTimer(() => this.flush(), this.o.answerWaitMs);
        return;
      }
    }
    this.o.controller.message(msg, from, local);
  }

  /**
   * While we negotiate, the v1 controller decides on the first stable
   * answer; with more peers it waits for every one not known dead (or answerWaitMs),
   * then sees one announcement carrying what all of them hold.
   */
  /** Whether announcements wait: negotiating, and some peer not known dead has not answered. */
  private holding(c: Cluster): boolean {
    return this.o.controller.state !== 'stable' && !this.everyPeerAnswered(c);
  }

  private everyPeerAnswered(c: Cluster): boolean {
    // Not only the peers heard so far: a holder not heard yet (init) may be
    // the one that runs our groups. Only a node known dead needs no answer.
    return c.normalNodes().every((n) => this.o.rules.isMe(n.name) || n.status === 'dead' || this.answered.has(n.name.toLowerCase()));
  }

  private flush(): void {
    this.waitForAnswers?.cancel();
    this.waitForAnswers = undefined;
    const p = this.pending;
    this.pending = undefined;
    const own = this.ownPending.splice(0);
    if (p) this.o.controller.message(p.msg.clone().mod(F.RSC_HOLD, rscName(this.merged())).mod(F.RTYPE, 'full'), p.from, false);
    for (const m of own) this.o.controller.message(m, this.o.me, true);
  }

  /**
   * The peers' holdings as one peer of the 2-node v1 negotiation: FOREIGN
   * when a peer holds groups not its own (ours among them, perhaps — only if
   * we have any), LOCAL when a peer with groups of its own holds them.
   */
  private merged(): RscSet {
    let any = 0;
    for (const [node, v] of this.peerHolds) {
      if (this.o.hasOwnGroups) any |= v & RSC.FOREIGN;
      if (this.o.nodesWithGroups.has(node)) any |= v & RSC.LOCAL;
    }
    return any as RscSet;
  }

  /**
   * Who takes the dead node's groups is decided when the grace ends: deaths
   * seen in the same partition arrive one by one, and a node that looked
   * like the first live one at the first death may be dead (or alone) by then.
   */
  private nodeDead(c: Cluster, name: string): void {
    if (!this.o.rules.evaluate(c.normalNodes()).has) return;
    const t = this.o.clock.setTimer(() => {
      this.timers.delete(t);
      const q = this.o.rules.evaluate(c.normalNodes());
      if (!q.has || c.node(name)?.status !== 'dead') {
        this.o.log.info(`Quorum: takeover of ${name}'s groups cancelled (${q.has ? `${name} is back` : 'quorum lost'}).`);
        return;
      }
      const taker = this.o.rules.taker(q, name);
      if (!this.o.rules.isMe(taker)) {
        this.o.log.info(`Quorum: ${describeQuorum(q)}; ${taker ?? 'nobody'} takes the groups of dead node ${name}.`);
        return;
      }
      this.o.log.info(`Quorum: ${describeQuorum(q)}; taking the groups of dead node ${name}.`);
      this.o.controller.takeoverAsQuorumTaker(name);
    }, this.o.graceMs);
    this.timers.add(t);
  }
}
