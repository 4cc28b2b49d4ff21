/**
 * Bounds on what local clients can make the daemon do, shared by every
 * socket server of the daemon (the JSON tool socket and Heartbeat's C API):
 *
 * - ConnectionGate: concurrent connections, in total and per uid, with a
 *   share that only root can take and a cap on clients that are neither
 *   root, hacluster nor members of haclient, so no crowd of idle
 *   connections can lock root's `cl_status` out.
 * - RateLimiter: a token bucket per key (bad requests per uid).
 * - LogThrottle: at most a few lines per reason and interval, then one
 *   "N more … suppressed" line when the interval ends, so a client cannot
 *   grow ha-log at its own speed.
 * - clientText: what a client sent, escaped and cut short before a log line.
 *
 * Every decision is made on the connect-time credentials (./peercred.ts).
 */
import { systemClock, type Clock, type TimerHandle } from '../../lib/util/clock.js';
import type { Logger } from '../../lib/util/log.js';
import type { IdTables } from './auth.js';
import type { PeerCred } from './peercred.js';

export interface ApiLimits {
  /** Connections at once, all clients together. */
  maxConnections: number;
  /** Of those, this many can only be taken by root. */
  rootReserve: number;
  /** Connections at once per uid (root excepted: it is bounded by maxConnections). */
  maxPerUid: number;
  /** Connections at once of clients that are not root, hacluster or in haclient. */
  maxUnprivileged: number;
  /** A connection that has not signed on by then is closed. */
  signonTimeoutMs: number;
  /** Longest request line, in bytes. */
  maxRequestBytes: number;
  /** Requests read but not yet answered, per connection: past this the server stops reading. */
  maxQueuedRequests: number;
  /** Bad requests allowed per uid in a burst, and refilled per second. */
  badRequestBurst: number;
  badRequestsPerSecond: number;
  /** Log lines per reason within logIntervalMs; the rest are counted and summed up once. */
  logLinesPerInterval: number;
  logIntervalMs: number;
}

export const DEFAULT_API_LIMITS: Readonly<ApiLimits> = Object.freeze({
  maxConnections: 256,
  rootReserve: 32,
  maxPerUid: 32,
  maxUnprivileged: 64,
  signonTimeoutMs: 10_000,
  maxRequestBytes: 64 * 1024,
  maxQueuedRequests: 32,
  badRequestBurst: 20,
  badRequestsPerSecond: 2,
  logLinesPerInterval: 10,
  logIntervalMs: 60_000,
});

/** True for root, the hacluster user and members of haclient (by gid or supplementary group). */
export function privilegedPeer(ids: IdTables): (c: PeerCred) => boolean {
  const hacluster = ids.users.get('hacluster');
  const haclient = ids.groups.get('haclient');
  return (c) => c.uid === 0 || (hacluster !== undefined && c.uid === hacluster)
    || (haclient !== undefined && (c.gid === haclient || c.groups.includes(haclient)));
}

export type Admission = { ok: true; release: () => void } | { ok: false; reason: string };

/** Counts open connections per uid and decides whether one more may be served. */
export class ConnectionGate {
  private total = 0;
  private unprivileged = 0;
  private readonly perUid = new Map<number, number>();

  constructor(private readonly limits: Readonly<ApiLimits>, private readonly privileged: (c: PeerCred) => boolean) {}

  get open(): number {
    return this.total;
  }

  admit(c: PeerCred): Admission {
    const l = this.limits;
    const mine = this.perUid.get(c.uid) ?? 0;
    const priv = this.privileged(c);
    if (this.total >= l.maxConnections) return { ok: false, reason: `too many connections (${l.maxConnections})` };
    if (c.uid !== 0) {
      if (this.total >= l.maxConnections - l.rootReserve) return { ok: false, reason: `too many connections (the last ${l.rootReserve} are kept for root)` };
      if (mine >= l.maxPerUid) return { ok: false, reason: `too many connections from uid ${c.uid} (${l.maxPerUid})` };
      if (!priv && this.unprivileged >= l.maxUnprivileged) return { ok: false, reason: `too many connections from users outside haclient (${l.maxUnprivileged})` };
    }
    this.total++;
    if (!priv) this.unprivileged++;
    this.perUid.set(c.uid, mine + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        if (!priv) this.unprivileged--;
        const left = (this.perUid.get(c.uid) ?? 1) - 1;
        if (left > 0) this.perUid.set(c.uid, left);
        else this.perUid.delete(c.uid);
      },
    };
  }
}

/** Token buckets by key; a bucket that is full again is forgotten, so the map stays as small as the abusers. */
export class RateLimiter<K> {
  private readonly buckets = new Map<K, { tokens: number; at: number }>();

  constructor(private readonly burst: number, private readonly perSecond: number, private readonly now: () => number = () => systemClock.nowMs()) {}

  /** Takes one token; false when the key has none left. */
  take(key: K): boolean {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    this.prune(t);
    return true;
  }

  private prune(t: number): void {
    if (this.buckets.size < 64) return;
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(k);
    }
  }
}

type Level = 'error' | 'warn' | 'info' | 'debug';

interface LogWindow {
  start: number;
  count: number;
  suppressed: number;
  /** Writes the "suppressed" line at the end of the window, if nothing else does first. */
  timer: TimerHandle | null;
}

/**
 * Logs at most `logLinesPerInterval` lines per reason in each interval; how
 * many were left out is logged when the interval ends. Reasons are fixed
 * strings chosen by the code, never client data, so the map is bounded by
 * the number of call sites.
 */
export class LogThrottle {
  private readonly windows = new Map<string, LogWindow>();

  constructor(
    private readonly log: Logger,
    private readonly limits: Pick<ApiLimits, 'logLinesPerInterval' | 'logIntervalMs'>,
    private readonly clock: Clock = systemClock,
  ) {}

  line(reason: string, level: Level, text: string): void {
    const t = this.clock.nowMs();
    let w = this.windows.get(reason);
    if (!w || t - w.start >= this.limits.logIntervalMs) {
      if (w) this.close(reason, w, t);
      w = { start: t, count: 0, suppressed: 0, timer: null };
      this.windows.set(reason, w);
    }
    if (w.count >= this.limits.logLinesPerInterval) {
      w.suppressed++;
      if (w.timer === null) {
        const window = w;
        window.timer = this.clock.setTimer(() => this.close(reason, window, this.clock.nowMs()), Math.max(0, window.start + this.limits.logIntervalMs - t));
      }
      return;
    }
    w.count++;
    this.log[level](text);
  }

  /** Ends every window now (at shutdown), with its "suppressed" line, so no timer outlives the server. */
  closeAll(): void {
    for (const [reason, w] of [...this.windows]) this.close(reason, w, this.clock.nowMs());
  }

  private close(reason: string, w: LogWindow, t: number): void {
    w.timer?.cancel();
    w.timer = null;
    if (this.windows.get(reason) === w) this.windows.delete(reason);
    if (w.suppressed > 0) this.log.warn(`${w.suppressed} more API messages like "${reason}" suppressed in the last ${Math.round((t - w.start) / 1000)} s`);
    w.suppressed = 0;
  }
}

const MAX_LOGGED_CHARS = 64;

/**
 * A client-supplied string for a log line: control characters, backslashes
 * and non-ASCII written as escapes, cut at MAX_LOGGED_CHARS (with the
 * original length), so it can neither forge a line nor make one long.
 */
export function clientText(s: string, max = MAX_LOGGED_CHARS): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  let out = '';
  for (const ch of cut) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  }
  return s.length > max ? `${out}...(${s.length} chars)` : out;
}
