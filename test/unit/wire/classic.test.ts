import { describe, expect, test } from 'vitest';
import { classicFieldsText, decodeClassic, encodeClassic } from '../../../lib/wire/classic.js';
import { FieldType, HaMsg } from '../../../lib/wire/message.js';
import { HbError } from '../../../lib/util/errors.js';
import { L, decoderChecks, dump, expectRoundTrips, nestedChain } from './gen.js';
import { statusMessage, vectors } from './vectors.js';

const { decodeOk, reason } = decoderChecks(decodeClassic);

describe('classic encoding against the vectors', () => {
  test('digest input of the status heartbeat is byte-exact (spec 2.6)', () => {
    expect(classicFieldsText(statusMessage()).toString('hex')).toBe(vectors.classic_digest_input_hex);
  });

  test('the digest input leaves out every top-level auth field, wherever it is', () => {
    const m = statusMessage();
    m.fields.splice(2, 0, { name: 'auth', type: FieldType.STRING, value: '9 x' });
    m.add('auth', '1 y');
    expect(classicFieldsText(m).toString('hex')).toBe(vectors.classic_digest_input_hex);
    expect(classicFieldsText(m, { exclude: 'ttl' }).toString('latin1')).toContain('auth=1 y\n');
  });

  for (const c of vectors.cases) {
    test(`old-glue ${c.method} datagram = encodeClassic + one NUL, and decodes to the status message`, () => {
      const dgram = Buffer.from(c.classic_datagram_hex_old_glue, 'hex');
      expect(dgram[dgram.length - 1]).toBe(0);
      const m = statusMessage().add('auth', `${c.authnum} ${c.classic_token}`);
      expect(encodeClassic(m).toString('hex')).toBe(dgram.subarray(0, -1).toString('hex'));
      const r = decodeOk(dgram);
      expect(r.end).toBe(dgram.length - 1);
      expect(dump(r.msg)).toEqual(dump(m));
      expect(r.msg.getBinary('srcuuid')?.toString('hex')).toBe('3f2a7c1e8b4d4e5f9a6b1c2d3e4f5a6b');
    });
  }
});

describe('classic value encodings (spec 1.2)', () => {
  test('newline in a string travels as 0x13 and comes back', () => {
    const m = HaMsg.of({ info: 'line1\nline2\n' });
    const b = encodeClassic(m);
    expect(b.toString('latin1')).toBe('>>>\ninfo=line1\x13line2\x13\n<<<\n');
    expect(decodeOk(b).msg.get('info')).toBe('line1\nline2\n');
  });

  test('binary UUID with 0x0a, 0x2c, 0x3a is canonical padded base64 and round-trips', () => {
    const uuid = Buffer.from('0a2c3a00ff0a2c3a00ff0a2c3a00ff0a', 'hex');
    const b = encodeClassic(new HaMsg().addBinary('srcuuid', uuid));
    expect(b.toString('latin1')).toBe(`>>>\n(1)srcuuid=${uuid.toString('base64')}\n<<<\n`);
    expect(uuid.toString('base64')).toHaveLength(24);
    expect(decodeOk(b).msg.getBinary('srcuuid')?.equals(uuid)).toBe(true);
  });

  test('nested struct uses depth markers 0x14, then 0x15 one level down', () => {
    const inner = HaMsg.of({ c: '3' });
    const mid = HaMsg.of({ b: '2' }).addStruct('in', inner);
    const m = HaMsg.of({ a: '1' }).addStruct('mid', mid);
    const text = encodeClassic(m).toString('latin1');
    expect(text).toBe(
      '>>>\na=1\n(2)mid=>>>\x14b=2\x14(2)in=>>>\x15c=3\x15<<<\x15\x14<<<\x14\n<<<\n',
    );
    expect(dump(decodeOk(L(text)).msg)).toEqual(dump(m));
  });

  test('16 levels of nesting round-trip and use markers 0x14..0x1f, 0x0f..0x12', () => {
    const m = nestedChain(16);
    const b = encodeClassic(m);
    for (const c of [0x14, 0x1f, 0x0f, 0x12]) expect(b.includes(c)).toBe(true);
    expect(dump(decodeOk(b).msg)).toEqual(dump(m));
  });

  test('17 levels cannot be encoded (no marker exists): HbError WIRE_UNENCODABLE', () => {
    expect(() => encodeClassic(nestedChain(17))).toThrow(HbError);
    try {
      encodeClassic(nestedChain(17));
    } catch (err) {
      expect((err as HbError).code).toBe('WIRE_UNENCODABLE');
    }
  });

  test('list is <len>:<str>, packing', () => {
    const m = new HaMsg().addList('nodelist', ['node1', 'a,b:c', 'x']);
    const b = encodeClassic(m);
    expect(b.toString('latin1')).toBe('>>>\n(3)nodelist=5:node1,5:a,b:c,1:x,\n<<<\n');
    expect(decodeOk(b).msg.getList('nodelist')).toEqual(['node1', 'a,b:c', 'x']);
  });

  test('a list may not reuse an earlier field name (glue would merge or refuse it)', () => {
    expect(() => encodeClassic(HaMsg.of({ l: 'x' }).addList('l', ['a']))).toThrow(/repeats an earlier field name/);
    expect(() => encodeClassic(new HaMsg().addList('l', ['a']).addList('l', ['b']))).toThrow(/repeats/);
    expect(reason(L('>>>\n(3)l=1:a,\n(3)l=1:b,\n<<<\n'))).toBe('list field repeats an earlier field name ("l") at offset 14');
    expect(reason(L('>>>\nl=x\n(3)l=1:b,\n<<<\n'))).toMatch(/^list field repeats an earlier field name \("l"\)/);
    // The other way round is fine: only adding a list checks earlier names.
    expect(decodeOk(L('>>>\n(3)l=1:b,\nl=x\n<<<\n')).msg.size).toBe(2);
  });

  test('compressed bytes field (type 4) is base64 like binary', () => {
    const m = new HaMsg().addField({ name: 'z', type: FieldType.COMPRESS, value: Buffer.from([1, 2, 3, 4]) });
    expect(encodeClassic(m).toString('latin1')).toBe('>>>\n(4)z=AQIDBA==\n<<<\n');
    expect(dump(decodeOk(encodeClassic(m)).msg)).toEqual(dump(m));
  });

  test('high bytes survive byte-identically (latin1 strings)', () => {
    const raw = L('>>>\nnode=n\xe9\xff\x80\x7f=\r\n<<<\n');
    const r = decodeOk(raw);
    expect(r.msg.get('node')).toBe('n\xe9\xff\x80\x7f=\r');
    expect(encodeClassic(r.msg).equals(raw)).toBe(true);
  });

  test('unencodable messages throw HbError instead of producing ambiguous text', () => {
    expect(() => encodeClassic(HaMsg.of({ a: 'x\0y' }))).toThrow(/NUL/);
    expect(() => encodeClassic(HaMsg.of({ 'a=b': 'x' }))).toThrow(/field name/);
    expect(() => encodeClassic(HaMsg.of({ '': 'x' }))).toThrow(/empty field name/);
    expect(() => encodeClassic(new HaMsg().addList('l', []))).toThrow(/empty list/);
    expect(() => encodeClassic(new HaMsg().addList('l', ['a\nb']))).toThrow(/newline/);
    const child = HaMsg.of({ s: 'has\x14marker' });
    expect(() => encodeClassic(new HaMsg().addStruct('c', child))).toThrow(/depth marker/);
  });

  test('random messages round-trip through classic (2000 seeded cases)', () => {
    expectRoundTrips(0xc1a551c, { classicSafe: true, maxDepth: 4 }, encodeClassic, decodeOk);
  });
});

describe('classic parser rules (spec 1.2)', () => {
  test('CR LF line endings are rejected', () => {
    expect(reason(L('>>>\r\nt=status\r\n<<<\r\n'))).toMatch(/^no classic start marker/);
    expect(reason(L('>>>\nt=status\r\n<<<\r\n'))).toMatch(/without "="/);
  });

  test('empty lines are skipped', () => {
    expect(dump(decodeOk(L('>>>\n\n\nt=a\n\nu=b\n\n<<<\n')).msg)).toEqual([['t', 0, 'a'], ['u', 0, 'b']]);
  });

  test('parsing stops at the first NUL; the NUL ends the line it is on', () => {
    const r = decodeOk(L('>>>\nt=a\nu=b\0c=d\n<<<\n'));
    expect(dump(r.msg)).toEqual([['t', 0, 'a'], ['u', 0, 'b']]);
    expect(r.end).toBe(11);
    expect(dump(decodeOk(L('>>>\nt=a\n\0garbage')).msg)).toEqual([['t', 0, 'a']]);
  });

  test('bytes after <<< are not parsed; end points after the marker', () => {
    const r = decodeOk(L('>>>\nt=a\n<<<\nxyz'));
    expect(r.end).toBe(12);
    expect(r.msg.size).toBe(1);
  });

  test('every line needs "="; empty values are empty strings; duplicates are kept', () => {
    expect(reason(L('>>>\nt=a\nnoequals\n<<<\n'))).toBe('classic line without "=" at offset 8');
    const m = decodeOk(L('>>>\nfoo=\nt=one\nt=two\n<<<\n')).msg;
    expect(m.get('foo')).toBe('');
    expect(m.get('t')).toBe('one');
    expect(m.size).toBe(3);
  });

  test('truncation is rejected', () => {
    const full = encodeClassic(statusMessage().add('auth', '1 b8be2c09'));
    for (let n = 0; n < full.length; n++) {
      const r = decodeClassic(full.subarray(0, n));
      expect(r.ok, `prefix of ${n} bytes`).toBe(false);
    }
    expect(reason(L('>>>\nt=a\n'))).toMatch(/^truncated classic message/);
    expect(reason(L('>>>\nt=a'))).toMatch(/^truncated classic line/);
    expect(reason(L('>>>\nt=a\n<<<'))).toMatch(/^truncated/);
  });

  test('type prefixes: (1)..(4) accepted, (0), (5), (9), (x) and unclosed rejected', () => {
    expect(decodeOk(L('>>>\n(1)b=AA==\n<<<\n')).msg.getBinary('b')?.equals(Buffer.from([0]))).toBe(true);
    for (const bad of ['(0)t=a', '(5)t=a', '(9)t=a', '(x)t=a', '(1t=a', '()=a']) {
      expect(reason(L(`>>>\n${bad}\n<<<\n`)), bad).toMatch(/^bad type prefix|^bad field name/);
    }
  });

  test('bad names and bad base64 are rejected', () => {
    expect(reason(L('>>>\n=a\n<<<\n'))).toMatch(/^bad field name at offset 4: empty field name/);
    expect(reason(L('>>>\n(1)=AA==\n<<<\n'))).toMatch(/empty field name/);
    expect(reason(L(`>>>\n${'n'.repeat(257)}=a\n<<<\n`))).toMatch(/longer than 256/);
    for (const b64 of ['A', 'AA=', 'AA=A', 'A===', '@@@@', 'AAAA====', 'AA AA==']) {
      expect(reason(L(`>>>\n(1)u=${b64}\n<<<\n`)), b64).toMatch(/^bad base64 in field "u"/);
    }
  });

  test('list lengths must be exact, positive and plain decimal', () => {
    for (const bad of ['3:ab,', '2:abc,', '0:,', '01:a,', '-1:a,', '+1:a,', ' 1:a,', '1:a', '1a,', '1:a,x', '9999999999:a,']) {
      expect(reason(L(`>>>\n(3)l=${bad}\n<<<\n`)), bad).toMatch(/^bad list in field "l"/);
    }
    expect(reason(L('>>>\n(3)l=\n<<<\n'))).toMatch(/empty list/);
  });

  test('nested struct: missing markers, trailing bytes and depth 17 are rejected', () => {
    expect(reason(L('>>>\n(2)s=\n<<<\n'))).toMatch(/no classic start marker/);
    expect(reason(L('>>>\n(2)s=>>>\x14a=1\x14\n<<<\n'))).toMatch(/^truncated classic message/);
    expect(reason(L('>>>\n(2)s=>>>\x14a=1\x14<<<\x14x\n<<<\n'))).toMatch(/^bad nested message in field "s"/);
    // A struct field inside the depth-16 message would need a 17th level.
    const text = encodeClassic(nestedChain(16)).toString('latin1').replace('x=leaf', '(2)x=leaf');
    expect(reason(L(text))).toMatch(/^nesting too deep \(more than 16\)/);
  });
});
