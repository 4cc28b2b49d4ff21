import { describe, expect, it } from 'vitest';
import { parseAuthKeys } from '../../../lib/config/authkeys.js';
import type { ConfigProblem } from '../../../lib/config/types.js';

const FILE = '/etc/ha.d/authkeys';
const SECRET = 'TopSecretKey42';

function parse(text: string, mode = 0o100600): ReturnType<typeof parseAuthKeys> {
  return parseAuthKeys(text, { file: FILE, mode });
}

function codes(problems: ConfigProblem[]): [string, number][] {
  return problems.map((p) => [p.code, p.line]);
}

describe('authkeys', () => {
  it('reads keys and the active key', () => {
    const r = parse(`# comment\n\n  auth 1\n1 sha1 ${SECRET}\n2 md5 other\n3 crc\n`);
    expect(codes(r.problems)).toEqual([['AUTH_CRC_FORGEABLE', 6]]);
    expect(r.value?.activeNum).toBe(1);
    expect([...(r.value?.keys.values() ?? [])]).toEqual([
      { num: 1, method: 'sha1', key: SECRET, line: 4 },
      { num: 2, method: 'md5', key: 'other', line: 5 },
      { num: 3, method: 'crc', key: '', line: 6 },
    ]);
  });

  it('accepts 0600, 0400 and 0700 and rejects group/other-readable files', () => {
    for (const mode of [0o100600, 0o100400, 0o100700, 0o100622]) {
      expect(parse('auth 1\n1 crc\n', mode).problems.map((p) => p.severity), mode.toString(8)).toEqual(['warning']);
    }
    for (const mode of [0o100644, 0o100640, 0o100604]) {
      const r = parse('auth 1\n1 crc\n', mode);
      expect(r.value).toBeUndefined();
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toMatchObject({ code: 'AUTH_BAD_PERMISSIONS', line: 0, severity: 'error', file: FILE });
      expect(r.problems[0]?.message).toMatch(/^Bad permissions on keyfile \[\/etc\/ha\.d\/authkeys\], 600 recommended\./);
    }
  });

  it('needs the auth line before its key line: `auth 3` without a following line 3', () => {
    const r = parse(`3 sha1 ${SECRET}\nauth 3\n`);
    expect(r.value).toBeUndefined();
    expect(codes(r.problems)).toEqual([['AUTH_KEY_NOT_FOUND', 0]]);
    expect(r.problems[0]?.message).toMatch(/^Auth Key \[3\] not found in keyfile \[\/etc\/ha\.d\/authkeys\]/);
    expect(codes(parse('auth 3\n1 crc\n').problems)).toEqual([['AUTH_KEY_NOT_FOUND', 0]]);
  });

  it('binds the number of the last auth line that a key line followed', () => {
    expect(parse('auth 1\n1 crc\nauth 2\n2 md5 k\n').value?.activeNum).toBe(2);
    // heartbeat keeps the earlier binding when a later auth line has no key line after it
    expect(parse('auth 1\n1 crc\nauth 2\n').value?.activeNum).toBe(1);
  });

  it('requires an auth line', () => {
    const r = parse('1 crc\n');
    expect(codes(r.problems)).toEqual([['AUTH_MISSING_AUTH', 0]]);
    expect(r.problems[0]?.message).toMatch(/^Missing auth directive in keyfile \[\/etc\/ha\.d\/authkeys\]/);
  });

  it.each([
    ['auth one', 'AUTH_BAD_AUTH_LINE', /^Invalid auth line in \/etc\/ha\.d\/authkeys/],
    ['abc', 'AUTH_BAD_AUTH_LINE', /^Invalid auth line/],
    ['16 crc', 'AUTH_BAD_NUM', /^Invalid authnum \[16\] in \/etc\/ha\.d\/authkeys: key numbers are 0-15/],
    ['-1 crc', 'AUTH_BAD_NUM', /^Invalid authnum \[-1\]/],
    [`1 sha256 ${SECRET}`, 'AUTH_BAD_TYPE', /^Invalid authtype \[sha256\]: the method must be crc, md5 or sha1/],
    [`1 SHA1 ${SECRET}`, 'AUTH_BAD_TYPE', /^Invalid authtype \[SHA1\]/],
    [`1 crc ${SECRET}`, 'AUTH_KEY_NOT_USED', /^Auth method \[crc\] doesn't use a key/],
    ['1 md5', 'AUTH_KEY_REQUIRED', /^Auth method \[md5\] requires a key$/],
    ['1 sha1', 'AUTH_KEY_REQUIRED', /^Auth method \[sha1\] requires a key$/],
    [`${SECRET} sha1`, 'AUTH_BAD_LINE', /^Auth line is invalid/],
    ['1', 'AUTH_BAD_LINE', /^Auth line is invalid/],
  ])('%s -> %s at its line', (line, code, re) => {
    const r = parse(`auth 0\n0 crc\n${line}\n`);
    expect(r.value).toBeUndefined();
    expect(codes(r.problems)).toEqual([[code, 3]]);
    expect(r.problems[0]?.message).toMatch(re);
  });

  it('never shows a key in a message', () => {
    const texts = [
      `auth 1\n1 crc ${SECRET}\n`, `auth 1\nx sha1 ${SECRET}\n`, `auth 1\n17 sha1 ${SECRET}\n`,
      `auth 1\n1 foo ${SECRET}\n`, `a${SECRET}\n1 crc\n`, `auth 1\n2 sha1 ${SECRET}\n`,
    ];
    for (const t of texts) {
      const r = parse(t);
      expect(r.problems.length).toBeGreaterThan(0);
      for (const p of r.problems) expect(p.message).not.toContain(SECRET);
    }
  });

  it('reads numbers and words the way sscanf("%d%s%s") does', () => {
    const r = parse('auth 1 trailing ignored\n1sha1 k extra words\n');
    expect(r.problems).toEqual([]);
    expect(r.value?.keys.get(1)).toEqual({ num: 1, method: 'sha1', key: 'k', line: 2 });
    expect(codes(parse('auth 1\n123\n').problems)).toEqual([['AUTH_BAD_LINE', 2], ['AUTH_KEY_NOT_FOUND', 0]]);
  });

  it('issue 17: warns at each crc line (file:line, warning) and still accepts the file', () => {
    const r = parse('auth 2\n1 crc\n2 sha1 k\n');
    expect(r.value?.activeNum).toBe(2);
    expect(r.problems).toEqual([expect.objectContaining({ file: FILE, line: 2, severity: 'warning', code: 'AUTH_CRC_FORGEABLE' })]);
    expect(r.problems[0]?.message).toMatch(/anyone who can send to the cluster's port can forge messages/);
    expect(parse('auth 1\n1 sha1 k\n').problems).toEqual([]);
  });
});
