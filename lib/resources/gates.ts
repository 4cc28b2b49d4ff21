/**
 * Small pieces of controller state, each owned by one object here: the
 * "initial resource acquisition complete" report, the shutdown waiting for
 * stability, and the RQSTDELAY deadline.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** Logs `Initial resource acquisition complete` once both our and the foreign work are done. */
export class StartupReport {
  private localDone = false;
  private foreignDone = false;
  private announced = false;

  constructor(private readonly log: Logger) {}

  local(reason: string): void {
    this.localDone = true;
    this.announce(reason);
  }
  foreign(reason: string): void {
    this.foreignDone = true;
    this.announce(reason);
  }
  /** Marks without announcing (the announcement comes with the other half). */
  markForeign(): void {
    this.foreignDone = true;
  }
  markLocal(): void {
    this.localDone = true;
  }
  announce(reason: string): void {
    if (this.announced || !this.localDone || !this.foreignDone) return;
    this.announced = true;
    this.log.info(`Initial resource acquisition complete (${reason})`);
  }
}

/**
 * A shutdown asked for while resources are in transition waits here; every
 * settle point calls `poll`, which runs it once things are stable.
 */
export class ShutdownGate {
  private pending: (() => void) | null = null;

  constructor(private readonly isStable: () => boolean, private readonly log: Logger) {}

  /** Runs `release` now if stable, else when `poll` finds it stable. */
  request(release: () => void): void {
    const attempt = (): void => {
      if (!this.isStable()) {
        if (this.pending === null) this.log.warn('Shutdown delayed until current resource activity finishes.');
        this.pending = attempt;
        return;
      }
      this.pending = null;
      release();
    };
    attempt();
  }

  poll(): void {
    const pending = this.pending;
    if (pending && this.isStable()) pending();
  }
}

/**
 * A deadline set once and kept: when it passes in the wrong state it is
 * acted on later (heartbeat polls it), so `fire` checks the state itself.
 */
export class KeptDeadline {
  private dueMs: number | null = null;
  private timer: TimerHandle | null = null;

  constructor(private readonly clock: Clock, private readonly fire: () => void) {}

  arm(delayMs: number): void {
    const now = this.clock.nowMs();
    this.dueMs ??= now + delayMs;
    if (this.timer !== null) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.fire();
    }, Math.max(0, this.dueMs - now));
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
