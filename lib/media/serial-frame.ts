/**
 * Byte-level framing of the serial medium (spec 7.5), kept apart from the
 * device handling so it can be reasoned about on its own.
 *
 * Input is treated as heartbeat's tty settings would leave it: the 8th bit
 * is stripped (ISTRIP) and CR bytes vanish (IGNCR). Lines before one that
 * starts with `>>>` are skipped; lines are collected until one starting
 * with `<<<`; the frame is delivered as `>>>\n…<<<\n`. A frame that grows
 * past the bound without its end marker is dropped and the reader hunts for
 * the next `>>>`, so line noise can never make memory grow without limit.
 */

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
/** Heartbeat writes in fragments of this size (FRAGSIZE). */
export const SERIAL_CHUNK_BYTES = 512;

const START = Buffer.from('>>>\n', 'latin1');
const END = Buffer.from('<<<\n', 'latin1');
const NL = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const LT = 0x3c;

function startsWithMarker(line: Buffer, len: number, ch: number): boolean {
  return len >= 3 && line[0] === ch && line[1] === ch && line[2] === ch;
}

export interface FeedResult {
  frames: Buffer[];
  /** One sentence per frame thrown away (too long, or restarted). */
  dropped: string[];
}

export class SerialFrameReader {
  private readonly line: Buffer;
  private lineLen = 0;
  /** True after a line overflowed: ignore bytes up to the next newline. */
  private skippingLine = false;
  private body: Buffer[] | null = null;
  private bodyBytes = 0;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.line = Buffer.alloc(maxFrameBytes);
  }

  /** True while inside a `>>>` … `<<<` frame. */
  get inFrame(): boolean {
    return this.body !== null;
  }

  feed(chunk: Buffer): FeedResult {
    const out: FeedResult = { frames: [], dropped: [] };
    for (const raw of chunk) {
      const b = raw & 0x7f;
      if (b === CR) continue;
      if (b === NL) {
        if (this.skippingLine) this.skippingLine = false;
        else this.endLine(out);
        this.lineLen = 0;
        continue;
      }
      if (this.skippingLine) continue;
      if (this.lineLen >= this.line.length) {
        // A line longer than a whole frame may be: garbage, or a frame gone wrong.
        this.lineLen = 0;
        this.skippingLine = true;
        if (this.body !== null) this.drop(out, `frame exceeds ${this.maxFrameBytes} bytes without <<<`);
        continue;
      }
      this.line[this.lineLen++] = b;
    }
    return out;
  }

  private endLine(out: FeedResult): void {
    const len = this.lineLen;
    if (this.body === null) {
      if (startsWithMarker(this.line, len, GT)) {
        this.body = [];
        this.bodyBytes = START.length + END.length;
      }
      return;
    }
    if (startsWithMarker(this.line, len, LT)) {
      out.frames.push(Buffer.concat([START, ...this.body, END]));
      this.body = null;
      return;
    }
    if (startsWithMarker(this.line, len, GT)) {
      // The end of the previous frame was lost; the new one is probably whole.
      out.dropped.push('frame restarted by >>> before its <<<');
      this.body = [];
      this.bodyBytes = START.length + END.length;
      return;
    }
    this.bodyBytes += len + 1;
    if (this.bodyBytes > this.maxFrameBytes) {
      this.drop(out, `frame exceeds ${this.maxFrameBytes} bytes without <<<`);
      return;
    }
    const copy = Buffer.allocUnsafe(len + 1);
    this.line.copy(copy, 0, 0, len);
    copy[len] = NL;
    this.body.push(copy);
  }

  private drop(out: FeedResult, why: string): void {
    out.dropped.push(why);
    this.body = null;
    this.bodyBytes = 0;
  }
}

/**
 * What goes on the wire for one message: classic text from `>>>\n` to
 * `<<<\n`. Trailing NULs (classic datagrams end with one) are removed: on a
 * tty they would glue onto the next frame's `>>>` line and hide it. Returns
 * a reason string for anything that is not a classic message.
 */
export function serialFrameFor(data: Buffer): Buffer | string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  const frame = data.subarray(0, end);
  if (frame.length < START.length + END.length || !frame.subarray(0, START.length).equals(START)) {
    return 'not a classic message (must start with ">>>\\n"; netstring must be converted first)';
  }
  if (!frame.subarray(frame.length - END.length).equals(END)) return 'classic message does not end with "<<<\\n"';
  return frame;
}

export function splitChunks(frame: Buffer, size: number = SERIAL_CHUNK_BYTES): Buffer[] {
  const chunks: Buffer[] = [];
  for (let off = 0; off < frame.length; off += size) chunks.push(frame.subarray(off, off + size));
  return chunks;
}

/** Pause between chunks: the time one chunk takes on the line, 512/(baud/8) s. */
export function chunkPauseMs(baud: number): number {
  return (SERIAL_CHUNK_BYTES / (baud / 8)) * 1000;
}
