/**
 * The compression functions of SHA-1 (FIPS 180-4) and MD5 (RFC 1321), written
 * out from their specifications for the HMAC in hmac.ts. Node's crypto costs a
 * native call and an object per hash, which dominated the receive path; here
 * the HMAC's padded-key blocks are compressed once per key and each message
 * costs only its own blocks. Every step is plain integer arithmetic with no
 * data-dependent branch or table index, so timing does not depend on the data
 * or the key. Checked against node:crypto in test/unit/auth/hmac.test.ts.
 */

/** One Merkle–Damgård hash with 64-byte blocks. */
export interface BlockHash {
  readonly name: 'md5' | 'sha1';
  /** Digest length in 32-bit words (the state size). */
  readonly words: number;
  /** Byte order of the message words, the length field and the digest. */
  readonly bigEndian: boolean;
  readonly iv: readonly number[];
  /** Folds the 64 bytes at `off` into `state`; `w` is scratch of at least 80 words. */
  compress(state: Int32Array, w: Int32Array, b: Uint8Array, off: number): void;
}

function sha1Compress(h: Int32Array, w: Int32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const o = off + 4 * i;
    w[i] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = h[0]!, bb = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!;
  // five steps per iteration rename the five registers instead of moving them
  for (let i = 0; i < 20; i += 5) {
    e = (e + ((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + 0x5a827999 + w[i + 0]!) | 0; bb = (bb << 30) | (bb >>> 2);
    d = (d + ((e << 5) | (e >>> 27)) + ((a & bb) | (~a & c)) + 0x5a827999 + w[i + 1]!) | 0; a = (a << 30) | (a >>> 2);
    c = (c + ((d << 5) | (d >>> 27)) + ((e & a) | (~e & bb)) + 0x5a827999 + w[i + 2]!) | 0; e = (e << 30) | (e >>> 2);
    bb = (bb + ((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + 0x5a827999 + w[i + 3]!) | 0; d = (d << 30) | (d >>> 2);
    a = (a + ((bb << 5) | (bb >>> 27)) + ((c & d) | (~c & e)) + 0x5a827999 + w[i + 4]!) | 0; c = (c << 30) | (c >>> 2);
  }
  for (let i = 20; i < 40; i += 5) {
    e = (e + ((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + 0x6ed9eba1 + w[i + 0]!) | 0; bb = (bb << 30) | (bb >>> 2);
    d = (d + ((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + 0x6ed9eba1 + w[i + 1]!) | 0; a = (a << 30) | (a >>> 2);
    c = (c + ((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + 0x6ed9eba1 + w[i + 2]!) | 0; e = (e << 30) | (e >>> 2);
    bb = (bb + ((c << 5) | (c >>> 27)) + (d ^ e ^ a) + 0x6ed9eba1 + w[i + 3]!) | 0; d = (d << 30) | (d >>> 2);
    a = (a + ((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + 0x6ed9eba1 + w[i + 4]!) | 0; c = (c << 30) | (c >>> 2);
  }
  for (let i = 40; i < 60; i += 5) {
    e = (e + ((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + -0x70e44324 + w[i + 0]!) | 0; bb = (bb << 30) | (bb >>> 2);
    d = (d + ((e << 5) | (e >>> 27)) + ((a & bb) | (a & c) | (bb & c)) + -0x70e44324 + w[i + 1]!) | 0; a = (a << 30) | (a >>> 2);
    c = (c + ((d << 5) | (d >>> 27)) + ((e & a) | (e & bb) | (a & bb)) + -0x70e44324 + w[i + 2]!) | 0; e = (e << 30) | (e >>> 2);
    bb = (bb + ((c << 5) | (c >>> 27)) + ((d & e) | (d & a) | (e & a)) + -0x70e44324 + w[i + 3]!) | 0; d = (d << 30) | (d >>> 2);
    a = (a + ((bb << 5) | (bb >>> 27)) + ((c & d) | (c & e) | (d & e)) + -0x70e44324 + w[i + 4]!) | 0; c = (c << 30) | (c >>> 2);
  }
  for (let i = 60; i < 80; i += 5) {
    e = (e + ((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + -0x359d3e2a + w[i + 0]!) | 0; bb = (bb << 30) | (bb >>> 2);
    d = (d + ((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + -0x359d3e2a + w[i + 1]!) | 0; a = (a << 30) | (a >>> 2);
    c = (c + ((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + -0x359d3e2a + w[i + 2]!) | 0; e = (e << 30) | (e >>> 2);
    bb = (bb + ((c << 5) | (c >>> 27)) + (d ^ e ^ a) + -0x359d3e2a + w[i + 3]!) | 0; d = (d << 30) | (d >>> 2);
    a = (a + ((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + -0x359d3e2a + w[i + 4]!) | 0; c = (c << 30) | (c >>> 2);
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + bb) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
}

/** RFC 1321's T[i] = floor(2^32 * |sin(i + 1)|); read-only after construction. */
const MD5_K = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);

function md5Compress(h: Int32Array, w: Int32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const o = off + 4 * i;
    w[i] = b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
  }
  let a = h[0]!, bb = h[1]!, c = h[2]!, d = h[3]!;
  // one loop per round function, four steps per iteration so that each
  // rotation amount is a constant and the registers are renamed, not moved
  for (let i = 0; i < 16; i += 4) {
    let x: number;
    x = (a + ((bb & c) | (~bb & d)) + MD5_K[i + 0]! + w[i + 0]!) | 0;
    a = (bb + ((x << 7) | (x >>> 25))) | 0;
    x = (d + ((a & bb) | (~a & c)) + MD5_K[i + 1]! + w[i + 1]!) | 0;
    d = (a + ((x << 12) | (x >>> 20))) | 0;
    x = (c + ((d & a) | (~d & bb)) + MD5_K[i + 2]! + w[i + 2]!) | 0;
    c = (d + ((x << 17) | (x >>> 15))) | 0;
    x = (bb + ((c & d) | (~c & a)) + MD5_K[i + 3]! + w[i + 3]!) | 0;
    bb = (c + ((x << 22) | (x >>> 10))) | 0;
  }
  for (let i = 16; i < 32; i += 4) {
    let x: number;
    x = (a + ((d & bb) | (~d & c)) + MD5_K[i + 0]! + w[(5 * i + 1) & 15]!) | 0;
    a = (bb + ((x << 5) | (x >>> 27))) | 0;
    x = (d + ((c & a) | (~c & bb)) + MD5_K[i + 1]! + w[(5 * i + 6) & 15]!) | 0;
    d = (a + ((x << 9) | (x >>> 23))) | 0;
    x = (c + ((bb & d) | (~bb & a)) + MD5_K[i + 2]! + w[(5 * i + 11) & 15]!) | 0;
    c = (d + ((x << 14) | (x >>> 18))) | 0;
    x = (bb + ((a & c) | (~a & d)) + MD5_K[i + 3]! + w[(5 * i + 16) & 15]!) | 0;
    bb = (c + ((x << 20) | (x >>> 12))) | 0;
  }
  for (let i = 32; i < 48; i += 4) {
    let x: number;
    x = (a + (bb ^ c ^ d) + MD5_K[i + 0]! + w[(3 * i + 5) & 15]!) | 0;
    a = (bb + ((x << 4) | (x >>> 28))) | 0;
    x = (d + (a ^ bb ^ c) + MD5_K[i + 1]! + w[(3 * i + 8) & 15]!) | 0;
    d = (a + ((x << 11) | (x >>> 21))) | 0;
    x = (c + (d ^ a ^ bb) + MD5_K[i + 2]! + w[(3 * i + 11) & 15]!) | 0;
    c = (d + ((x << 16) | (x >>> 16))) | 0;
    x = (bb + (c ^ d ^ a) + MD5_K[i + 3]! + w[(3 * i + 14) & 15]!) | 0;
    bb = (c + ((x << 23) | (x >>> 9))) | 0;
  }
  for (let i = 48; i < 64; i += 4) {
    let x: number;
    x = (a + (c ^ (bb | ~d)) + MD5_K[i + 0]! + w[(7 * i + 0) & 15]!) | 0;
    a = (bb + ((x << 6) | (x >>> 26))) | 0;
    x = (d + (bb ^ (a | ~c)) + MD5_K[i + 1]! + w[(7 * i + 7) & 15]!) | 0;
    d = (a + ((x << 10) | (x >>> 22))) | 0;
    x = (c + (a ^ (d | ~bb)) + MD5_K[i + 2]! + w[(7 * i + 14) & 15]!) | 0;
    c = (d + ((x << 15) | (x >>> 17))) | 0;
    x = (bb + (d ^ (c | ~a)) + MD5_K[i + 3]! + w[(7 * i + 21) & 15]!) | 0;
    bb = (c + ((x << 21) | (x >>> 11))) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + bb) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
}

export const SHA1: BlockHash = Object.freeze({
  name: 'sha1' as const,
  words: 5,
  bigEndian: true,
  iv: Object.freeze([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0]),
  compress: sha1Compress,
});

export const MD5: BlockHash = Object.freeze({
  name: 'md5' as const,
  words: 4,
  bigEndian: false,
  iv: Object.freeze([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]),
  compress: md5Compress,
});
