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

const STANDBY_INIT_TO_MS = 10_000;
const STANDBY_RSC_TO_MS = 60 * 60 * 1000;

/** The controller state the protocol reads and changes. */
export interface StandbyHost {
  iHold: RscSet;
  otherIsStable: boolean;
  state: string;
  readonly auto: boolean;
  sendHeld(stable: boolean, comment?: string): void;
  markLocalWorkDone(reason: string): void;
  track(work: () => Promise<void>): Promise<void>;
  takeGroup(key: string): Promise<void>;
  giveGroup(key: string): Promise<void>;
  shutdownIfNeeded(): void;
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
      this.host.otherIsStable = true;
      this.phase = 'not';
      this.log.warn('No reply to standby request.  Standby request cancelled.');
      this.host.shutdownIfNeeded();
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
    let ignored = false;
    switch (this.phase) {
      case 'not':
        if (!this.host.otherIsStable) {
          this.log.warn(`standby message [${info}] from ${from} ignored.  Other side is in flux.`);
          return;
        }
        if (this.host.state !== 'stable') {
          this.log.warn(`standby message [${info}] from ${from} ignored.  local resources in flux.`);
          return;
        }
        this.rsctype = rtype;
        if (info.toLowerCase() !== 'me') {
          ignored = true;
          break;
        }
        this.host.otherIsStable = false;
        this.log.info(`${from} wants to go standby [${rscName(rtype)}]`);
        if (fromMe) {
          this.setDeadline(now + STANDBY_INIT_TO_MS);
          this.phase = 'me';
        } else {
          this.phase = 'other';
          this.send(this.rsctype, 'other');
          this.setDeadline(now + STANDBY_RSC_TO_MS);
        }
        break;
      case 'me':
        if (!fromMe) {
          this.rsctype = rtype;
          this.setDeadline(now + STANDBY_RSC_TO_MS);
          if (info.toLowerCase() === 'other') {
            this.log.info(`standby: ${from} can take our ${rscName(rtype)} resources`);
            this.giveUp(rtype);
          } else {
            ignored = true;
          }
        } else if (info === 'done') {
          this.log.info(`Local standby process completed [${rscName(rtype)}].`);
          this.phase = 'done';
          this.host.iHold = (this.host.iHold & ~this.rsctype & 3) as RscSet;
          this.setDeadline(now + STANDBY_RSC_TO_MS);
        } else {
          ignored = true;
        }
        break;
      case 'other':
        this.rsctype = rtype;
        if (info === 'done') {
          this.setDeadline(now + STANDBY_RSC_TO_MS);
          if (!fromMe) {
            this.log.info(`standby: acquire [${rscName(rtype)}] resources from ${from}`);
            // Phase first: our `done` may come back before acquire() has returned.
            this.phase = 'done';
            this.acquire(rtype, 'done');
          } else {
            ignored = true;
          }
        } else if (!fromMe || info !== 'other') {
          ignored = true;
        }
        break;
      case 'done':
        this.rsctype = rtype;
        if (info === 'done') {
          this.setDeadline(0);
          this.phase = 'not';
          if (fromMe) {
            this.log.info(`Standby resource acquisition done [${rscName(rtype)}].`);
            if (this.host.auto) this.host.markLocalWorkDone('auto_failback');
            this.host.iHold = (this.host.iHold | mirror(rtype)) as RscSet;
          } else {
            this.log.info(`Other node completed standby takeover of ${rscName(rtype)} resources.`);
          }
          this.host.sendHeld(true);
        } else {
          ignored = true;
        }
        break;
    }
    if (ignored) this.log.error(`Ignored standby message '${info}' from ${from} in state ${PHASE_NUMBER[orig]}`);
  }

  /** go_standby(ME): release our share of `set` and say `done`. */
  private giveUp(set: RscSet): void {
    this.host.otherIsStable = false;
    this.host.iHold = (this.host.iHold & ~set & 3) as RscSet;
    this.host.sendHeld(false, 'standby');
    const keys = set === RSC.FOREIGN ? this.deps.groups.otherKeys() : set === RSC.LOCAL ? this.deps.groups.ourKeys() : this.deps.groups.allKeys();
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
    const keys = act === RSC.FOREIGN ? this.deps.groups.otherKeys() : act === RSC.LOCAL ? this.deps.groups.ourKeys() : this.deps.groups.allKeys();
    const name = rscName(act);
    void this.host.track(async () => {
      this.log.info(`acquire ${name} HA resources (standby).`);
      for (const key of keys) await this.host.takeGroup(key);
      this.log.info(`${name} HA resource acquisition completed (standby).`);
      this.send(this.rsctype, reply);
    });
  }
}
