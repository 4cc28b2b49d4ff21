/**
 * The standby 3-phase protocol (spec 6.4): NOT → ME/OTHER → DONE → NOT,
 * driven by `ask_resources` messages with info=me|other|done. Every node,
 * the requester included (through loopback), runs this same machine.
 * `rsc_hold` is the set the requester gives up, in the requester's terms.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import { mirror, parseRsc, RSC, rscName, type RscSet } from './sets.js';

type Phase = 'not' | 'me' | 'other' | 'done';
const PHASE_NUMBER: Record<Phase, number> = { not: 0, me: 1, other: 2, done: 3 };

/** One `ask_resources` message as the phases see it. */
interface StandbyMsg {
  info: string;
  from: string;
  rtype: RscSet;
  fromMe: boolean;
  now: number;
}
type Verdict = 'ok' | 'ignored' | 'refused';

const STANDBY_INIT_TO_MS = 10_000;
const STANDBY_RSC_TO_MS = 60 * 60 * 1000;

/**
 * What the protocol needs of the controller. The controller owns the
 * holdings and stability; the protocol reads them and says what happened.
 */
export interface StandbyHost {
  readonly auto: boolean;
  /** The other side has no transition of its own under way. */
  otherIsStable(): boolean;
  /** Our resource state is `stable`. */
  locallyStable(): boolean;
  /** An exchange began: the other side is in flux until it ends. */
  standbyBegan(): void;
  /** No reply in time: the exchange is dropped, the other side counts as stable again. */
  standbyTimedOut(): void;
  /** We give up `set` now (phase ME): holdings shrink, announced unstable. */
  givingUp(set: RscSet): void;
  /** Our standby completed: we no longer hold `set`. */
  released(set: RscSet): void;
  /** Our request came back done: we hold the mirror of `set` too. */
  acquired(set: RscSet): void;
  /** The exchange ended on this side: holdings announced as stable. */
  finished(): void;
  track(work: () => Promise<void>): Promise<void>;
  /** A reason to refuse acquiring these groups (heartbeat-ts.cf monitoring), if any. */
  vetoAcquire(keys: string[]): string | undefined;
  takeGroup(key: string): Promise<void>;
  giveGroup(key: string): Promise<void>;
}

export interface StandbyDeps {
  groups: { ourKeys(): string[]; otherKeys(): string[]; allKeys(): string[] };
  send(msg: HaMsg): void;
  log: Logger;
  clock: Clock;
}

export class StandbyProtocol {
  private phase: Phase = 'not';
  private deadlineMs = 0;
  private deadlineTimer: TimerHandle | null = null;
  private rsctype: RscSet = RSC.ALL;

  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly host: StandbyHost, private readonly deps: StandbyDeps) {
    this.log = deps.log;
    this.clock = deps.clock;
  }

  /** No standby operation in progress (heartbeat: going_standby == NOT and no timer). */
  get idle(): boolean {
    return this.phase === 'not' && this.deadlineMs === 0;
  }
  get active(): boolean {
    return this.phase !== 'not';
  }

  /**
   * The standby deadline. heartbeat only looked at it when a message
   * arrived; with a dead peer nothing arrives, so a timer checks it too.
   */
  private setDeadline(at: number): void {
    this.deadlineMs = at;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = at === 0 ? null : this.clock.setTimer(() => this.checkTimeout(), Math.max(1, at - this.clock.nowMs() + 1));
  }

  cancel(): void {
    this.phase = 'not';
    this.setDeadline(0);
  }

  /** The timer check heartbeat runs before processing each message. */
  checkTimeout(): void {
    if (this.deadlineMs === 0) return;
    if (this.clock.nowMs() >= this.deadlineMs) {
      this.setDeadline(0);
      this.phase = 'not';
      this.log.warn('No reply to standby request.  Standby request cancelled.');
      this.host.standbyTimedOut();
    }
  }

  /** Starts a standby of `set` (ours to give up): the `info=me` message. */
  request(set: RscSet): void {
    this.send(set, 'me');
  }

  private send(set: RscSet, info: Phase): void {
    this.deps.send(new HaMsg().add(F.TYPE, T.ASK_RESOURCES).add(F.RSC_HOLD, rscName(set)).add(F.INFO, info));
  }

  onMessage(msg: HaMsg, fromMe: boolean): void {
    const info = msg.get(F.INFO);
    const from = msg.get(F.ORIG);
    const rtype = parseRsc(msg.get(F.RSC_HOLD)) ?? RSC.ALL;
    if (info === undefined || from === undefined) {
      this.log.error('Received standby message without info/from');
      return;
    }
    const now = this.clock.nowMs();
    if (this.deadlineMs !== 0 && now < this.deadlineMs && info.toLowerCase() === 'me') {
      const secs = Math.ceil((this.deadlineMs - now) / 1000);
      this.log.warn(`Standby in progress- new request from ${from} ignored [${secs} seconds left]`);
      return;
    }
    const orig = this.phase;
    const m: StandbyMsg = { info, from, rtype, fromMe, now };
    let verdict: Verdict;
    switch (this.phase) {
      case 'not': verdict = this.inNot(m); break;
      case 'me': verdict = this.inMe(m); break;
      case 'other': verdict = this.inOther(m); break;
      case 'done': verdict = this.inDone(m); break;
    }
    if (verdict === 'ignored') this.log.error(`Ignored standby message '${info}' from ${from} in state ${PHASE_NUMBER[orig]}`);
  }

  /** Idle: a `me` request starts an exchange (as requester or as the other side). */
  private inNot(m: StandbyMsg): Verdict {
    if (!this.host.otherIsStable()) {
      this.log.warn(`standby message [${m.info}] from ${m.from} ignored.  Other side is in flux.`);
      return 'refused';
    }
    if (!this.host.locallyStable()) {
      this.log.warn(`standby message [${m.info}] from ${m.from} ignored.  local resources in flux.`);
      return 'refused';
    }
    this.rsctype = m.rtype;
    if (m.info.toLowerCase() !== 'me') return 'ignored';
    const veto = m.fromMe ? undefined : this.host.vetoAcquire(this.keysOf(mirror(m.rtype)));
    if (veto !== undefined) {
      // No `other` reply: the requester's standby times out and it keeps the group.
      this.log.warn(`standby message [${m.info}] from ${m.from} refused: ${veto}.`);
      return 'refused';
    }
    this.host.standbyBegan();
    this.log.info(`${m.from} wants to go standby [${rscName(m.rtype)}]`);
    if (m.fromMe) {
      this.setDeadline(m.now + STANDBY_INIT_TO_MS);
      this.phase = 'me';
    } else {
      this.phase = 'other';
      this.send(this.rsctype, 'other');
      this.setDeadline(m.now + STANDBY_RSC_TO_MS);
    }
    return 'ok';
  }

  /** We asked: the other side's `other` makes us give up; our own `done` ends our part. */
  private inMe(m: StandbyMsg): Verdict {
    if (!m.fromMe) {
      this.rsctype = m.rtype;
      this.setDeadline(m.now + STANDBY_RSC_TO_MS);
      if (m.info.toLowerCase() !== 'other') return 'ignored';
      this.log.info(`standby: ${m.from} can take our ${rscName(m.rtype)} resources`);
      this.giveUp(m.rtype);
      return 'ok';
    }
    if (m.info !== 'done') return 'ignored';
    this.log.info(`Local standby process completed [${rscName(m.rtype)}].`);
    this.phase = 'done';
    this.host.released(this.rsctype);
    this.setDeadline(m.now + STANDBY_RSC_TO_MS);
    return 'ok';
  }

  /** The other side asked: its `done` (it released) makes us acquire. */
  private inOther(m: StandbyMsg): Verdict {
    this.rsctype = m.rtype;
    if (m.info !== 'done') return !m.fromMe || m.info !== 'other' ? 'ignored' : 'ok';
    this.setDeadline(m.now + STANDBY_RSC_TO_MS);
    if (m.fromMe) return 'ignored';
    this.log.info(`standby: acquire [${rscName(m.rtype)}] resources from ${m.from}`);
    // Phase first: our `done` may come back before acquire() has returned.
    this.phase = 'done';
    this.acquire(m.rtype, 'done');
    return 'ok';
  }

  /** The last `done` (ours after acquiring, or the other side's) ends the exchange. */
  private inDone(m: StandbyMsg): Verdict {
    this.rsctype = m.rtype;
    if (m.info !== 'done') return 'ignored';
    this.setDeadline(0);
    this.phase = 'not';
    if (m.fromMe) {
      this.log.info(`Standby resource acquisition done [${rscName(m.rtype)}].`);
      this.host.acquired(m.rtype);
    } else {
      this.log.info(`Other node completed standby takeover of ${rscName(m.rtype)} resources.`);
    }
    this.host.finished();
    return 'ok';
  }

  /** The group keys of a set, in this node's terms. */
  private keysOf(set: RscSet): string[] {
    const g = this.deps.groups;
    return set === RSC.FOREIGN ? g.otherKeys() : set === RSC.LOCAL ? g.ourKeys() : g.allKeys();
  }

  /** go_standby(ME): release our share of `set` and say `done`. */
  private giveUp(set: RscSet): void {
    this.host.givingUp(set);
    const keys = this.keysOf(set);
    const name = rscName(set);
    void this.host.track(async () => {
      this.log.info(`give up ${name} HA resources (standby).`);
      for (const key of keys) await this.host.giveGroup(key);
      this.log.info(`${name} HA resource release completed (standby).`);
      this.send(this.rsctype, 'done');
    });
  }

  /** go_standby(OTHER): acquire the complement of what the requester gives up. */
  private acquire(set: RscSet, reply: Phase): void {
    const act = mirror(set);
    const keys = this.keysOf(act);
    const name = rscName(act);
    void this.host.track(async () => {
      this.log.info(`acquire ${name} HA resources (standby).`);
      for (const key of keys) await this.host.takeGroup(key);
      this.log.info(`${name} HA resource acquisition completed (standby).`);
      this.send(this.rsctype, reply);
    });
  }
}
