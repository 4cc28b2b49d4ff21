import { describe, expect, test } from 'vitest';
import { Authenticator, type Verdict } from '../../../lib/auth/index.js';
import type { AuthKeys } from '../../../lib/config/types.js';
import { HbError } from '../../../lib/util/errors.js';
import { HaMsg, decodeNetstring, encodeClassic, encodeNetstring } from '../../../lib/wire/index.js';
import { dump } from '../wire/gen.js';
import { allKeys, caseKeys, statusMessage, vectors } from '../wire/vectors.js';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const L = (s: string): Buffer => Buffer.from(s, 'latin1');

function keys(active: number, entries: [number, 'crc' | 'md5' | 'sha1', string][]): AuthKeys {
  return { activeNum: active, keys: new Map(entries.map(([num, method, key]) => [num, { num, method, key, line: num }])) };
}

function flip(buf: Buffer, at: number): Buffer {
  const b = Buffer.from(buf);
  b[at]! ^= 0x01;
  return b;
}

const KEY_STRINGS = ['Hello!', 'HI!', 'Different', 'Other', 'NewKey'];
/** Verdicts never carry key material, whatever they say. */
function clean(v: Verdict): Verdict {
  const text = JSON.stringify(v, (_k, val: unknown) => (val instanceof HaMsg ? dump(val) : val));
  for (const k of KEY_STRINGS) expect(text).not.toContain(k);
  return v;
}

describe('sign() reproduces what 3.0.6 sends (spec 2.6)', () => {
  for (const c of vectors.cases) {
    test(`${c.method}: netstring datagram byte for byte (${c.netstring_datagram_len} bytes)`, () => {
      const a = new Authenticator(caseKeys(c), { msgfmt: 'classic' });
      const m = statusMessage();
      const before = dump(m);
      const out = a.sign(m);
      expect(out.toString('hex')).toBe(c.netstring_datagram_hex);
      expect(dump(m)).toEqual(before);
      expect(a.signClassic(m).toString('hex')).toBe(c.classic_datagram_hex_old_glue.slice(0, -2));
      expect(dump(m)).toEqual(before);
    });
  }

  test('an existing auth field is replaced in place, not duplicated', () => {
    const c = vectors.cases[0]!;
    const a = new Authenticator(caseKeys(c), { msgfmt: 'classic' });
    const m = statusMessage();
    m.fields.splice(1, 0, { name: 'auth', type: 0, value: '7 stale' });
    const r = decodeNetstring(a.sign(m));
    if (!r.ok) throw new Error(r.reason);
    expect(r.msg.fields[1]).toEqual({ name: 'auth', type: 0, value: `1 ${c.classic_token}` });
    expect(r.msg.fields.filter((f) => f.name === 'auth')).toHaveLength(1);
  });

  test('msgfmt netstring: no inner auth field, only the trailer', () => {
    const a = new Authenticator(allKeys(3), { msgfmt: 'netstring' });
    const out = a.sign(statusMessage());
    const r = decodeNetstring(out);
    if (!r.ok) throw new Error(r.reason);
    expect(r.msg.has('auth')).toBe(false);
    expect(out.subarray(0, r.bodyEnd).equals(encodeNetstring(statusMessage()))).toBe(true);
    expect(r.trailer).toMatch(/^3 [0-9a-f]{40}$/);
    expect(clean(a.verify(out))).toMatchObject({ verdict: 'ok', format: 'netstring', authNum: 3 });
  });

  test('struct fields force netstring-only signing (glue must_use_netstring)', () => {
    const a = new Authenticator(allKeys(2), { msgfmt: 'classic' });
    const m = statusMessage().addStruct('sub', HaMsg.of({ a: '1' }));
    const r = decodeNetstring(a.sign(m));
    if (!r.ok) throw new Error(r.reason);
    expect(r.msg.has('auth')).toBe(false);
    expect(a.verify(a.sign(m)).verdict).toBe('ok');
  });
});

describe('verify() verdicts', () => {
  for (const c of vectors.cases) {
    test(`${c.method}: vector netstring and old-glue classic datagrams are ok`, () => {
      const a = new Authenticator(caseKeys(c), { msgfmt: 'classic' });
      const n = clean(a.verify(hex(c.netstring_datagram_hex)));
      expect(n).toMatchObject({ verdict: 'ok', format: 'netstring', authNum: c.authnum });
      const k = clean(a.verify(hex(c.classic_datagram_hex_old_glue)));
      expect(k).toMatchObject({ verdict: 'ok', format: 'classic', authNum: c.authnum });
      if (n.verdict === 'ok') expect(n.msg.get('st')).toBe('active');
      // Serial links carry the same text without the NUL.
      expect(a.verify(hex(c.classic_datagram_hex_old_glue).subarray(0, -1)).verdict).toBe('ok');
    });

    test(`${c.method}: one flipped byte of "active" is bad-digest in both formats`, () => {
      const a = new Authenticator(caseKeys(c), { msgfmt: 'classic' });
      for (const h of [c.netstring_datagram_hex, c.classic_datagram_hex_old_glue]) {
        const buf = hex(h);
        const at = buf.indexOf('active');
        expect(clean(a.verify(flip(buf, at + 2)))).toEqual({ verdict: 'bad-digest', authNum: c.authnum });
      }
      const buf = hex(c.netstring_datagram_hex);
      expect(a.verify(flip(buf, buf.length - 3)).verdict).toBe('bad-digest');
    });
  }

  test('a number the receiver does not have is unknown-key', () => {
    const a = new Authenticator(keys(5, [[5, 'sha1', 'Other']]), { msgfmt: 'classic' });
    for (const c of vectors.cases) {
      expect(clean(a.verify(hex(c.netstring_datagram_hex)))).toEqual({ verdict: 'unknown-key', authNum: c.authnum });
      expect(clean(a.verify(hex(c.classic_datagram_hex_old_glue)))).toEqual({ verdict: 'unknown-key', authNum: c.authnum });
    }
    expect(a.verify(L('>>>\nt=x\nauth=99 abc\n<<<\n'))).toEqual({ verdict: 'unknown-key', authNum: 99 });
  });

  test('garbage and broken auth data are malformed, with a reason', () => {
    const a = new Authenticator(allKeys(1), { msgfmt: 'classic' });
    const body = encodeNetstring(statusMessage()).toString('latin1');
    const cases: [string, RegExp][] = [
      ['', /^datagram too short/],
      ['hello world', /^unknown wire format/],
      ['>>>\nt=x\n<<<\n', /^missing auth field/],
      ['>>>\nt=x\nauth=1 a\nauth=1 b\n<<<\n', /^2 auth fields/],
      ['>>>\nt=x\nauth=1\n<<<\n', /^bad auth field/],
      ['>>>\nt=x\nauth= 1 abc\n<<<\n', /^bad auth field/],
      ['>>>\nt=x\nauth=01 abc\n<<<\n', /^bad auth field/],
      ['>>>\nt=x\nauth=1 abc def\n<<<\n', /^bad auth field/],
      ['>>>\n(1)auth=AA==\n<<<\n', /^bad auth field/],
      [body, /^missing auth trailer/],
      [`${body}5:1 abc`, /^bad auth trailer/],
      [`${body}6:1  abc,`, /^bad auth trailer/],
      [`${body}5:+1 ab,`, /^bad auth trailer/],
    ];
    for (const [input, re] of cases) {
      const v = clean(a.verify(L(input)));
      expect(v.verdict, JSON.stringify(input)).toBe('malformed');
      if (v.verdict === 'malformed') expect(v.reason, JSON.stringify(input)).toMatch(re);
    }
  });

  test('classic input must be canonical: blank lines, junk after <<<, non-canonical base64 are malformed', () => {
    const c = vectors.cases[1]!;
    const a = new Authenticator(caseKeys(c), { msgfmt: 'classic' });
    const good = hex(c.classic_datagram_hex_old_glue).toString('latin1');
    const variants = [
      good.replace('t=status\n', 't=status\n\n'),
      `${good}x`,
      `${good}\0`,
      good.slice(0, -1) + 'x',
      good.replace('aaw==', 'aax=='),
    ];
    for (const v of variants) {
      const r = a.verify(L(v));
      expect(r.verdict, JSON.stringify(v)).toBe('malformed');
    }
  });

  test('key rotation: classic input signed with a non-active key of the ring is ok', () => {
    const sender = new Authenticator(allKeys(2), { msgfmt: 'classic' });
    const receiver = new Authenticator(allKeys(3), { msgfmt: 'classic' });
    const dgram = sender.signClassic(statusMessage());
    expect(clean(receiver.verify(dgram))).toMatchObject({ verdict: 'ok', format: 'classic', authNum: 2 });
    // Netstring with the sender's own number and key in the ring is ok too.
    expect(receiver.verify(sender.sign(statusMessage()))).toMatchObject({ verdict: 'ok', authNum: 2 });
  });

  test("netstring quirk (spec 2.4): the trailer's algorithm with the receiver's active key is accepted", () => {
    const sender = new Authenticator(keys(2, [[2, 'md5', 'Hello!']]), { msgfmt: 'classic' });
    const dgram = sender.sign(statusMessage());
    const quirky = new Authenticator(keys(3, [[2, 'md5', 'Different'], [3, 'sha1', 'Hello!']]), { msgfmt: 'classic' });
    expect(clean(quirky.verify(dgram))).toMatchObject({ verdict: 'ok', authNum: 2 });
    const neither = new Authenticator(keys(3, [[2, 'md5', 'Different'], [3, 'sha1', 'Other']]), { msgfmt: 'classic' });
    expect(clean(neither.verify(dgram))).toEqual({ verdict: 'bad-digest', authNum: 2 });
    // Classic input has no such quirk: the number's own key decides.
    expect(quirky.verify(sender.signClassic(statusMessage()))).toEqual({ verdict: 'bad-digest', authNum: 2 });
  });

  test('the inner classic auth field of a netstring datagram is not checked', () => {
    const a = new Authenticator(allKeys(3), { msgfmt: 'netstring' });
    const dgram = a.sign(statusMessage().add('auth', '9 not-a-real-token'));
    expect(a.verify(dgram).verdict).toBe('ok');
  });

  test('a token of the wrong length is bad-digest', () => {
    const a = new Authenticator(allKeys(1), { msgfmt: 'classic' });
    const body = encodeNetstring(statusMessage()).toString('latin1');
    expect(a.verify(L(`${body}${'1 abc'.length}:1 abc,`))).toEqual({ verdict: 'bad-digest', authNum: 1 });
    const m = statusMessage().add('auth', '3 00');
    expect(a.verify(encodeClassic(m))).toEqual({ verdict: 'bad-digest', authNum: 3 });
  });
});

describe('counters, reload, construction', () => {
  test('every verdict is counted; noteReplay counts replays; snapshot is a copy', () => {
    const c = vectors.cases[2]!;
    const a = new Authenticator(caseKeys(c), { msgfmt: 'classic' });
    a.verify(hex(c.netstring_datagram_hex));
    a.verify(hex(c.classic_datagram_hex_old_glue));
    a.verify(L('junk'));
    a.verify(flip(hex(c.netstring_datagram_hex), 10));
    a.verify(hex(vectors.cases[0]!.netstring_datagram_hex));
    a.noteReplay();
    const snap = a.snapshot();
    expect(snap).toEqual({ ok: 2, malformed: 1, 'unknown-key': 1, 'bad-digest': 1, replay: 1 });
    a.noteReplay();
    expect(snap.replay).toBe(1);
    expect(a.counters.replay).toBe(2);
  });

  test('setKeys: a reloaded ring replaces the old one; a bad ring throws and keeps the old one', () => {
    const a = new Authenticator(allKeys(1), { msgfmt: 'classic' });
    const oldDgram = a.sign(statusMessage());
    a.setKeys(keys(4, [[4, 'sha1', 'NewKey']]));
    expect(a.activeNum).toBe(4);
    expect(a.isCrc()).toBe(false);
    expect(a.verify(oldDgram)).toEqual({ verdict: 'unknown-key', authNum: 1 });
    expect(a.verify(a.sign(statusMessage())).verdict).toBe('ok');
    expect(() => a.setKeys(keys(7, [[4, 'sha1', 'NewKey']]))).toThrow(HbError);
    expect(a.activeNum).toBe(4);
  });

  test('construction refuses a ring without the active key or with a keyless HMAC; messages name no key', () => {
    for (const ring of [keys(2, [[1, 'sha1', 'Other']]), keys(1, [[1, 'md5', '']])]) {
      try {
        new Authenticator(ring, { msgfmt: 'classic' });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(HbError);
        expect((err as HbError).code).toBe('AUTH_BAD_KEYS');
        expect((err as HbError).message).not.toContain('Other');
      }
    }
  });

  test('isCrc reports the active method', () => {
    expect(new Authenticator(allKeys(1), { msgfmt: 'classic' }).isCrc()).toBe(true);
    expect(new Authenticator(allKeys(2), { msgfmt: 'classic' }).isCrc()).toBe(false);
  });
});
