import { crc32 } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { authMethod, crc32Posix, crcMethod, isAuthMethodName, md5Method, sha1Method } from '../../../lib/auth/index.js';
import { HbError } from '../../../lib/util/errors.js';
import { Rng } from '../wire/gen.js';
import { vectors } from '../wire/vectors.js';

const dataOf = (v: { data?: string; data_hex?: string }): Buffer =>
  v.data_hex !== undefined ? Buffer.from(v.data_hex, 'hex') : Buffer.from(v.data ?? '', 'latin1');

/** Bit-at-a-time reference of the same CRC, to check the table-driven one independently. */
function crcBitwise(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = ((crc >>> 31) ^ (byte >>> bit)) & 1;
      crc = ((crc << 1) ^ (top ? 0x04c11db7 : 0)) >>> 0;
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('primitive vectors (spec 2.1)', () => {
  for (const [i, v] of vectors.primitive_vectors.entries()) {
    test(`vector ${i}: crc${v.hmac_md5_key_mysecret ? ', hmac-md5, hmac-sha1' : ''}`, () => {
      const data = dataOf(v);
      expect(crcMethod.compute('', data)).toBe(v.crc);
      if (v.hmac_md5_key_mysecret) expect(md5Method.compute('mysecret', data)).toBe(v.hmac_md5_key_mysecret);
      if (v.hmac_sha1_key_mysecret) expect(sha1Method.compute('mysecret', data)).toBe(v.hmac_sha1_key_mysecret);
    });
  }

  test('crc is printed without zero padding (7 digits for the third vector)', () => {
    expect(crcMethod.compute('', dataOf(vectors.primitive_vectors[2]!))).toHaveLength(7);
  });

  test('crc ignores the key; HMACs do not', () => {
    const d = Buffer.from('t=status\n');
    expect(crcMethod.compute('anything', d)).toBe(crcMethod.compute('', d));
    expect(md5Method.compute('a', d)).not.toBe(md5Method.compute('b', d));
    expect(sha1Method.compute('a', d)).not.toBe(sha1Method.compute('b', d));
  });

  test('table-driven crc equals a bitwise reference on 500 random inputs, and differs from zlib crc32', () => {
    const rng = new Rng(42);
    let zlibDiffers = 0;
    for (let i = 0; i < 500; i++) {
      const d = rng.bytes(rng.int(300));
      expect(crc32Posix(d)).toBe(crcBitwise(d));
      if (d.length > 0 && crc32(d) !== crc32Posix(d)) zlibDiffers++;
    }
    expect(zlibDiffers).toBeGreaterThan(450);
  });

  test('HMAC keys are latin1 bytes; keys longer than 64 bytes are hashed first (RFC 2104)', () => {
    const d = Buffer.from('x');
    // A high byte is one key byte, not its UTF-8 pair.
    expect(md5Method.compute('\xe9', d)).not.toBe(md5Method.compute('\xc3\xa9', d));
    const long = 'k'.repeat(100);
    expect(sha1Method.compute(long, d)).toHaveLength(40);
    expect(md5Method.compute(long, d)).toHaveLength(32);
  });
});

describe('authMethod()', () => {
  test('names and needsKey', () => {
    expect(authMethod('crc')).toBe(crcMethod);
    expect(authMethod('md5').needsKey).toBe(true);
    expect(authMethod('sha1').name).toBe('sha1');
    expect(crcMethod.needsKey).toBe(false);
    expect(isAuthMethodName('sha1')).toBe(true);
    expect(isAuthMethodName('toString')).toBe(false);
  });

  test('unknown names throw HbError AUTH_UNKNOWN_METHOD', () => {
    for (const n of ['sha256', 'CRC', '', '__proto__']) {
      try {
        authMethod(n);
        expect.unreachable(n);
      } catch (err) {
        expect(err).toBeInstanceOf(HbError);
        expect((err as HbError).code).toBe('AUTH_UNKNOWN_METHOD');
      }
    }
  });
});
