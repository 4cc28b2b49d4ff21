/**
 * `serial <dev>` (spec 7.5): heartbeat frames over a tty, via the optional
 * `serialport` package (imported only when a serial medium is opened).
 *
 * Heartbeat sets ISTRIP/IGNCR in termios; serialport always opens raw, so
 * the same input rules are applied in software (serial-frame.ts).
 *
 * Hardware flow control: heartbeat always sets CRTSCTS. On a pseudo-tty
 * (socat, test rigs, VM consoles) Linux accepts CRTSCTS but ignores it, and
 * every modem-line ioctl (TIOCMGET/TIOCMSET, used by serialport's get/set
 * and therefore by BREAK) fails with ENOTTY. With `flowControl: 'auto'` we
 * use RTS/CTS on real ports and not on ptys; on a real port whose cable
 * lacks RTS/CTS wires, output stalls: use `'off'` there. A stalled line is
 * detected by the bounded output queue, which is then flushed and reported.
 */
import { realpathSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HbError } from '../util/errors.js';
import { MEDIA } from './codes.js';
import type { Medium, ReceivedPacket } from './medium.js';
import { ErrorReporter, errnoOf } from './report.js';
import { DEFAULT_MAX_FRAME_BYTES, SerialFrameReader, chunkPauseMs, serialFrameFor, splitChunks } from './serial-frame.js';
import { DEFAULT_LOCK_DIR, acquireTtyLock, type TtyLock } from './ttylock.js';

export type FlowControl = 'auto' | 'on' | 'off';

/** The rates heartbeat's `baud` directive accepts. */
export const SERIAL_BAUDS: readonly number[] = [9600, 19200, 38400, 57600, 115200, 230400, 460800];

const BREAK_MS = 250;
const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024;

export interface SerialOptions {
  device: string;
  baud: number;
  /** RTS/CTS: 'auto' (default) = on for real ports, off for pseudo-ttys. */
  flowControl?: FlowControl;
  lockDir?: string;
  maxFrameBytes?: number;
  /** Output waiting beyond this many bytes means a stalled line: it is discarded. */
  maxQueuedBytes?: number;
}

type SerialPortModule = typeof import('serialport');
type Port = InstanceType<SerialPortModule['SerialPort']>;

/** Linux pty slaves: majors 136–143 (/dev/pts/N) and 3 (legacy ttyp*). */
function isPseudoTty(device: string): boolean {
  try {
    const real = realpathSync(device);
    if (real.startsWith('/dev/pts/')) return true;
    const major = Math.floor(statSync(real).rdev / 256) & 0xfff;
    return (major >= 136 && major <= 143) || major === 3;
  } catch {
    return false;
  }
}

function portCall(fn: (cb: (err: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

/** A supported speed and a full path naming a character device, or an error saying which is wrong. */
function checkDevice(who: string, device: string, baud: number): void {
  if (!SERIAL_BAUDS.includes(baud)) {
    throw new HbError(MEDIA.BAD_BAUD, `${who}: baud ${baud} not supported (use one of ${SERIAL_BAUDS.join(', ')})`);
  }
  if (!device.startsWith('/')) throw new HbError(MEDIA.SERIAL_NO_DEVICE, `${who}: not a full path name`);
  try {
    if (!statSync(device).isCharacterDevice()) {
      throw new HbError(MEDIA.SERIAL_NO_DEVICE, `${who}: not a character device`);
    }
  } catch (err) {
    if (err instanceof HbError) throw err;
    throw new HbError(MEDIA.SERIAL_NO_DEVICE, `${who}: cannot stat device: ${errnoOf(err)}`, { cause: err });
  }
}

export class SerialMedium implements Medium {
  readonly kind = 'serial' as const;
  readonly classicOnly = true;
  readonly linkName: string;
  readonly description: string;
  private readonly reporter = new ErrorReporter();
  private port: Port | undefined;
  private lock: TtyLock | undefined;
  private closing = false;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private pumping = false;
  private readonly pauses = new Set<AbortController>();
  private rtscts = false;
  private pty = false;
  private breakSent = false;

  constructor(private readonly opts: SerialOptions) {
    this.linkName = opts.device;
    this.description = `Starting serial heartbeat on tty ${opts.device} (${opts.baud} baud)`;
  }

  /** What open() found and did, for logs and tests. */
  get lineInfo(): { pty: boolean; rtscts: boolean; breakSent: boolean; lockPath: string | undefined } {
    return { pty: this.pty, rtscts: this.rtscts, breakSent: this.breakSent, lockPath: this.lock?.path };
  }

  async open(onPacket: (pkt: ReceivedPacket) => void, onError: (err: Error) => void): Promise<void> {
    const { device, baud } = this.opts;
    const who = `serial ${device}`;
    if (this.port !== undefined) throw new HbError(MEDIA.ALREADY_OPEN, `${who}: already open`);
    checkDevice(who, device, baud);
    let mod: SerialPortModule;
    try {
      mod = await import('serialport');
    } catch (err) {
      throw new HbError(MEDIA.SERIAL_UNAVAILABLE, `${who}: the serialport package is not installed: ${errnoOf(err)}`, { cause: err });
    }
    this.pty = isPseudoTty(device);
    const flow = this.opts.flowControl ?? 'auto';
    this.rtscts = flow === 'on' || (flow === 'auto' && !this.pty);

    const lock = await acquireTtyLock(device, this.opts.lockDir ?? DEFAULT_LOCK_DIR);
    const port = new mod.SerialPort({
      path: device,
      baudRate: baud,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      rtscts: this.rtscts,
      autoOpen: false,
    });
    try {
      await portCall((cb) => port.open(cb));
    } catch (err) {
      lock.release();
      throw new HbError(MEDIA.OPEN_FAILED, `${who}: cannot open: ${errnoOf(err)}`, { cause: err });
    }
    this.closing = false;
    this.port = port;
    this.lock = lock;
    this.reporter.setSink(onError);
    this.listen(port, who, onPacket);
    await this.resetLine(port);
  }

  private listen(port: Port, who: string, onPacket: (pkt: ReceivedPacket) => void): void {
    const reader = new SerialFrameReader(this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    port.on('data', (chunk: Buffer) => {
      if (this.closing) return;
      const res = reader.feed(chunk);
      for (const why of res.dropped) this.reporter.report(MEDIA.SERIAL_BAD_FRAME, `${who}: ${why}; resynchronising`);
      for (const frame of res.frames) {
        try {
          onPacket({ data: frame, from: this.opts.device });
        } catch (err) {
          this.reporter.report(MEDIA.CALLBACK_FAILED, `${who}: packet handler threw: ${errnoOf(err)}`, 'callback', err);
        }
      }
    });
    port.on('error', (err: Error) => {
      if (this.closing) return; // writes cancelled by close()
      this.reporter.report(MEDIA.RECEIVE_FAILED, `${who}: ${err.message}`, `err:${err.message}`, err);
    });
    port.on('close', (err: Error | null) => {
      if (this.closing) return;
      this.reporter.report(MEDIA.SERIAL_CLOSED, `${who}: device closed unexpectedly${err ? `: ${err.message}` : ''}`);
    });
  }

  /**
   * Discards what piled up before we configured the line, then BREAK so the
   * other side flushes too (as heartbeat does). Ptys cannot BREAK: ENOTTY.
   */
  private async resetLine(port: Port): Promise<void> {
    try {
      await portCall((cb) => port.flush(cb));
    } catch {
      /* nothing to discard */
    }
    if (this.pty) return;
    try {
      await portCall((cb) => port.set({ brk: true }, cb));
      await sleep(BREAK_MS);
      await portCall((cb) => port.set({ brk: false }, cb));
      this.breakSent = true;
    } catch {
      // Some USB adapters cannot send BREAK; it is a courtesy only.
    }
  }

  send(data: Buffer): void {
    const who = `serial ${this.opts.device}`;
    if (this.port === undefined || this.closing) {
      this.reporter.report(MEDIA.NOT_OPEN, `${who}: cannot send: medium is not open`);
      return;
    }
    const frame = serialFrameFor(data);
    if (typeof frame === 'string') {
      this.reporter.report(MEDIA.SERIAL_NOT_CLASSIC, `${who}: refusing to send: ${frame}`);
      return;
    }
    const limit = this.opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    if (this.queuedBytes + frame.length > limit) {
      this.reporter.report(
        MEDIA.SERIAL_STALLED,
        `${who}: ${this.queuedBytes} bytes of output not drained (no connection, bad cable or RTS/CTS not wired?); discarding them`,
      );
      this.queue = [];
      this.queuedBytes = 0;
      this.port.flush(() => undefined);
      return;
    }
    // Copy: the caller may reuse its buffer while we are still writing chunks.
    this.queue.push(Buffer.from(frame));
    this.queuedBytes += frame.length;
    void this.pump();
  }

  /** Writes queued frames chunk by chunk, pausing between the chunks of a frame. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const pauseMs = chunkPauseMs(this.opts.baud);
    try {
      let frame: Buffer | undefined;
      while (!this.closing && (frame = this.queue.shift()) !== undefined) {
        const chunks = splitChunks(frame);
        for (let i = 0; i < chunks.length && !this.closing; i++) {
          await this.writeChunk(chunks[i] as Buffer);
          if (i < chunks.length - 1) await this.pause(pauseMs);
        }
        this.queuedBytes = Math.max(0, this.queuedBytes - frame.length);
      }
    } finally {
      this.pumping = false;
    }
  }

  private writeChunk(chunk: Buffer): Promise<void> {
    const port = this.port;
    if (port === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        port.write(chunk, (err: Error | null | undefined) => {
          if (err && !this.closing) this.reporter.report(MEDIA.SEND_FAILED, `serial ${this.opts.device}: write failed: ${err.message}`, `w:${err.message}`, err);
          resolve();
        });
      } catch (err) {
        this.reporter.report(MEDIA.SEND_FAILED, `serial ${this.opts.device}: write failed: ${errnoOf(err)}`, 'w:throw', err);
        resolve();
      }
    });
  }

  /** A pause that close() cuts short, so no timer outlives the medium. */
  private async pause(ms: number): Promise<void> {
    const ac = new AbortController();
    this.pauses.add(ac);
    try {
      await sleep(ms, undefined, { signal: ac.signal });
    } catch {
      /* aborted by close() */
    } finally {
      this.pauses.delete(ac);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const ac of this.pauses) ac.abort();
    this.queue = [];
    this.queuedBytes = 0;
    const port = this.port;
    this.port = undefined;
    if (port !== undefined && port.isOpen) {
      try {
        await portCall((cb) => port.close(cb));
      } catch {
        /* the device may already be gone */
      }
    }
    this.lock?.release();
    this.lock = undefined;
  }
}
