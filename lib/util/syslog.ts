/**
 * The one syslog writer of heartbeat-ts (daemon, ipfail, ldirectord,
 * ha_log): datagrams to /dev/log in the layout glibc's syslog(3) gives
 * Heartbeat 3.0.6 (openlog without LOG_PID, cluster-glue's cl_log):
 *
 *     <PRI>Mmm dd hh:mm:ss IDENT: BODY
 *
 * with the day space-padded (`Dec  3`), local time, no host name, and
 * PRI = facility * 8 + severity. The caller gives IDENT and BODY
 * (heartbeat's lines are `heartbeat` and `[pid]: info: text`).
 *
 * Never blocks and never throws: the socket is non-blocking; datagrams the
 * syslog daemon cannot take now (EAGAIN: its queue holds only
 * net.unix.max_dgram_qlen datagrams) wait in order in a bounded backlog
 * that is retried shortly (3.0.6's syslog(3) would block the daemon
 * instead); when /dev/log is missing or its daemon restarted the next line
 * simply tries again. No syslog daemon at all (ENOENT, ECONNREFUSED) is a normal state
 * (containers) and stays silent, as syslog(3) is; any other failure is
 * reported once per kind on stderr.
 */
import { errnoName, loadAddon } from './addon.js';

export const SYSLOG_SOCKET = '/dev/log';

/** No syslog daemon (ENOENT, ECONNREFUSED): dropped without a word. */
const QUIET_ERRORS = new Set(['ENOENT', 'ECONNREFUSED']);
/** Syslog is there but its queue is full: kept and tried again. */
const BUSY = new Set(['EAGAIN', 'EWOULDBLOCK', 'ENOBUFS']);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** glibc's `%h %e %T`: `Dec  3 07:00:00`. */
export function syslogTimestamp(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** One datagram as syslog(3) would send it; control characters are the caller's business. */
export function formatSyslog(priority: number, ident: string, body: string, date: Date): Buffer {
  return Buffer.from(`<${priority}>${syslogTimestamp(date)} ${ident}: ${body}`, 'utf8');
}

export interface SyslogWriter {
  /** Sends one message with its priority (facility * 8 + severity). */
  send(priority: number, ident: string, body: string): void;
  /** Datagrams that could not be delivered so far. */
  readonly dropped: number;
  close(): void;
}

interface NetAddon {
  unixDgramOpen(): number;
  unixDgramSend(fd: number, path: string, data: Buffer): number;
  closeFd(fd: number): number;
}

export interface SyslogOptions {
  /** Default /dev/log. */
  path?: string;
  now?: () => Date;
  /** Where the first failure of each kind is reported (default stderr). */
  warn?: (line: string) => void;
}

/** Lines kept while syslog is busy; beyond that the oldest are dropped (and counted). */
export const SYSLOG_BACKLOG = 1000;
/** How soon a busy syslog socket is tried again. */
export const SYSLOG_RETRY_MS = 20;

export function createSyslogWriter(opts: SyslogOptions = {}): SyslogWriter {
  const path = opts.path ?? SYSLOG_SOCKET;
  const now = opts.now ?? (() => new Date());
  const warn = opts.warn ?? ((line: string) => {
    try {
      process.stderr.write(`${line}\n`);
    } catch { /* detached */ }
  });
  const warned = new Set<string>();
  const warnOnce = (key: string, line: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    warn(line);
  };
  let addon: NetAddon | undefined;
  let fd = -1;
  let dropped = 0;
  /** Datagrams waiting for a busy syslog (EAGAIN), oldest first: order is kept. */
  const backlog: Buffer[] = [];
  let retry: NodeJS.Timeout | undefined;
  const socket = (): number => {
    if (fd >= 0) return fd;
    try {
      addon ??= loadAddon<NetAddon>('hb_net', 'NET', 'socket options');
    } catch (err) {
      warnOnce('addon', `syslog: ${(err as Error).message}`);
      return -1;
    }
    const r = addon.unixDgramOpen();
    if (r < 0) warnOnce(`open:${-r}`, `syslog: cannot open a socket: ${errnoName(-r)}`);
    else fd = r;
    return fd;
  };
  /** Sends the backlog in order; stops at the first busy answer and tries again shortly. */
  const flush = (): void => {
    retry = undefined;
    const s = socket();
    while (backlog.length > 0) {
      const rc = s < 0 || addon === undefined ? -1 : addon.unixDgramSend(s, path, backlog[0] as Buffer);
      if (rc !== 0 && rc !== -1 && BUSY.has(errnoName(rc))) {
        // A timer that does not keep the process alive: lines still queued at exit are lost, as a blocked syslog(3)'s would be.
        retry = setTimeout(flush, SYSLOG_RETRY_MS);
        retry.unref();
        return;
      }
      backlog.shift();
      if (rc === 0) continue;
      dropped++;
      if (rc > 0 && !QUIET_ERRORS.has(errnoName(rc))) warnOnce(`send:${rc}`, `syslog: cannot send to ${path}: ${errnoName(rc)}`);
    }
  };
  return {
    send(priority, ident, body) {
      backlog.push(formatSyslog(priority, ident, body, now()));
      if (backlog.length > SYSLOG_BACKLOG) {
        backlog.shift();
        dropped++;
      }
      if (retry === undefined) flush();
    },
    get dropped() {
      return dropped;
    },
    close() {
      if (retry !== undefined) clearTimeout(retry);
      flush();
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      dropped += backlog.length;
      backlog.length = 0;
      if (fd >= 0 && addon !== undefined) addon.closeFd(fd);
      fd = -1;
    },
  };
}
