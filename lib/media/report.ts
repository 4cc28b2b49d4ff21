/**
 * Error reporting shared by every medium: send() and receive paths never
 * throw, they hand an HbError naming the medium to the daemon's onError.
 * A dead interface fails every send (several per second per medium), so
 * repeats of the same failure are counted and summarised instead of logged.
 */
import { HbError } from '../util/errors.js';

export type ErrorSink = (err: Error) => void;

/** How often one kind of error may reach the sink (per medium). */
export const DEFAULT_ERROR_INTERVAL_MS = 10_000;

interface KeyState {
  lastReportMs: number;
  suppressed: number;
}

export class ErrorReporter {
  private sink: ErrorSink | undefined;
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly intervalMs: number = DEFAULT_ERROR_INTERVAL_MS,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Installs (or, with undefined, removes) the daemon's callback. */
  setSink(sink: ErrorSink | undefined): void {
    this.sink = sink;
  }

  /**
   * Reports `code`/`message` unless the same key was reported less than the
   * interval ago; the next report after a quiet interval says how many were
   * swallowed. `key` defaults to the code: callers add the errno so that a
   * new kind of failure is never hidden behind an old one.
   */
  report(code: string, message: string, key: string = code, cause?: unknown): void {
    const sink = this.sink;
    if (sink === undefined) return;
    const now = this.nowMs();
    const state = this.keys.get(key);
    if (state !== undefined && now - state.lastReportMs < this.intervalMs) {
      state.suppressed++;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    // The map stays small: keys are code+errno pairs, a handful per medium.
    this.keys.set(key, { lastReportMs: now, suppressed: 0 });
    const text = suppressed > 0 ? `${message} (${suppressed} similar error(s) suppressed)` : message;
    const err = cause === undefined ? new HbError(code, text) : new HbError(code, text, { cause });
    try {
      sink(err);
    } catch {
      // A throwing callback must not turn send() into a throwing function.
    }
  }
}

/** `EADDRNOTAVAIL`-style code of a Node system error, or its message. */
export function errnoOf(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}
