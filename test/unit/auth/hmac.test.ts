import { createHash, createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { MD5, SHA1, type BlockHash } from '../../../lib/auth/blockhash.js';
import { KeyedHmac } from '../../../lib/auth/hmac.js';
import { Rng } from '../wire/gen.js';

const HASHES: readonly BlockHash[] = [MD5, SHA1];
const ref = (h: BlockHash, key: Buffer, data: Buffer): string => createHmac(h.name, key).update(data).digest('hex');

describe.each(HASHES)('KeyedHmac $name equals node:crypto createHmac', (h) => {
  // around the 64-byte block, the 55/56-byte padding edge (inner message = 64 + n) and multi-block data
  const keyLens = [1, 3, 20, 63, 64, 65, 100, 200];
  const dataLens = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 300, 1000, 4099];

  test.each(keyLens)('key of %i bytes, every edge length of data', (kl) => {
    const rng = new Rng(kl);
    const key = rng.bytes(kl);
    const k = new KeyedHmac(h, key);
    for (const dl of dataLens) {
      const data = rng.bytes(dl);
      const want = ref(h, key, data);
      expect(k.hex(data)).toBe(want);
      expect(k.digest(data).toString('hex')).toBe(want);
      expect(k.matches(data, want)).toBe(true);
    }
  });

  test('RFC 2104/2202 style: an empty key equals a zero key', () => {
    const data = Buffer.from('what do ya want for nothing?');
    expect(new KeyedHmac(h, Buffer.alloc(0)).hex(data)).toBe(ref(h, Buffer.alloc(0), data));
    expect(new KeyedHmac(h, Buffer.from('Jefe')).hex(data)).toBe(ref(h, Buffer.from('Jefe'), data));
  });

  test('many random keys and messages', () => {
    const rng = new Rng(0x5eed + h.words);
    for (let i = 0; i < 400; i++) {
      const key = rng.bytes(1 + rng.int(150));
      const data = rng.bytes(rng.int(700));
      const k = new KeyedHmac(h, key);
      const want = ref(h, key, data);
      expect(k.hex(data)).toBe(want);
      // the same object again: no state leaks from one call into the next
      expect(k.matches(data, want)).toBe(true);
    }
  });

  test('a plain hash of the long key is what a >64-byte key means', () => {
    const key = Buffer.alloc(100, 7);
    const data = Buffer.from('x');
    expect(new KeyedHmac(h, key).hex(data)).toBe(ref(h, createHash(h.name).update(key).digest(), data));
  });

  test('matches refuses every near miss', () => {
    const rng = new Rng(99);
    const key = rng.bytes(6);
    const data = rng.bytes(287);
    const k = new KeyedHmac(h, key);
    const want = ref(h, key, data);
    expect(k.matches(data, want.toUpperCase())).toBe(want === want.toUpperCase());
    expect(k.matches(data, want.slice(0, -1))).toBe(false);
    expect(k.matches(data, `${want}0`)).toBe(false);
    expect(k.matches(data, '')).toBe(false);
    for (let i = 0; i < want.length; i++) {
      for (const c of '0123456789abcdefgA \0') {
        if (c === want[i]) continue;
        expect(k.matches(data, want.slice(0, i) + c + want.slice(i + 1))).toBe(false);
      }
    }
    const other = Buffer.from(data);
    other[100] = other[100]! ^ 1;
    expect(k.matches(other, want)).toBe(false);
  });
});
