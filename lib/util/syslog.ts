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
 * Never blocks and never throws: the socket is non-blocking, a datagram the
 * syslog daemon cannot take now (EAGAIN) is dropped and counted, and when
 * /dev/log is missing or its daemon restarted the next line simply tries
 * again. No syslog daemon at all (ENOENT, ECONNREFUSED) is a normal state
 * (containers) and stays silent, as syslog(3) is; any other failure is
 * reported once per kind on stderr.
 */
import { errnoName, loadAddon } from './addon.js';

export const SYSLOG_SOCKET = '/dev/log';

/** Busy (EAGAIN) or no syslog daemon (ENOENT, ECONNREFUSED): dropped without a word. */
const QUIET_ERRORS = new Set(['EAGAIN', 'EWOULDBLOCK', 'ENOENT', 'ECONNREFUSED']);

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
  return {
    send(priority, ident, body) {
      const s = socket();
      if (s < 0 || addon === undefined) {
        dropped++;
        return;
      }
      const rc = addon.unixDgramSend(s, path, formatSyslog(priority, ident, body, now()));
      if (rc === 0) return;
      dropped++;
      if (!QUIET_ERRORS.has(errnoName(rc))) warnOnce(`send:${rc}`, `syslog: cannot send to ${path}: ${errnoName(rc)}`);
    },
    get dropped() {
      return dropped;
    },
    close() {
      if (fd >= 0 && addon !== undefined) addon.closeFd(fd);
      fd = -1;
    },
  };
}
