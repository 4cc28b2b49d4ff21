/**
 * Logging in the layouts of Heartbeat's ha-log (spec 11.5/11.6).
 *
 * Loggers are plain closures over one record sink (no logging library: it
 * cost ~9 MiB of resident memory and a JSON round trip per line); the sink
 * turns each record into the exact text lines that users' log greps expect,
 * written synchronously so nothing is lost on kill -9.
 */
import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { createSyslogWriter } from './syslog.js';

export type LogLevel = 'emerg' | 'alert' | 'crit' | 'error' | 'warn' | 'notice' | 'info' | 'debug';

/** The words heartbeat prints for each priority. */
const LEVEL_WORDS: Record<LogLevel, string> = {
  emerg: 'EMERG', alert: 'ALERT', crit: 'CRIT', error: 'ERROR', warn: 'WARN', notice: 'notice', info: 'info', debug: 'debug',
};
/** syslog(3) severities for the same priorities. */
const SYSLOG_SEVERITY: Record<LogLevel, number> = {
  emerg: 0, alert: 1, crit: 2, error: 3, warn: 4, notice: 5, info: 6, debug: 7,
};

export const SYSLOG_FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21,
  local6: 22, local7: 23,
};

export interface LogSinkConfig {
  /** Receives everything but debug. */
  logfile?: string | undefined;
  /** Receives everything. */
  debugfile?: string | undefined;
  /** A syslog facility name, or undefined for none. */
  logfacility?: string | undefined;
  /**
   * How lines look in syslog: 'cl_log' (default; heartbeat, ipfail: `heartbeat: [pid]: info: text`)
   * or 'ident_pid' (ldirectord's openlog with the pid option: `ldirectord[pid]: text`).
   */
  syslogLayout?: 'cl_log' | 'ident_pid';
  /** true: `Nov 22 22:28:02 host heartbeat: [pid]: info: …`; false: `heartbeat[pid]: 2026/11/22_22:28:02 info: …`. */
  syslogmsgfmt: boolean;
  /** Also write lines to stderr (foreground runs with no other sink). */
  stderr: boolean;
  /** Debug level 0..255; records at `debug` are kept only when > 0. */
  debugLevel: number;
}

export interface Logger {
  log(level: LogLevel, msg: string): void;
  emerg(msg: string): void;
  crit(msg: string): void;
  error(msg: string): void;
  warn(msg: string): void;
  notice(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** A logger with another entity name (`ipfail`, `cl_status`) and/or pid, same sinks. */
  child(entity: string, pid?: number): Logger;
  /**
   * A logger writing in the resource-script layout
   * (`2026/11/22_22:30:05  ResourceManager(default)[pid]:    info: …`).
   */
  script(tag: string, pid?: number): Logger;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

export function syslogDate(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}
export function haDate(d: Date): string {
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}_${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** C0 and C1 controls, DEL and the Unicode line/paragraph separators; TAB cannot start a line and stays. */
const UNSAFE_CLASS = '[\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f\\u2028\\u2029]';
const HAS_UNSAFE = new RegExp(UNSAFE_CLASS);
const ALL_UNSAFE = new RegExp(UNSAFE_CLASS, 'g');

/**
 * Makes text safe for one log line: names and values from the wire or from
 * local clients end up in messages, and a newline in them would forge a
 * line of its own (`CRIT: …`). Controls become visible escapes (`\n`,
 * `\r`, `\xHH`, `\u2028`); text without them is returned unchanged, so
 * every ordinary line stays byte-identical to heartbeat's.
 */
export function escapeLogText(text: string): string {
  if (!HAS_UNSAFE.test(text)) return text;
  return text.replace(ALL_UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** One formatted line in the layout heartbeat's cl_log writes to files (message and entity escaped). */
export function formatLogLine(
  opts: { syslogmsgfmt: boolean; host: string; entity: string; pid: number; level: LogLevel; msg: string; date: Date },
): string {
  const word = LEVEL_WORDS[opts.level];
  const entity = escapeLogText(opts.entity);
  const msg = escapeLogText(opts.msg);
  return opts.syslogmsgfmt
    ? `${syslogDate(opts.date)} ${opts.host} ${entity}: [${opts.pid}]: ${word}: ${msg}\n`
    : `${entity}[${opts.pid}]: ${haDate(opts.date)} ${word}: ${msg}\n`;
}

/**
 * The severity the shell helpers' ha_log gives `logger -p`: it guesses from
 * the text (ERROR, WARN, INFO or exactly `info`), else notice; so their
 * `info: Running …` lines reach syslog as notice, in 3.0.6 and here.
 */
export function shellSeverity(text: string): number {
  if (text.includes('ERROR')) return SYSLOG_SEVERITY.error;
  if (text.includes('WARN')) return SYSLOG_SEVERITY.warn;
  if (text.includes('INFO') || text === 'info') return SYSLOG_SEVERITY.info;
  return SYSLOG_SEVERITY.notice;
}

/** How often a file sink checks whether its path was rotated away. */
export const ROTATION_CHECK_MS = 1000;

/**
 * File sinks opened append-only. Log rotation needs no signal: at most once
 * a second, before a write, the sink compares the inode of its open file
 * with the one now at its path; when logrotate moved the file away (or it
 * was deleted) the path is reopened, creating the new file. `reopen()` does
 * the same on demand: the daemon calls it on SIGHUP. copytruncate rotation
 * keeps the inode and needs nothing (writes append). A sink that cannot be
 * written is reported once on stderr and then skipped, so a full or
 * read-only disk never stops the daemon.
 */
class FileSink {
  private fd: number | null = null;
  private failed = false;
  private ino = -1;
  private dev = -1;
  private lastCheck = 0;
  constructor(readonly path: string) {
    this.open();
  }
  private open(): void {
    try {
      this.fd = openSync(this.path, 'a', 0o644);
      const st = fstatSync(this.fd);
      this.ino = st.ino;
      this.dev = st.dev;
      this.failed = false;
    } catch (err) {
      if (this.fd !== null) this.close();
      this.fd = null;
      this.reportOnce(err);
    }
    this.lastCheck = performance.now();
  }
  /** Reopens when the path no longer names the file we hold (or a failed open may now work). */
  private checkRotation(): void {
    const now = performance.now();
    if (now - this.lastCheck < ROTATION_CHECK_MS) return;
    this.lastCheck = now;
    let moved: boolean;
    try {
      const st = statSync(this.path);
      moved = st.ino !== this.ino || st.dev !== this.dev;
    } catch {
      moved = true;
    }
    if (moved || this.fd === null) this.reopen();
  }
  write(line: string): void {
    this.checkRotation();
    if (this.fd === null) return;
    try {
      writeSync(this.fd, line);
      this.failed = false;
    } catch (err) {
      this.reportOnce(err);
    }
  }
  reopen(): void {
    this.close();
    this.open();
  }
  close(): void {
    if (this.fd !== null) {
      try { closeSync(this.fd); } catch { /* already gone */ }
      this.fd = null;
    }
  }
  private reportOnce(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    try {
      process.stderr.write(`heartbeat: cannot write log file ${this.path}: ${(err as Error).message}\n`);
    } catch { /* stderr closed when detached */ }
  }
}

/** The syslog side of the logger: lib/util/syslog.ts's writer, or a test double. */
export interface LogSyslogWriter {
  /** Sends one message with its syslog priority (facility*8+severity), as `IDENT: BODY`. */
  send(priority: number, ident: string, body: string): void;
  close(): void;
}

export interface LogRoot {
  logger: Logger;
  /** Reopen file sinks (after logrotate moved them). */
  reopen(): void;
  /** Apply a new sink configuration (reload). */
  reconfigure(cfg: LogSinkConfig): void;
  close(): void;
}

/**
 * The syslog side of a root logger: sends when the current configuration
 * names a facility, through `deps.syslog` or a /dev/log writer created on
 * the first line. Debug lines too, when the debug level lets them be
 * written at all: cl_log hands syslog every line it logs (3.0.6's ipfail
 * sends its `debug:` lines).
 */
function syslogRoute(deps: { syslog?: LogSyslogWriter; now?: () => Date }, config: () => LogSinkConfig): {
  send(level: LogLevel, ident: string, body: string, severity?: number): void;
  close(): void;
} {
  let writer = deps.syslog;
  return {
    send(level, ident, body, severity = SYSLOG_SEVERITY[level]) {
      const name = config().logfacility;
      const facility = name === undefined ? undefined : SYSLOG_FACILITIES[name];
      if (facility === undefined) return;
      writer ??= createSyslogWriter({ ...(deps.now !== undefined ? { now: deps.now } : {}) });
      writer.send(facility * 8 + severity, ident, body);
    },
    close: () => writer?.close(),
  };
}

/** One line to log: who logs it, at which level; `script`: in the shell helpers' layout. */
interface LogRecord { level: LogLevel; msg: string; entity: string; pid: number; script: boolean }

/** A Logger writing records to `sink`; debug lines only while `debugOn()`. */
function makeLogger(sink: (rec: LogRecord) => void, debugOn: () => boolean, entity: string, pid: number, script: boolean): Logger {
  const at = (level: LogLevel) => (msg: string): void => {
    if (level !== 'debug' || debugOn()) sink({ level, msg, entity, pid, script });
  };
  return {
    log: (level, msg) => at(level)(msg),
    emerg: at('emerg'),
    crit: at('crit'),
    error: at('error'),
    warn: at('warn'),
    notice: at('notice'),
    info: at('info'),
    debug: at('debug'),
    child: (name, childPid) => makeLogger(sink, debugOn, name, childPid ?? process.pid, false),
    script: (tag, childPid) => makeLogger(sink, debugOn, tag, childPid ?? process.pid, true),
  };
}

/**
 * A resource-script line in the layout of the shell helpers' ha_log, so that
 * `ResourceManager(default)[pid]:` lines look as users know them.
 */
function writeScriptLine(
  out: { logfile: FileSink | null; debugfile: FileSink | null; stderr: boolean; syslog: ReturnType<typeof syslogRoute> },
  tag: string, level: LogLevel, msg: string, date: Date,
): void {
  const text = `${LEVEL_WORDS[level]}: ${msg}`;
  if (level !== 'debug') out.logfile?.write(`${haDate(date)}  ${tag}:    ${text}\n`);
  out.debugfile?.write(`${tag}:\t${haDate(date)} ${text}\n`);
  if (out.stderr) {
    try { process.stderr.write(`${tag}: ${text}\n`); } catch { /* detached */ }
  }
  out.syslog.send(level, tag, text, shellSeverity(text));
}

/**
 * Builds a process's root logger. With a `logfacility`, every line but
 * debug also goes to syslog as 3.0.6's cl_log sends it: ident = the entity
 * (`heartbeat`, `ipfail`), body `[pid]: info: text`; resource-script lines
 * (script()) as the shell helpers' logger(1) call: ident `Tag[pid]`, body
 * `info: text`. `deps.syslog` replaces the /dev/log writer (tests); without
 * it the writer is created on the first syslog line.
 */
export function createLogRoot(
  entity: string,
  cfg: LogSinkConfig,
  deps: { syslog?: LogSyslogWriter; host?: string; now?: () => Date } = {},
): LogRoot {
  const host = deps.host ?? hostname();
  const now = deps.now ?? (() => new Date());
  let current = cfg;
  const syslog = syslogRoute(deps, () => current);
  let logfile: FileSink | null = null;
  let debugfile: FileSink | null = null;
  const openSinks = (c: LogSinkConfig): void => {
    logfile?.close();
    debugfile?.close();
    logfile = c.logfile ? new FileSink(c.logfile) : null;
    debugfile = c.debugfile ? new FileSink(c.debugfile) : null;
  };
  openSinks(cfg);

  const sink = (rec: LogRecord): void => {
    // Every sink below (files, stderr, syslog) gets the escaped text.
    const msg = escapeLogText(String(rec.msg));
    const name = escapeLogText(String(rec.entity));
    const { level } = rec;
    const date = now();
    if (rec.script) {
      writeScriptLine({ logfile, debugfile, stderr: current.stderr, syslog }, `${name}[${rec.pid}]`, level, msg, date);
      return;
    }
    const line = formatLogLine({ syslogmsgfmt: current.syslogmsgfmt, host, entity: name, pid: rec.pid, level, msg, date });
    if (level !== 'debug') logfile?.write(line);
    debugfile?.write(line);
    if (current.stderr) {
      try { process.stderr.write(line); } catch { /* detached */ }
    }
    if (current.syslogLayout === 'ident_pid') syslog.send(level, `${name}[${rec.pid}]`, msg);
    // cl_log ends its syslog(3) text with an explicit NUL byte (`%c`, 0); 3.0.6's datagrams carry it.
    else syslog.send(level, name, `[${rec.pid}]: ${LEVEL_WORDS[level]}: ${msg}\u0000`);
  };

  return {
    logger: makeLogger(sink, () => current.debugLevel > 0, entity, process.pid, false),
    reopen: () => {
      logfile?.reopen();
      debugfile?.reopen();
    },
    reconfigure: (c) => {
      current = c;
      openSinks(c);
    },
    close: () => {
      logfile?.close();
      debugfile?.close();
      syslog.close();
    },
  };
}

/** A logger that records lines in memory, for unit tests of components. */
export function memoryLogger(lines: string[] = []): Logger & { lines: string[] } {
  const make = (): Logger => ({
    log: (level, msg) => void lines.push(`${LEVEL_WORDS[level]}: ${msg}`),
    emerg: (msg) => void lines.push(`EMERG: ${msg}`),
    crit: (msg) => void lines.push(`CRIT: ${msg}`),
    error: (msg) => void lines.push(`ERROR: ${msg}`),
    warn: (msg) => void lines.push(`WARN: ${msg}`),
    notice: (msg) => void lines.push(`notice: ${msg}`),
    info: (msg) => void lines.push(`info: ${msg}`),
    debug: (msg) => void lines.push(`debug: ${msg}`),
    child: () => make(),
    script: () => make(),
  });
  return Object.assign(make(), { lines });
}
