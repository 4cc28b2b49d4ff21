/**
 * Group work in flight (heartbeat's ResourceMgmt_child_count) and the
 * controller's delayed actions, on the injected clock. Stability and
 * shutdown wait for `busy` to reach zero; `settled` runs after every piece.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';

export class Work {
  private busy_ = 0;
  private readonly timers = new Set<TimerHandle>();

  constructor(private readonly clock: Clock, private readonly log: Logger, private readonly settled: () => void) {}

  get busy(): number {
    return this.busy_;
  }

  /** Counts a piece of group work so stability and shutdown can wait for it. */
  async track(work: () => Promise<void>): Promise<void> {
    this.busy_++;
    try {
      await work();
    } catch (err) {
      this.log.error(`resource operation failed: ${(err as Error).message}`);
    } finally {
      this.busy_--;
      this.settled();
    }
  }

  later(ms: number, fn: () => void): void {
    const t = this.clock.setTimer(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }
}
