/**
 * cluster-glue's IPC framing over a unix stream socket, as Heartbeat's client
 * library (libhbclient + libplumb) speaks it on `<runDir>/register`:
 * every message is an 8-byte header — `int msg_len; unsigned magic` in the
 * host's byte order, magic 0xabcd — then msg_len bytes of body. The body of
 * an API message is an `ha_msg` in glue's wire format without auth: classic
 * text followed by a NUL (`>>>\n…<<<\n\0`), or netstring when a field needs
 * it (struct or compressed fields), as glue's msg2wirefmt_noac chooses.
 *
 * Everything a client sends is bounded: a header announcing more than
 * glue's MAXMSG (256 KiB) or carrying the wrong magic ends the connection
 * (glue's reader gives up on the channel the same way), and a body that does
 * not decode is refused without being buffered further.
 */
import { endianness } from 'node:os';
import { decodeDatagram, FieldType, HaMsg, encodeClassic, encodeNetstring, type DecodeResult } from '../../lib/wire/index.js';

export const IPC_HEADER_LEN = 8;
export const IPC_MAGIC = 0xabcd;
/** glue's MAXMSG: the largest message body on an IPC channel. */
export const IPC_MAXMSG = 256 * 1024;

const LITTLE = endianness() === 'LE';

export type FrameResult = { ok: true; frames: Buffer[] } | { ok: false; reason: string };

/** The header of one frame. */
export function ipcHeader(length: number): Buffer {
  const h = Buffer.alloc(IPC_HEADER_LEN);
  if (LITTLE) {
    h.writeInt32LE(length, 0);
    h.writeUInt32LE(IPC_MAGIC, 4);
  } else {
    h.writeInt32BE(length, 0);
    h.writeUInt32BE(IPC_MAGIC, 4);
  }
  return h;
}

/** One framed message body. Throws when the body is over IPC_MAXMSG (a caller bug, never client data). */
export function ipcFrame(body: Buffer): Buffer {
  if (body.length > IPC_MAXMSG) throw new RangeError(`IPC message of ${body.length} bytes exceeds ${IPC_MAXMSG}`);
  return Buffer.concat([ipcHeader(body.length), body]);
}

/**
 * Splits a byte stream into frame bodies. Chunks are kept as they arrive and
 * joined only when a whole frame is there, so a large message sent in small
 * pieces costs no repeated copying. After an error the reader stays failed.
 */
export class IpcFrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private failed: string | undefined;

  constructor(private readonly maxBody = IPC_MAXMSG) {}

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer): FrameResult {
    if (this.failed !== undefined) return { ok: false, reason: this.failed };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const frames: Buffer[] = [];
    while (this.size >= IPC_HEADER_LEN) {
      const head = this.peek(IPC_HEADER_LEN);
      const len = LITTLE ? head.readInt32LE(0) : head.readInt32BE(0);
      const magic = LITTLE ? head.readUInt32LE(4) : head.readUInt32BE(4);
      if (magic !== IPC_MAGIC) return this.fail(`bad IPC header magic 0x${magic.toString(16)} (expected 0x${IPC_MAGIC.toString(16)})`);
      if (len < 0 || len > this.maxBody) return this.fail(`IPC message length ${len} out of range (0 to ${this.maxBody})`);
      if (this.size < IPC_HEADER_LEN + len) break;
      const whole = this.take(IPC_HEADER_LEN + len);
      frames.push(whole.subarray(IPC_HEADER_LEN));
    }
    return { ok: true, frames };
  }

  private fail(reason: string): FrameResult {
    this.failed = reason;
    this.chunks = [];
    this.size = 0;
    return { ok: false, reason };
  }

  /** The first n buffered bytes (n <= size), joining chunks only as needed. */
  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.chunks, this.size);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const data = this.peek(n);
    const rest = (this.chunks[0] as Buffer).subarray(n);
    this.chunks = rest.length > 0 ? [rest, ...this.chunks.slice(1)] : this.chunks.slice(1);
    this.size -= n;
    return Buffer.from(data);
  }
}

/** Field types that make glue send a message as netstring. */
const NETSTRING_ONLY: ReadonlySet<number> = new Set([FieldType.STRUCT, FieldType.COMPRESS]);

/** The body glue's msg2ipcchan would write for this message. */
export function encodeApiBody(msg: HaMsg): Buffer {
  if (msg.fields.some((f) => NETSTRING_ONLY.has(f.type))) return encodeNetstring(msg);
  return Buffer.concat([encodeClassic(msg), Buffer.from([0])]);
}

/** Decodes a frame body from a client (either format, no auth expected). Never throws. */
export function decodeApiBody(body: Buffer): DecodeResult {
  const r = decodeDatagram(body);
  return r.ok ? { ok: true, msg: r.msg, format: r.format } : r;
}
