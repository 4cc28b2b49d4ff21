/**
 * The FIFO `<stateDir>/fifo` (spec 6.7, 13): scripts (`ha_clustermsg` in
 * shellfuncs, hb_standby, hb_takeover, rc.d scripts) write classic text
 * messages (`>>>` … `<<<`) into it and the daemon sends each to the cluster,
 * adding the control fields.
 *
 * Node has no mkfifo, so mkfifo(1) creates it. The read end is opened
 * non-blocking and polled by libuv (a net.Socket over the fd), so a silent
 * FIFO never ties up the event loop or a thread-pool thread. Like heartbeat's
 * FIFO reader, we also hold a write end ourselves: the reader then never sees
 * EOF between writers, and a writer's open(O_WRONLY|O_NONBLOCK) fails with
 * ENXIO exactly when no daemon is reading (how hb_standby detects that).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, fstatSync, lstatSync, openSync, unlinkSync, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import type { Cluster } from '../lib/membership/cluster.js';
import type { Clock, TimerHandle } from '../lib/util/clock.js';
import { describeError } from '../lib/util/errors.js';
import type { Logger } from '../lib/util/log.js';
import { decodeClassic, type HaMsg } from '../lib/wire/index.js';
import { stripControlFields, unsendableReason } from './clustermsg.js';
import { fifoPath, type Paths } from './paths.js';

/** A single FIFO message larger than this is refused (spec 1.5 caps datagrams at 64 KiB in practice). */
export const MAX_FIFO_MESSAGE = 64 * 1024;
const REOPEN_DELAY_MS = 1000;
/** 3.0.6's FIFOMODE. */
const FIFO_MODE = 0o600;
const EUID = process.geteuid?.() ?? 0;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

export interface FifoParseResult {
  messages: HaMsg[];
  /** One line per piece of bad input that was skipped. */
  problems: string[];
}

const START_RE = /(?:^|\n)>>>\n/;

/**
 * Splits the FIFO byte stream into messages. Keeps incomplete input for the
 * next push; bad input is reported and skipped up to the next `>>>` line.
 */
export class FifoParser {
  private buf = '';

  push(chunk: Buffer | string): FifoParseResult {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const out: FifoParseResult = { messages: [], problems: [] };
    for (;;) {
      const m = START_RE.exec(this.buf);
      if (!m) {
        this.skipJunk(this.buf.lastIndexOf('\n') + 1, out);
        if (this.buf.length > MAX_FIFO_MESSAGE) this.skipJunk(this.buf.length, out);
        break;
      }
      const start = m.index + (m[0].startsWith('\n') ? 1 : 0);
      this.skipJunk(start, out);
      const body = this.buf.indexOf('\n<<<\n', 3);
      const next = START_RE.exec(this.buf.slice(4));
      const nextStart = next ? next.index + 4 + (next[0].startsWith('\n') ? 1 : 0) : -1;
      if (nextStart >= 0 && (body < 0 || nextStart < body + 1)) {
        out.problems.push(`message without <<< end marker before the next >>> (${nextStart} bytes skipped)`);
        this.buf = this.buf.slice(nextStart);
        continue;
      }
      if (body < 0) {
        if (this.buf.length > MAX_FIFO_MESSAGE) {
          out.problems.push(`message longer than ${MAX_FIFO_MESSAGE} bytes without <<< end marker (skipped)`);
          this.buf = '';
        }
        break;
      }
      const end = body + 5;
      const text = this.buf.slice(0, end);
      this.buf = this.buf.slice(end);
      const r = decodeClassic(Buffer.from(text, 'latin1'));
      if (!r.ok) out.problems.push(`bad message: ${r.reason}`);
      else out.messages.push(r.msg);
    }
    return out;
  }

  /** Drops buf[0, upto); reports it unless it is only blank lines. */
  private skipJunk(upto: number, out: FifoParseResult): void {
    if (upto <= 0) return;
    const junk = this.buf.slice(0, upto);
    this.buf = this.buf.slice(upto);
    if (junk.trim() !== '') {
      const first = junk.trim().split('\n')[0] ?? '';
      out.problems.push(`text outside >>> … <<< ignored (${junk.length} bytes, starting "${first.slice(0, 60)}")`);
    }
  }
}

export interface FifoOptions {
  log: Logger;
  paths: Paths;
  /** Times the reopen after a failure (the node's clock). */
  clock: Clock;
}

/** The daemon's FIFO reader (an Attachment). */
export class FifoReader {
  readonly name = 'fifo';
  private cluster: Cluster | null = null;
  private sock: Socket | null = null;
  private writeFd: number | null = null;
  private parser = new FifoParser();
  private stopped = false;
  private reopenTimer: TimerHandle | null = null;

  constructor(private readonly o: FifoOptions) {}

  get path(): string {
    return fifoPath(this.o.paths);
  }

  start(node: { cluster: Cluster }): void {
    this.cluster = node.cluster;
    if (this.create()) this.open();
  }

  rebind(node: { cluster: Cluster }): void {
    this.cluster = node.cluster;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.reopenTimer?.cancel();
    this.reopenTimer = null;
    this.close();
    return Promise.resolve();
  }

  /**
   * Makes sure our FIFO (mode 0600, owned by the daemon's uid) is at the
   * path. Heartbeat 3.0.6 reuses whatever FIFO is there and only chmods it;
   * a FIFO (or symlink, or file) someone else made is replaced instead, so
   * nobody else keeps a reader or writer on what scripts send.
   */
  private create(): boolean {
    const path = this.path;
    const st = lstatOrUndefined(path);
    if (st?.isFIFO() && st.uid === EUID) {
      if ((st.mode & 0o777) === FIFO_MODE) return true;
      try {
        chmodSync(path, FIFO_MODE);
        return true;
      } catch (err) {
        this.o.log.warn(`Cannot chmod FIFO ${path}: ${describeError(err)}; recreating it.`);
      }
    } else if (st) {
      this.o.log.warn(`${path} is not our FIFO (${st.isFIFO() ? `owned by uid ${st.uid}` : 'not a FIFO'}): replacing it.`);
    }
    this.o.log.info(`Creating FIFO ${path}.`);
    try {
      unlinkSync(path);
    } catch {
      /* nothing there */
    }
    const r = spawnSync('mkfifo', ['-m', FIFO_MODE.toString(8), path], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/bin:/bin` } });
    if (r.status !== 0) {
      const why = r.error ? describeError(r.error) : (r.stderr ?? '').trim() || `exit ${String(r.status)}`;
      this.o.log.error(`Cannot create FIFO ${path}: ${why}; messages from scripts (hb_standby, hb_takeover) will not be received.`);
      return false;
    }
    return true;
  }

  private open(): void {
    if (this.stopped) return;
    const path = this.path;
    let readFd: number | null = null;
    try {
      // O_NOFOLLOW, then a look at what was really opened: the path may have changed since create().
      readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
      const st = fstatSync(readFd);
      if (!st.isFIFO() || st.uid !== EUID || (st.mode & 0o077) !== 0) throw new Error('not our FIFO (changed while opening)');
      this.writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (err) {
      if (readFd !== null) closeSync(readFd);
      this.o.log.error(`FIFO open of ${path} failed: ${describeError(err)}`);
      this.scheduleReopen();
      return;
    }
    const sock = new Socket({ fd: readFd, readable: true, writable: false });
    this.sock = sock;
    sock.on('data', (chunk: Buffer) => this.input(chunk));
    sock.on('end', () => this.reopen('end of input'));
    sock.on('error', (err) => this.reopen(describeError(err)));
  }

  private input(chunk: Buffer): void {
    const r = this.parser.push(chunk);
    for (const p of r.problems) this.o.log.error(`FIFO ${this.path}: ${p}`);
    for (const msg of r.messages) {
      stripControlFields(msg);
      const why = unsendableReason(msg);
      if (why) {
        this.o.log.error(`FIFO ${this.path}: message not sent: ${why}`);
        continue;
      }
      if (!this.cluster) continue;
      this.cluster.send(msg);
    }
  }

  private reopen(why: string): void {
    if (this.stopped) return;
    this.o.log.debug(`FIFO ${this.path}: ${why}; reopening`);
    this.close();
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return;
    this.reopenTimer = this.o.clock.setTimer(() => {
      this.reopenTimer = null;
      if (this.create()) this.open();
    }, REOPEN_DELAY_MS);
  }

  private close(): void {
    this.sock?.destroy();
    this.sock = null;
    if (this.writeFd !== null) {
      try {
        closeSync(this.writeFd);
      } catch {
        /* already closed */
      }
      this.writeFd = null;
    }
    this.parser = new FifoParser();
  }
}
