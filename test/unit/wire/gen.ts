/** Deterministic random messages and a structural dump for comparing them, shared by wire and auth tests. */
import { expect } from 'vitest';
import { FieldType, HaMsg, type Field } from '../../../lib/wire/message.js';

/** mulberry32: small, fast, seedable; good enough to drive fuzzing. */
export class Rng {
  #a: number;
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.';
const KNOWN = ['t', 'st', 'src', 'seq', 'hg', 'ts', 'ld', 'ttl', 'dest', 'info', 'nodelist', 'rsc_hold'];

export function randomName(rng: Rng): string {
  if (rng.chance(0.3)) return rng.pick(KNOWN);
  let s = '';
  const n = 1 + rng.int(12);
  for (let i = 0; i < n; i++) s += rng.pick([...NAME_CHARS]);
  return s;
}

/**
 * A latin1 string. With `classicSafe`, bytes that cannot survive classic
 * text (NUL, 0x13 and the depth markers 0x0f-0x1f) are left out; `\n`, `,`,
 * `:` and `=` stay in on purpose.
 */
export function randomString(rng: Rng, classicSafe: boolean, min = 0): string {
  const n = min + rng.int(24);
  let s = '';
  for (let i = 0; i < n; i++) {
    let c = rng.chance(0.2) ? rng.pick([0x0a, 0x2c, 0x3a, 0x3d, 0x28, 0x29, 0x20]) : 1 + rng.int(255);
    if (classicSafe && c >= 0x0f && c <= 0x1f) c = 0x41;
    s += String.fromCharCode(c);
  }
  return s;
}

export interface GenOptions {
  classicSafe: boolean;
  maxDepth: number;
  maxFields?: number;
}

export function randomMessage(rng: Rng, opts: GenOptions, depth = 0): HaMsg {
  const m = new HaMsg();
  const n = rng.int((opts.maxFields ?? 8) + 1);
  for (let i = 0; i < n; i++) {
    const name = randomName(rng);
    let kind = rng.int(depth < opts.maxDepth ? 5 : 4);
    // glue merges a list into an earlier list of that name and refuses it after another type.
    if (kind === 3 && m.has(name)) kind = 0;
    let f: Field;
    switch (kind) {
      case 0: f = { name, type: FieldType.STRING, value: randomString(rng, opts.classicSafe) }; break;
      case 1: f = { name, type: FieldType.BINARY, value: rng.chance(0.5) ? uuidWithSpecials(rng) : rng.bytes(rng.int(40)) }; break;
      case 2: f = { name, type: FieldType.COMPRESS, value: rng.bytes(1 + rng.int(30)) }; break;
      case 3: {
        const list: string[] = [];
        const k = 1 + rng.int(4);
        for (let j = 0; j < k; j++) list.push(randomString(rng, true, 1).replace(/\n/g, ' '));
        f = { name, type: FieldType.LIST, value: list };
        break;
      }
      default: f = { name, type: FieldType.STRUCT, value: randomMessage(rng, opts, depth + 1) };
    }
    m.addField(f);
  }
  return m;
}

/** A 16-byte UUID that contains the bytes netstring and classic framing care about. */
export function uuidWithSpecials(rng: Rng): Buffer {
  const b = rng.bytes(16);
  b[rng.int(16)] = 0x0a;
  b[rng.int(16)] = 0x2c;
  b[rng.int(16)] = 0x3a;
  return b;
}

/** A structural image of a message for deep equality (buffers as hex). */
export function dump(m: HaMsg): unknown[] {
  return m.fields.map((f) => {
    switch (f.type) {
      case FieldType.STRUCT: return [f.name, f.type, dump(f.value)];
      case FieldType.BINARY:
      case FieldType.COMPRESS: return [f.name, f.type, `hex:${f.value.toString('hex')}`];
      default: return [f.name, f.type, f.value];
    }
  });
}

/** A chain of `levels` nested structs below a top message; the innermost holds `x=leaf`. */
export function nestedChain(levels: number): HaMsg {
  let inner = HaMsg.of({ x: 'leaf' });
  for (let i = 0; i < levels; i++) inner = new HaMsg().add('d', String(levels - i)).addStruct('s', inner);
  return inner;
}

/** Latin-1 bytes of a string (the wire's view of a text). */
export const L = (s: string): Buffer => Buffer.from(s, 'latin1');

/** decodeOk (throws on a rejection) and reason (throws on success) for one decoder. */
export function decoderChecks<R extends { ok: true } | { ok: false; reason: string }>(decode: (buf: Buffer) => R): {
  decodeOk(buf: Buffer): Extract<R, { ok: true }>;
  reason(buf: Buffer): string;
} {
  return {
    decodeOk(buf) {
      const r = decode(buf);
      if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
      return r as Extract<R, { ok: true }>;
    },
    reason(buf) {
      const r = decode(buf);
      if (r.ok) throw new Error('expected a rejection');
      return r.reason;
    },
  };
}

/**
 * `cases` seeded random messages through encode, then decode: the same
 * content, the whole buffer consumed (where the decoder says), and
 * re-encoding gives the same bytes.
 */
export function expectRoundTrips(
  seed: number, opts: GenOptions, encode: (m: HaMsg) => Buffer, decode: (b: Buffer) => { msg: HaMsg; end?: number }, cases = 2000,
): void {
  const rng = new Rng(seed);
  for (let i = 0; i < cases; i++) {
    const m = randomMessage(rng, opts);
    const b = encode(m);
    const r = decode(b);
    expect(dump(r.msg)).toEqual(dump(m));
    if (r.end !== undefined) expect(r.end).toBe(b.length);
    expect(encode(r.msg).equals(b)).toBe(true);
  }
}
