import { describe, expect, test } from 'vitest';
import {
  COMPRESSED_PAYLOAD, FieldType, HaMsg, MAXMSG, MAX_FIELDS,
  decodeDatagram, encodeClassic, encodeNetstring,
} from '../../../lib/wire/index.js';
import { dump, nestedChain } from './gen.js';
import { statusMessage, vectors } from './vectors.js';

const L = (s: string): Buffer => Buffer.from(s, 'latin1');

function reason(buf: Buffer): string {
  const r = decodeDatagram(buf);
  if (r.ok) throw new Error('expected a rejection');
  return r.reason;
}

/** A netstring body of exactly `size` bytes holding one padded string field. */
function netstringOfSize(size: number): Buffer {
  // ###\n + <n>:(0)p=<pad>, + %%%\n; n has 6 digits for the sizes used here.
  const overhead = 4 + 6 + 1 + 5 + 1 + 4;
  return encodeNetstring(HaMsg.of({ p: 'x'.repeat(size - overhead) }));
}

describe('decodeDatagram dispatch (spec 1.4)', () => {
  test('first four bytes choose the parser; both vector formats decode to the same fields', () => {
    for (const c of vectors.cases) {
      const n = decodeDatagram(Buffer.from(c.netstring_datagram_hex, 'hex'));
      const k = decodeDatagram(Buffer.from(c.classic_datagram_hex_old_glue, 'hex'));
      if (!n.ok || !k.ok) throw new Error('vector rejected');
      expect(n.format).toBe('netstring');
      expect(k.format).toBe('classic');
      expect(dump(n.msg)).toEqual(dump(k.msg));
    }
  });

  test('anything else is an unknown format; short input is refused', () => {
    expect(reason(L('GET / HTTP/1.0\r\n'))).toBe('unknown wire format (first bytes 47455420)');
    expect(reason(L('>>>\r\nt=a\r\n<<<\r\n'))).toMatch(/^unknown wire format/);
    expect(reason(L('<<<\n'))).toMatch(/^unknown wire format/);
    expect(reason(L('###'))).toBe('datagram too short (3 bytes)');
    expect(reason(Buffer.alloc(0))).toBe('datagram too short (0 bytes)');
    expect(reason('not a buffer' as unknown as Buffer)).toBe('not a buffer');
  });
});

describe('limits', () => {
  test(`a datagram of MAXMSG (${MAXMSG}) bytes is accepted, one more byte is refused`, () => {
    const max = netstringOfSize(MAXMSG);
    expect(max.length).toBe(MAXMSG);
    expect(decodeDatagram(max).ok).toBe(true);
    const over = netstringOfSize(MAXMSG + 1);
    expect(over.length).toBe(MAXMSG + 1);
    expect(reason(over)).toBe(`datagram too large (${MAXMSG + 1} bytes, limit ${MAXMSG})`);
  });

  test(`at most ${MAX_FIELDS} fields, nested ones included`, () => {
    const flat = new HaMsg();
    for (let i = 0; i < MAX_FIELDS; i++) flat.add('a', '');
    expect(decodeDatagram(encodeNetstring(flat)).ok).toBe(true);
    expect(decodeDatagram(encodeClassic(flat)).ok).toBe(true);
    flat.add('a', '');
    expect(reason(encodeNetstring(flat))).toMatch(/^too many fields/);
    expect(reason(encodeClassic(flat))).toMatch(/^too many fields/);
    const nested = new HaMsg();
    const child = new HaMsg();
    for (let i = 0; i < MAX_FIELDS; i++) child.add('a', '');
    nested.addStruct('s', child);
    expect(reason(encodeNetstring(nested))).toMatch(/^too many fields/);
  });

  test('nesting: depth 16 accepted in both formats, 17 refused', () => {
    expect(decodeDatagram(encodeNetstring(nestedChain(16))).ok).toBe(true);
    expect(decodeDatagram(encodeClassic(nestedChain(16))).ok).toBe(true);
    const deeper = `###\n${Buffer.byteLength(`(2)s=${encodeNetstring(nestedChain(16)).toString('latin1')}`, 'latin1')}:(2)s=${encodeNetstring(nestedChain(16)).toString('latin1')},%%%\n`;
    expect(reason(L(deeper))).toMatch(/^nesting too deep/);
  });

  test('compressed messages are refused with a clear reason; a plain type-4 field is not', () => {
    const wrapped = new HaMsg()
      .addField({ name: COMPRESSED_PAYLOAD, type: FieldType.BINARY, value: Buffer.from([0x78, 0x9c]) })
      .add('_compression_algorithm', 'zlib');
    expect(reason(encodeNetstring(wrapped))).toBe('compressed message not supported');
    expect(reason(encodeClassic(wrapped))).toBe('compressed message not supported');
    const field = new HaMsg().addField({ name: 'z', type: FieldType.COMPRESS, value: Buffer.from([1]) });
    expect(decodeDatagram(encodeNetstring(field)).ok).toBe(true);
  });
});

describe('HaMsg helpers used by the codecs', () => {
  test('getStruct/getList return only fields of that type; mod keeps position', () => {
    const m = statusMessage().addStruct('s', HaMsg.of({ a: '1' })).addList('l', ['x']);
    expect(m.getStruct('s')?.get('a')).toBe('1');
    expect(m.getList('l')).toEqual(['x']);
    expect(m.getStruct('l')).toBeUndefined();
    expect(m.getList('t')).toBeUndefined();
    m.mod('st', 'dead');
    expect(m.fields[1]).toEqual({ name: 'st', type: 0, value: 'dead' });
  });
});
