/**
 * The lab client pinging an address every couple of milliseconds, each echo
 * reply stamped as its line arrives: "when did the VIP answer again",
 * independent of any service behind it. The pinger is a few lines of Python
 * on a raw socket: the system's ping (inetutils) holds its output back in
 * bursts when writing to a pipe, and has no per-reply timestamps.
 */
import type { Lab, NodeProcess } from './lab.js';
import { nowMs, sleep } from './proc.js';

const REPLY_RE = /^reply \d+$/;

/** argv: target, interval (s). Prints "ready", then "reply SEQ" per echo reply, flushed. */
const PINGER = String.raw`
import os, select, socket, struct, sys, time
target, interval = sys.argv[1], float(sys.argv[2])
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, seq, due = os.getpid() & 0xffff, 0, time.monotonic()
print('ready', flush=True)
while True:
    now = time.monotonic()
    if now >= due:
        seq = (seq + 1) & 0xffff
        body = struct.pack('!BBHHH', 8, 0, 0, ident, seq) + b'hbts-bench-ping'
        body = body[:2] + struct.pack('!H', csum(body + b'\0')) + body[4:]
        try:
            sock.sendto(body, (target, 0))
        except OSError:
            pass
        due = max(due + interval, now)
    r, _, _ = select.select([sock], [], [], max(0.0, due - time.monotonic()))
    if r:
        pkt = sock.recv(2048)
        ihl = (pkt[0] & 15) * 4
        if len(pkt) >= ihl + 8 and pkt[ihl] == 0 and struct.unpack('!H', pkt[ihl + 4:ihl + 6])[0] == ident:
            print('reply', struct.unpack('!H', pkt[ihl + 6:ihl + 8])[0], flush=True)
`;

export class PingProbe {
  /** arrival times of echo replies, in order */
  readonly replies: number[] = [];
  private constructor(private proc: NodeProcess | undefined, readonly target: string, readonly intervalMs: number) {}

  /** Starts pinging `target` from the lab's client namespace every intervalMs (≥ 1 ms; needs root). */
  static async start(lab: Lab, target: string, intervalMs = 2): Promise<PingProbe> {
    if (!(intervalMs >= 1 && intervalMs <= 1000)) throw new Error(`PingProbe: interval must be 1..1000 ms, got ${intervalMs}`);
    const probe = new PingProbe(undefined, target, intervalMs);
    let ready = false;
    const argv = ['python3', '-c', PINGER, target, (intervalMs / 1000).toFixed(4)];
    const lines: string[] = [];
    probe.proc = await lab.spawn('c', argv, {
      onLine: (line) => {
        if (REPLY_RE.test(line)) probe.replies.push(nowMs());
        else if (line === 'ready') ready = true;
        else if (lines.length < 20) lines.push(line);
      },
    });
    const end = Date.now() + 10_000;
    while (!ready) {
      if (!probe.proc.running() || Date.now() > end) {
        probe.stop();
        throw new Error(`the pinger did not start: ${lines.join('\n')}`);
      }
      await sleep(5);
    }
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
