/**
 * The client pinging the VIP every 2 ms, each reply stamped as it arrives
 * (line-buffered through stdbuf: Debian's inetutils ping has no -D) on the
 * clock LogWatch stamps log lines with: when the address first answers
 * after a moment — "is dead" → VIP answers ping, the figure keepalived is
 * measured by. The survivor's gratuitous ARP is what turns the client to it.
 */
import type { Lab } from '../devtools/lab/lab.js';
import type { NodeProcess } from '../devtools/lab/spawn.js';
import { nowMs, sleep } from '../devtools/lab/proc.js';

const REPLY = /^\d+ bytes from /;

export class VipPing {
  private readonly replies: number[] = [];
  private proc: NodeProcess | undefined;

  /** Starts pinging; resolves once the VIP has answered (so the client knows its current MAC). */
  static async start(lab: Lab, vip: string, timeoutMs = 10_000): Promise<VipPing> {
    const p = new VipPing();
    p.proc = await lab.spawn('c', ['stdbuf', '-oL', 'ping', '-n', '-i', '0.002', vip], {
      onLine: (line) => {
        if (REPLY.test(line)) p.replies.push(nowMs());
      },
    });
    for (const end = Date.now() + timeoutMs; p.replies.length === 0; await sleep(20)) {
      if (Date.now() > end) throw new Error(`ping ${vip} from the client: no answer within ${timeoutMs} ms`);
    }
    return p;
  }

  /** Time (ms, host clock) of the first reply at or after `t`. */
  firstReplyAfter(t: number): number | undefined {
    return this.replies.find((r) => r >= t);
  }

  /** Stops ping and waits for it (its last lines are in by then). */
  async stop(): Promise<void> {
    if (this.proc?.kill('SIGINT') === true) await this.proc.exited;
  }
}
