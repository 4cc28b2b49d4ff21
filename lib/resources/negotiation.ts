/**
 * The nice_failback negotiation at start (spec 6.1): `starting` and
 * `resource` messages move this node through init → starting →
 * bothstarting → rscrcvd → stable (→ shutdown). This object owns that
 * state; the holdings it reads and changes belong to the controller and
 * are reached through `NegotiationHost`.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T } from '../wire/fields.js';
import type { HaMsg } from '../wire/message.js';
import { KeptDeadline, type StartupReport } from './gates.js';
import { parseRsc, RSC, type RscSet } from './sets.js';
import type { ResourceState } from './types.js';

const RQSTDELAY_MS = 10_000;

export interface NegotiationHost {
  readonly auto: boolean;
  readonly log: Logger;
  readonly report: StartupReport;
  otherIsStable(): boolean;
  setOtherStable(stable: boolean): void;
  takeoverInProgress(): boolean;
  standbyActive(): boolean;
  cancelStandby(): void;
  /** The peer's holdings, updated; returns the new value. */
  peerHolds(update: (cur: RscSet) => RscSet): RscSet;
  /** Our holdings, updated; returns the new value. */
  weHold(update: (cur: RscSet) => RscSet): RscSet;
  /** Our own `mach_down` report came back: the takeover is complete. */
  machDownComplete(): void;
  sendHeld(stable: boolean, comment?: string): void;
  reqOurResources(): void;
  performAutoFailback(): void;
  audit(): void;
}

export class Negotiation {
  private state_: ResourceState = 'init';
  /** RQSTDELAY after the first `rscrcvd`. */
  private readonly requestDelay: KeptDeadline;

  constructor(private readonly host: NegotiationHost, private readonly clock: Clock, private requestDelayMs = RQSTDELAY_MS) {
    this.requestDelay = new KeptDeadline(clock, () => this.requestDelayExpired());
  }

  get state(): ResourceState {
    return this.state_;
  }

  /** Comm is up: our `starting` went out. */
  started(): void {
    this.state_ = 'starting';
  }

  /** Our own shutdown (giving up everything, or our shutdone came back). */
  shuttingDown(): void {
    this.state_ = 'shutdown';
  }

  stop(): void {
    this.requestDelay.cancel();
  }

  /**
   * Every node is heartbeat-ts with fast start: no RQSTDELAY. In `rscrcvd`
   * the decision comes on the next turn, after the message being handled
   * (the peers' holdings) has reached the controller.
   */
  expedite(): void {
    this.requestDelayMs = 0;
    if (this.state_ !== 'rscrcvd') return;
    this.requestDelay.cancel();
    this.clock.setTimer(() => this.requestDelayExpired(), 0);
  }

  /** A `starting` or `resource` message; false when it was refused. */
  onMessage(type: string, msg: HaMsg, fromMe: boolean): boolean {
    const next = type === T.STARTING ? this.onStarting(fromMe) : this.onResource(msg, fromMe);
    if (next === undefined) return false;
    this.state_ = next;
    if (this.state_ === 'rscrcvd') this.requestDelay.arm(this.requestDelayMs);
    return true;
  }

  /** `starting`: the next state, or undefined when the message is refused. */
  private onStarting(fromMe: boolean): ResourceState | undefined {
    if (fromMe) return this.state_;
    let next = this.state_;
    // `starting` means the other node (re)started: a standby exchange with its
    // previous run can never finish, and would hold us "unstable" (no shutdown,
    // no failback) until the one-hour standby timeout.
    if (this.host.standbyActive()) {
      this.host.log.info('Cancelling pending standby operation: the other node restarted.');
      this.host.cancelStandby();
    }
    if (this.state_ === 'starting') {
      next = 'bothstarting';
      this.host.report.foreign('HB_R_BOTHSTARTING');
    } else if (this.state_ !== 'rscrcvd' && this.state_ !== 'stable' && this.state_ !== 'shutdown') {
      this.host.log.error(`Received 'starting' message in state ${this.state_}`);
      return undefined;
    }
    this.host.setOtherStable(false);
    if (this.host.takeoverInProgress()) this.host.log.warn('T_STARTING received during takeover.');
    this.host.sendHeld(this.state_ === 'stable');
    return next;
  }

  /** `resource` (rsc_hold, rtype, isstable, info): the next state, or undefined when refused. */
  private onResource(msg: HaMsg, fromMe: boolean): ResourceState | undefined {
    const n = parseRsc(msg.get(F.RSC_HOLD));
    if (n === undefined) {
      this.host.log.error(`resource message without a valid rsc_hold field (${msg.get(F.RSC_HOLD) ?? 'none'}).`);
      return undefined;
    }
    let next = this.state_;
    if (this.state_ === 'starting' || this.state_ === 'bothstarting') {
      next = 'rscrcvd';
      if (!this.host.auto) this.host.report.foreign('T_RESOURCES');
    } else if (this.state_ === 'init') {
      this.host.log.error(`resource message received in state ${this.state_}`);
      return undefined;
    }
    const full = msg.get(F.RTYPE) === 'full';
    const update = (cur: RscSet): RscSet => (full ? n : n === RSC.NONE ? RSC.NONE : ((n | cur) as RscSet));
    return fromMe ? this.ownResource(update, msg.get(F.INFO), next) : this.peerResource(update, msg.get(F.ISSTABLE), next);
  }

  private peerResource(update: (cur: RscSet) => RscSet, stable: string | undefined, next: ResourceState): ResourceState {
    const otherHolds = this.host.peerHolds(update);
    if (stable === '1') {
      if (!this.host.otherIsStable()) {
        this.host.log.info('remote resource transition completed.');
        this.host.setOtherStable(true);
        this.host.sendHeld(this.state_ === 'stable');
        this.host.performAutoFailback();
      }
    } else if (stable !== undefined) {
      this.host.setOtherStable(false);
    }
    if (next === 'stable' || next === 'shutdown' || !this.host.otherIsStable()) return next;
    this.host.log.info('remote resource transition completed.');
    this.state_ = 'stable';
    this.host.reqOurResources();
    this.host.sendHeld(true);
    this.host.performAutoFailback();
    this.host.report.markForeign();
    if (!this.host.auto && otherHolds & RSC.FOREIGN) this.host.report.markLocal();
    this.host.report.announce('T_RESOURCES(them)');
    return 'stable';
  }

  private ownResource(update: (cur: RscSet) => RscSet, info: string | undefined, next: ResourceState): ResourceState {
    if (this.host.weHold(update) & RSC.LOCAL) this.host.report.local('T_RESOURCES(us)');
    if (info === 'mach_down') {
      this.host.log.info('mach_down takeover complete.');
      this.host.machDownComplete();
      this.host.report.foreign('mach_down');
    } else if (info === 'shutdown') {
      return 'shutdown';
    }
    return next;
  }

  /**
   * Both nodes starting and neither stable: take our own groups RQSTDELAY
   * after the first `rscrcvd`. Like heartbeat's polled deadline, it is kept
   * when it passes in another state and acted on once `rscrcvd` is back.
   */
  private requestDelayExpired(): void {
    if (this.state_ !== 'rscrcvd') return;
    this.state_ = 'stable';
    this.host.reqOurResources();
    this.host.log.info('local resource transition completed.');
    this.host.sendHeld(true);
    this.host.audit();
  }
}
