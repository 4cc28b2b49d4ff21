/**
 * One injected clock for the whole node. Liveness uses the monotonic
 * `nowMs()`; wire timestamps (`ts`) and log dates use the wall clock.
 * `defer` is the node's "next turn": work queued there runs after the
 * current task, in order, never inside the caller (a node's own messages
 * go through it). Only the implementations below touch real timers.
 */
export interface Clock {
  /** Monotonic milliseconds; never goes backwards, unrelated to the epoch. */
  nowMs(): number;
  /** Wall-clock milliseconds since the epoch (for `ts` fields and log lines). */
  wallMs(): number;
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  setRepeating(fn: () => void, intervalMs: number): TimerHandle;
  /** Runs `fn` after the current task and before any timer or I/O, in FIFO order. */
  defer(fn: () => void): void;
  /**
   * Runs `fn` once the input already waiting (datagrams queued while this
   * process was busy) has been read. Without it, `fn` runs at once.
   */
  afterInput?(fn: () => void): void;
}

export interface TimerHandle {
  cancel(): void;
}

/** Resolves after `ms` on `clock` (simulated time under a manual clock). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
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
  defer: (fn) => queueMicrotask(fn),
  // timers run before the poll phase of the loop; an immediate after it
  afterInput: (fn) => {
    setImmediate(fn);
  },
};

/**
 * A manual clock for tests and the simulator: time moves only when the
 * caller advances it, due timers fire in order, and deferred work runs
 * before each timer (and after the current task when nobody advances).
 */
export class ManualClock implements Clock {
  private mono = 0;
  private wall: number;
  private nextId = 1;
  private readonly timers = new Map<number, { due: number; fn: () => void; every: number | null }>();
  private readonly deferred: (() => void)[] = [];
  private flushQueued = false;

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
  /** Deferred work also runs by itself after the current task, as with the system clock. */
  defer(fn: () => void): void {
    this.deferred.push(fn);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Runs deferred work (and what it defers in turn) now. */
  flush(): void {
    for (let fn = this.deferred.shift(); fn; fn = this.deferred.shift()) fn();
  }

  /** When the next timer is due, or undefined when none is armed. */
  nextDueMs(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers.values()) if (next === undefined || t.due < next) next = t.due;
    return next;
  }

  advance(ms: number): void {
    const target = this.mono + ms;
    this.flush();
    while (this.fireNext(target)) this.flush();
    this.moveTo(target);
  }

  /**
   * Like advance, but lets promise continuations (async resource work) run
   * after every timer, as they would between real timer callbacks.
   */
  async advanceAsync(ms: number, settle: () => Promise<void> = () => new Promise((r) => setImmediate(r))): Promise<void> {
    const target = this.mono + ms;
    this.flush();
    await settle();
    this.flush();
    while (this.fireNext(target)) {
      this.flush();
      await settle();
      this.flush();
    }
    this.moveTo(target);
  }

  /** Moves time without running timers, as when the process is frozen; the next advance runs them late. */
  jumpWithoutTimers(ms: number): void {
    this.mono += ms;
    this.wall += ms;
  }

  private moveTo(target: number): void {
    if (target <= this.mono) return;
    this.wall += target - this.mono;
    this.mono = target;
  }

  private fireNext(target: number): boolean {
    let nextId = -1;
    let nextDue = Infinity;
    for (const [id, t] of this.timers) {
      if (t.due <= target && t.due < nextDue) {
        nextDue = t.due;
        nextId = id;
      }
    }
    const timer = this.timers.get(nextId);
    if (!timer) return false;
    // Overdue timers (after a frozen period) fire late, at the current time.
    this.moveTo(Math.max(nextDue, this.mono));
    if (timer.every === null) this.timers.delete(nextId);
    else timer.due = Math.max(timer.due + timer.every, this.mono + 1);
    timer.fn();
    return true;
  }

  private add(fn: () => void, delayMs: number, every: number | null): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { due: this.mono + Math.max(0, delayMs), fn, every });
    return { cancel: () => this.timers.delete(id) };
  }
}
