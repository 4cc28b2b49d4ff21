import { describe, expect, test } from 'vitest';
import { decodeNetstring, encodeNetstring } from '../../../lib/wire/netstring.js';
import { FieldType, HaMsg } from '../../../lib/wire/message.js';
import { HbError } from '../../../lib/util/errors.js';
import { L, decoderChecks, dump, expectRoundTrips, nestedChain } from './gen.js';
import { statusMessage, vectors } from './vectors.js';

const { decodeOk, reason } = decoderChecks(decodeNetstring);

/** `<n>:<s>,` */
const ns = (s: string): string => `${Buffer.byteLength(s, 'latin1')}:${s},`;

describe('netstring against the vectors (spec 2.6)', () => {
  for (const c of vectors.cases) {
    test(`${c.method}: body encodes byte-exact, datagram decodes with bodyEnd and trailer`, () => {
      const dgram = Buffer.from(c.netstring_datagram_hex, 'hex');
      expect(dgram.length).toBe(c.netstring_datagram_len);
      const m = statusMessage().add('auth', `${c.authnum} ${c.classic_token}`);
      const body = encodeNetstring(m);
      const trailer = `${c.authnum} ${c.netstring_trailer_token}`;
      expect(Buffer.concat([body, L(ns(trailer))]).toString('hex')).toBe(c.netstring_datagram_hex);
      const r = decodeOk(dgram);
      expect(r.bodyEnd).toBe(body.length);
      expect(r.trailer).toBe(trailer);
      expect(dump(r.msg)).toEqual(dump(m));
      expect(encodeNetstring(r.msg).equals(dgram.subarray(0, r.bodyEnd))).toBe(true);
    });
  }

  test('a body without trailer decodes with no trailer', () => {
    const body = encodeNetstring(statusMessage());
    const r = decodeOk(body);
    expect(r.bodyEnd).toBe(body.length);
    expect(r.trailer).toBeUndefined();
  });
});

describe('netstring value encodings (spec 1.3)', () => {
  test('every field carries its (t) prefix and raw bytes', () => {
    const uuid = Buffer.from('0a2c3a0a2c3a0a2c3a0a2c3a0a2c3a00', 'hex');
    const m = HaMsg.of({ t: 'a\nb,c:d=e' }).addBinary('u', uuid).addList('l', ['ab', 'c']);
    const b = encodeNetstring(m);
    expect(b.toString('latin1')).toBe(
      `###\n${ns('(0)t=a\nb,c:d=e')}${ns(`(1)u=${uuid.toString('latin1')}`)}${ns('(3)l=2:ab,1:c,')}%%%\n`,
    );
    const r = decodeOk(b);
    expect(dump(r.msg)).toEqual(dump(m));
    expect(r.msg.getBinary('u')?.equals(uuid)).toBe(true);
  });

  test('nested struct is a nested ###/%%% message without trailer', () => {
    const m = HaMsg.of({ a: '1' }).addStruct('s', HaMsg.of({ b: '2' }));
    const inner = `###\n${ns('(0)b=2')}%%%\n`;
    expect(encodeNetstring(m).toString('latin1')).toBe(`###\n${ns('(0)a=1')}${ns(`(2)s=${inner}`)}%%%\n`);
    expect(dump(decodeOk(encodeNetstring(m)).msg)).toEqual(dump(m));
  });

  test('depth 16 round-trips; depth 17 is refused by the encoder and the decoder', () => {
    const m = nestedChain(16);
    expect(dump(decodeOk(encodeNetstring(m)).msg)).toEqual(dump(m));
    expect(() => encodeNetstring(nestedChain(17))).toThrow(HbError);
    // Build the 17-level text by hand: wrap the 16-level body once more.
    const body16 = encodeNetstring(m).toString('latin1');
    const deeper = `###\n${ns(`(2)s=${body16}`)}%%%\n`;
    expect(reason(L(deeper))).toMatch(/^nesting too deep \(more than 16\)/);
  });

  test('empty string and empty binary values are legal', () => {
    const m = HaMsg.of({ e: '' }).addBinary('b', Buffer.alloc(0));
    expect(dump(decodeOk(encodeNetstring(m)).msg)).toEqual(dump(m));
  });

  test('unencodable messages throw HbError', () => {
    expect(() => encodeNetstring(HaMsg.of({ a: 'x\0' }))).toThrow(/NUL/);
    expect(() => encodeNetstring(HaMsg.of({ 'a=b': 'x' }))).toThrow(/field name/);
    expect(() => encodeNetstring(new HaMsg().addList('l', ['']))).toThrow(/empty list element/);
  });

  test('random messages round-trip byte-identically (2000 seeded cases, any byte but NUL in strings)', () => {
    expectRoundTrips(0x5eed0001, { classicSafe: false, maxDepth: 5 }, encodeNetstring, decodeOk);
  });
});

describe('netstring parser rejections', () => {
  const item = ns('(0)t=status');
  test('lengths: no sign, no spaces, no leading zeros, not too long, must fit', () => {
    expect(reason(L(`###\nx${item}%%%\n`))).toBe('bad netstring length at offset 4');
    for (const len of ['+11', ' 11', '011', '-11', '', '11 ', '99999999999999999999', '4294967307']) {
      expect(reason(L(`###\n${len}:(0)t=status,%%%\n`)), JSON.stringify(len)).toMatch(/^bad netstring length at offset 4|overruns/);
    }
    expect(reason(L('###\n12:(0)t=status,%%%\n'))).toMatch(/^missing "," after netstring item at offset 19/);
    expect(reason(L('###\n10:(0)t=status,%%%\n'))).toMatch(/^missing ","/);
    expect(reason(L('###\n999:(0)t=status,%%%\n'))).toMatch(/^netstring item overruns its message at offset 4/);
  });

  test('truncation anywhere is rejected', () => {
    const body = encodeNetstring(statusMessage());
    for (let n = 0; n < body.length; n++) expect(decodeNetstring(body.subarray(0, n)).ok, `${n}`).toBe(false);
  });

  test('items: type prefix, "=", names, NUL in strings', () => {
    expect(reason(L(`###\n${ns('t=status')}%%%\n`))).toMatch(/^bad type prefix/);
    expect(reason(L(`###\n${ns('(5)t=x')}%%%\n`))).toMatch(/^bad type prefix/);
    expect(reason(L(`###\n${ns('(0)tstatus')}%%%\n`))).toMatch(/without "="/);
    expect(reason(L(`###\n${ns('(0)=x')}%%%\n`))).toMatch(/empty field name/);
    expect(reason(L(`###\n${ns('(0)a\nb=x')}%%%\n`))).toMatch(/bad byte 0xa in field name/);
    expect(reason(L(`###\n${ns('(0)t=a\0b')}%%%\n`))).toMatch(/^NUL in string field "t"/);
    expect(reason(L(`###\n${ns('(3)l=2:a,')}%%%\n`))).toMatch(/^bad list in field "l"/);
  });

  test('a list may not reuse an earlier field name', () => {
    expect(() => encodeNetstring(HaMsg.of({ l: 'x' }).addList('l', ['a']))).toThrow(/repeats an earlier field name/);
    expect(reason(L(`###\n${ns('(0)l=x')}${ns('(3)l=1:a,')}%%%\n`))).toBe('list field repeats an earlier field name ("l") at offset 13');
  });

  test('nested message must fill its item exactly', () => {
    const inner = `###\n${ns('(0)b=2')}%%%\n`;
    expect(reason(L(`###\n${ns(`(2)s=${inner}x`)}%%%\n`))).toMatch(/^bad nested message in field "s"/);
    expect(reason(L(`###\n${ns(`(2)s=${inner.slice(0, -4)}`)}%%%\n`))).toMatch(/^truncated netstring message/);
  });

  test('trailer: exactly one well-formed item, nothing after it, at most 64 bytes', () => {
    const body = encodeNetstring(statusMessage()).toString('latin1');
    expect(decodeOk(L(`${body}${ns('1 abc')}`)).trailer).toBe('1 abc');
    expect(reason(L(`${body}${ns('1 abc')}x`))).toMatch(/^trailing bytes after auth trailer/);
    expect(reason(L(`${body}${ns('1 abc')}\0`))).toMatch(/^trailing bytes after auth trailer/);
    expect(reason(L(`${body}5:1 abc`))).toMatch(/^bad auth trailer/);
    expect(reason(L(`${body}x`))).toMatch(/^bad auth trailer: bad netstring length/);
    expect(reason(L(`${body}${ns(`1 ${'a'.repeat(63)}`)}`))).toMatch(/longer than 64/);
  });

  test('compressed-bytes field (type 4) decodes as raw bytes', () => {
    const m = decodeOk(L(`###\n${ns('(4)z=\x00\x01')}%%%\n`)).msg;
    expect(m.getField('z')).toEqual({ name: 'z', type: FieldType.COMPRESS, value: Buffer.from([0, 1]) });
  });
});
