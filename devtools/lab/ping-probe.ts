/**
 * The lab client pinging an address every couple of milliseconds (the
 * system's ping, line-buffered through stdbuf), each echo reply stamped as
 * its line arrives: "when did the VIP answer again" independent of any
 * service behind it.
 */
import type { Lab, NodeProcess } from './lab.js';
import { nowMs, sleep } from './proc.js';

const REPLY_RE = /^\d+ bytes from /;

export class PingProbe {
  /** arrival times of echo replies, in order */
  readonly replies: number[] = [];
  private constructor(private proc: NodeProcess | undefined, readonly target: string, readonly intervalMs: number) {}

  /** Starts pinging `target` from the lab's client namespace every intervalMs (≥ 1 ms; needs root). */
  static async start(lab: Lab, target: string, intervalMs = 2): Promise<PingProbe> {
    if (!(intervalMs >= 1 && intervalMs <= 1000)) throw new Error(`PingProbe: interval must be 1..1000 ms, got ${intervalMs}`);
    const probe = new PingProbe(undefined, target, intervalMs);
    const argv = ['stdbuf', '-oL', 'ping', '-n', '-i', (intervalMs / 1000).toFixed(3), target];
    probe.proc = await lab.spawn('c', argv, {
      onLine: (line) => {
        if (REPLY_RE.test(line)) probe.replies.push(nowMs());
      },
    });
    return probe;
  }

  /** First echo reply at or after time `after`. */
  firstReplyAfter(after: number): number | undefined {
    return this.replies.find((t) => t >= after);
  }

  /** Waits for an echo reply at or after `after`. */
  async waitReply(after: number, timeoutMs: number): Promise<number> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const t = this.firstReplyAfter(after);
      if (t !== undefined) return t;
      if (this.proc?.running() !== true) throw new Error(`ping ${this.target} ended: ${this.proc?.output() ?? ''}`);
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.target} to answer ping`);
      await sleep(2);
    }
  }

  /** The longest stretch without a reply between `from` and `to` (a takeover's outage seen by the client). */
  longestGap(from: number, to: number): number {
    let last = from;
    let gap = 0;
    for (const t of this.replies) {
      if (t < from || t > to) continue;
      gap = Math.max(gap, t - last);
      last = t;
    }
    return Math.max(gap, to - last);
  }

  stop(): void {
    this.proc?.kill('SIGKILL');
  }
}
