/**
 * Bounds on answering a peer's NS_rexmit (spec 3.4).
 *
 * heartbeat walks every seq from firstseq to lastseq, logging or NAKing each
 * one outside its 500-message history: one request for 100000..1600000 is
 * 1.5 million log lines and seconds of a frozen main loop (long enough for
 * the peer to declare us dead). Here the range is cut to the history window
 * first, so a request costs at most the window whatever numbers it carries,
 * and each peer has a budget of work and of log lines per interval, so a
 * flood of requests cannot add up to the same thing. A legitimate request
 * (one seq, as every heartbeat sends) is answered exactly as before, with
 * the same log lines.
 */
import type { Logger } from '../util/log.js';

/** heartbeat's own cap on messages re-sent per request. */
export const MAX_RESEND_PER_REQUEST = 50;
/** NAKs per request for seqs older than the history (a real requester asks for one seq at a time). */
export const MAX_NAKS_PER_REQUEST = 8;
/** Re-sends + NAKs per peer per second: twice the whole history, far above what loss recovery needs. */
export const WORK_PER_PEER_PER_S = 1000;
/** Complaints (NAK and "is max" lines) logged per peer per window, then one summary. */
export const LINES_PER_PEER = 20;
export const LINE_WINDOW_MS = 10_000;

export interface HistoryWindow {
  /** Lowest seq still in the history (1 when nothing was dropped yet). */
  lowest: number;
  /** Newest seq sent (0 = none). */
  highest: number;
  /** Highest seq of ours the requester acknowledged: nothing at or below it is answered. */
  acked: number;
}

export interface RexmitPlan {
  /** Seqs older than the history that get a NAK (at most MAX_NAKS_PER_REQUEST). */
  nak: readonly number[];
  /** Further seqs older than the history, not answered. */
  nakSkipped: number;
  /** Seqs inside the history to re-send if the history still has them. */
  resend: { from: number; to: number } | null;
  /** Seqs newer than anything sent: the first of them and how many. */
  beyond: { first: number; count: number } | null;
}

/** Cuts [first, last] to what can be answered; O(1) in the size of the range. */
export function planRexmit(first: number, last: number, w: HistoryWindow): RexmitPlan {
  const lo = Math.max(first, w.acked + 1);
  const nak: number[] = [];
  let nakSkipped = 0;
  const belowTo = Math.min(last, w.lowest - 1);
  if (lo <= belowTo) {
    const n = belowTo - lo + 1;
    for (let s = lo; s < lo + Math.min(n, MAX_NAKS_PER_REQUEST); s++) nak.push(s);
    nakSkipped = n - nak.length;
  }
  const inFrom = Math.max(lo, w.lowest);
  const inTo = Math.min(last, w.highest);
  const resend = inFrom <= inTo ? { from: inFrom, to: inTo } : null;
  const beyondFrom = Math.max(lo, w.highest + 1);
  const beyond = beyondFrom <= last ? { first: beyondFrom, count: last - beyondFrom + 1 } : null;
  return { nak, nakSkipped, resend, beyond };
}

interface PeerBudget {
  work: number;
  workAtMs: number;
  lines: number;
  linesAtMs: number;
  suppressedLines: number;
}

/** What answering needs from the sender side (Reliability). */
export interface RexmitPort {
  window(): HistoryWindow;
  /** Re-sends seq if the history holds it and it was not re-sent too recently; false = not found. */
  resend(seq: number, nowMs: number): 'sent' | 'recent' | 'not-found';
  /** Sends the NS_nak_rexmit (no logging). */
  nak(seq: number, reason: string): void;
}

/**
 * Per-peer budgets. Keyed by configured node name only (the receive path
 * drops unknown senders before this), so it holds at most one entry per node.
 */
export class RexmitGuard {
  private readonly peers = new Map<string, PeerBudget>();

  constructor(private readonly log: Logger) {}

  /** Answers one NS_rexmit from `peer` for [first, last] (already validated: 0 < first <= last). */
  answer(peer: string, first: number, last: number, port: RexmitPort, nowMs: number): void {
    const b = this.budget(peer, nowMs);
    const w = port.window();
    const plan = planRexmit(first, last, w);
    for (const s of plan.nak) {
      if (!this.spend(b)) return;
      this.complain(peer, b, nowMs, `Cannot rexmit pkt ${s} for ${peer}: seqno too low`);
      port.nak(s, 'seqno too low');
    }
    if (plan.nakSkipped > 0) {
      this.complain(peer, b, nowMs, `Rexmit request from ${peer}: ${plan.nakSkipped} more seqno(s) below ${w.lowest} ignored`);
    }
    if (plan.resend) {
      let sent = 0;
      for (let s = plan.resend.from; s <= plan.resend.to && sent < MAX_RESEND_PER_REQUEST; s++) {
        if (!this.spend(b)) return;
        const r = port.resend(s, nowMs);
        if (r === 'sent') sent++;
        else if (r === 'not-found') {
          this.complain(peer, b, nowMs, `Cannot rexmit pkt ${s} for ${peer}: seqno not found`);
          port.nak(s, 'seqno not found');
        }
      }
    }
    if (plan.beyond) {
      const more = plan.beyond.count > 1 ? ` (and ${plan.beyond.count - 1} newer seqno(s) ignored)` : '';
      this.complain(peer, b, nowMs, `Rexmit of seq ${plan.beyond.first} requested. ${w.highest} is max.${more}`, 'warn');
    }
  }

  /** A request with unusable seqnos: heartbeat's error line, within the peer's line budget. */
  invalid(peer: string, nowMs: number): void {
    this.complain(peer, this.budget(peer, nowMs), nowMs, `Invalid rexmit seqnos from ${peer}`);
  }

  private budget(peer: string, nowMs: number): PeerBudget {
    let b = this.peers.get(peer);
    if (b === undefined) {
      b = { work: WORK_PER_PEER_PER_S, workAtMs: nowMs, lines: LINES_PER_PEER, linesAtMs: nowMs, suppressedLines: 0 };
      this.peers.set(peer, b);
    }
    // token bucket for work, refilled continuously
    b.work = Math.min(WORK_PER_PEER_PER_S, b.work + ((nowMs - b.workAtMs) * WORK_PER_PEER_PER_S) / 1000);
    b.workAtMs = nowMs;
    return b;
  }

  private spend(b: PeerBudget): boolean {
    if (b.work < 1) return false;
    b.work -= 1;
    return true;
  }

  /** Logs a complaint within the peer's line budget; the first line of a new window says how many were held back. */
  private complain(peer: string, b: PeerBudget, nowMs: number, line: string, level: 'error' | 'warn' = 'error'): void {
    if (nowMs - b.linesAtMs >= LINE_WINDOW_MS) {
      if (b.suppressedLines > 0) {
        this.log.warn(`${b.suppressedLines} rexmit complaint(s) about ${peer} suppressed in the last ${Math.round((nowMs - b.linesAtMs) / 1000)} s`);
      }
      b.lines = LINES_PER_PEER;
      b.linesAtMs = nowMs;
      b.suppressedLines = 0;
    }
    if (b.lines <= 0) {
      b.suppressedLines++;
      return;
    }
    b.lines--;
    this.log[level](line);
  }
}
