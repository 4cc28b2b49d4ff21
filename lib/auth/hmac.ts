/**
 * HMAC (RFC 2104) bound to one key: H(K^opad || H(K^ipad || m)). The two
 * padded-key blocks are compressed once, when the key is loaded, and every
 * buffer is allocated then too, so a message costs its own blocks plus one
 * outer block and no allocation. The token check compares the digest bytes
 * with the received hex text in constant time instead of building a string.
 */
import { createHash } from 'node:crypto';
import type { BlockHash } from './blockhash.js';

const BLOCK = 64;
const HEX = '0123456789abcdef';

/** Lowercase hex digit of nibble `n` without a branch or a table index. */
const hexCode = (n: number): number => n + 0x30 + (((9 - n) >> 31) & 39);

export class KeyedHmac {
  readonly #h: BlockHash;
  readonly #inner0: Int32Array;
  readonly #outer0: Int32Array;
  readonly #state: Int32Array;
  readonly #w = new Int32Array(80);
  /** The last one or two blocks of a message, with its padding. */
  readonly #tail = new Uint8Array(2 * BLOCK);
  /** Digest bytes of the last call (inner, then outer). */
  readonly #out: Uint8Array;

  constructor(h: BlockHash, key: Uint8Array) {
    this.#h = h;
    this.#state = new Int32Array(h.words);
    this.#out = new Uint8Array(4 * h.words);
    // Keys longer than a block are hashed first (RFC 2104 section 2).
    const k = key.length > BLOCK ? createHash(h.name).update(key).digest() : key;
    this.#inner0 = this.#padState(k, 0x36);
    this.#outer0 = this.#padState(k, 0x5c);
  }

  #padState(k: Uint8Array, pad: number): Int32Array {
    const block = new Uint8Array(BLOCK).fill(pad);
    for (let i = 0; i < k.length; i++) block[i] = block[i]! ^ k[i]!;
    const st = Int32Array.from(this.#h.iv);
    this.#h.compress(st, this.#w, block, 0);
    return st;
  }

  /** Folds `data` into the state, which already holds one block, pads it and writes the digest to #out. */
  #finish(data: Uint8Array): void {
    const { compress, bigEndian } = this.#h;
    const st = this.#state;
    const n = data.length;
    let off = 0;
    for (; off + BLOCK <= n; off += BLOCK) compress(st, this.#w, data, off);
    const t = this.#tail;
    const rem = n - off;
    for (let i = 0; i < rem; i++) t[i] = data[off + i]!;
    t[rem] = 0x80;
    const end = rem < BLOCK - 8 ? BLOCK : 2 * BLOCK;
    for (let i = rem + 1; i < end - 8; i++) t[i] = 0;
    const bits = (n + BLOCK) * 8;
    const lo = bits >>> 0;
    const hi = Math.floor(bits / 2 ** 32) >>> 0;
    for (let i = 0; i < 4; i++) {
      const lb = (lo >>> (8 * i)) & 0xff;
      const hb = (hi >>> (8 * i)) & 0xff;
      if (bigEndian) { t[end - 1 - i] = lb; t[end - 5 - i] = hb; }
      else { t[end - 8 + i] = lb; t[end - 4 + i] = hb; }
    }
    compress(st, this.#w, t, 0);
    if (end > BLOCK) compress(st, this.#w, t, BLOCK);
    const o = this.#out;
    for (let i = 0; i < st.length; i++) {
      const v = st[i]!;
      const p = 4 * i;
      if (bigEndian) { o[p] = v >>> 24; o[p + 1] = v >>> 16; o[p + 2] = v >>> 8; o[p + 3] = v; }
      else { o[p] = v; o[p + 1] = v >>> 8; o[p + 2] = v >>> 16; o[p + 3] = v >>> 24; }
    }
  }

  /** The MAC of `data` in a buffer owned by this object, valid until its next call. */
  #mac(data: Uint8Array): Uint8Array {
    this.#state.set(this.#inner0);
    this.#finish(data);
    this.#state.set(this.#outer0);
    this.#finish(this.#out);
    return this.#out;
  }

  /** The MAC as a new Buffer. */
  digest(data: Uint8Array): Buffer {
    return Buffer.from(this.#mac(data));
  }

  /** The MAC as lowercase hex, the token heartbeat prints. */
  hex(data: Uint8Array): string {
    const d = this.#mac(data);
    let s = '';
    for (let i = 0; i < d.length; i++) s += HEX[d[i]! >> 4]! + HEX[d[i]! & 15]!;
    return s;
  }

  /**
   * Whether `token` is exactly hex(data): a length mismatch is decided
   * without looking at content; otherwise every character is looked at,
   * with no early exit and no branch on the digest.
   */
  matches(data: Uint8Array, token: string): boolean {
    const d = this.#mac(data);
    if (token.length !== 2 * d.length) return false;
    let diff = 0;
    for (let i = 0; i < d.length; i++) {
      diff |= (token.charCodeAt(2 * i) ^ hexCode(d[i]! >> 4)) | (token.charCodeAt(2 * i + 1) ^ hexCode(d[i]! & 15));
    }
    return diff === 0;
  }
}
