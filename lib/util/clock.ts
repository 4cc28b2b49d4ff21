/**
 * One injected clock for the whole daemon. Liveness uses the monotonic
 * `nowMs()`; wire timestamps (`ts`) and log dates use the wall clock.
 */
export interface Clock {
  /** Monotonic milliseconds; never goes backwards, unrelated to the epoch. */
  nowMs(): number;
  /** Wall-clock milliseconds since the epoch (for `ts` fields and log lines). */
  wallMs(): number;
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  setRepeating(fn: () => void, intervalMs: number): TimerHandle;
}

export interface TimerHandle {
  cancel(): void;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer(fn, delayMs) {
    const t = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(t) };
  },
  setRepeating(fn, intervalMs) {
    const t = setInterval(fn, intervalMs);
    return { cancel: () => clearInterval(t) };
  },
};

/**
 * A manual clock for unit tests of timing logic: time moves only when the
 * test calls `advance`, and due timers fire in order.
 */
export class ManualClock implements Clock {
  private mono = 0;
  private wall: number;
  private nextId = 1;
  private readonly timers = new Map<number, { due: number; fn: () => void; every: number | null }>();

  constructor(wallStartMs = 1_700_000_000_000) {
    this.wall = wallStartMs;
  }

  nowMs(): number {
    return this.mono;
  }
  wallMs(): number {
    return this.wall;
  }
  setTimer(fn: () => void, delayMs: number): TimerHandle {
    return this.add(fn, delayMs, null);
  }
  setRepeating(fn: () => void, intervalMs: number): TimerHandle {
    return this.add(fn, intervalMs, Math.max(1, intervalMs));
  }

  advance(ms: number): void {
    const target = this.mono + ms;
    for (;;) {
      let nextId = -1;
      let nextDue = Infinity;
      for (const [id, t] of this.timers) {
        if (t.due <= target && t.due < nextDue) {
          nextDue = t.due;
          nextId = id;
        }
      }
      const timer = this.timers.get(nextId);
      if (!timer) break;
      // Overdue timers (after a frozen period) fire late, at the current time.
      const at = Math.max(nextDue, this.mono);
      this.wall += at - this.mono;
      this.mono = at;
      if (timer.every === null) this.timers.delete(nextId);
      else timer.due = Math.max(timer.due + timer.every, at + 1);
      timer.fn();
    }
    this.wall += target - this.mono;
    this.mono = target;
  }

  /** Moves time without running timers, as when the process is frozen; the next advance runs them late. */
  jumpWithoutTimers(ms: number): void {
    this.mono += ms;
    this.wall += ms;
  }

  private add(fn: () => void, delayMs: number, every: number | null): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { due: this.mono + Math.max(0, delayMs), fn, every });
    return { cancel: () => this.timers.delete(id) };
  }
}
