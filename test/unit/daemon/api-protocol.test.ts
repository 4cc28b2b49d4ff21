import { describe, expect, it } from 'vitest';
import { authLineFor, authorize, parseIdFile, type IdTables } from '../../../daemon/api/auth.js';
import { LineSplitter, parseRequest, parseServerLine } from '../../../daemon/api/types.js';
import type { ApiAuthLine } from '../../../lib/config/types.js';

describe('API request validation', () => {
  it('accepts every documented request shape', () => {
    const lines = [
      { id: 1, op: 'signon' }, { id: 2, op: 'signon', client: 'ipfail' }, { id: 3, op: 'nodelist' },
      { id: 4, op: 'nodestatus', node: 'n1' }, { id: 5, op: 'ifstatus', node: 'n1', link: 'eth0' },
      { id: 6, op: 'clientstatus', node: 'n1', client: 'ipfail', timeoutMs: 500 }, { id: 7, op: 'parameter', name: 'deadtime' },
      { id: 8, op: 'send', fields: [['t', 'x']], node: 'n2' }, { id: 9, op: 'subscribe' }, { id: 10, op: 'rscstatus' },
    ];
    for (const l of lines) {
      const r = parseRequest(JSON.stringify(l));
      expect(r.ok, JSON.stringify(l)).toBe(true);
      if (r.ok) expect(r.req).toEqual(l);
    }
  });

  it('refuses malformed requests with a reason, and the id when there is one', () => {
    expect(parseRequest('nope')).toEqual({ ok: false, id: undefined, reason: 'request is not JSON' });
    expect(parseRequest('[1]')).toMatchObject({ ok: false, id: undefined });
    expect(parseRequest('{"op":"nodelist"}')).toMatchObject({ ok: false, reason: 'request without a numeric id' });
    expect(parseRequest('{"id":-1,"op":"nodelist"}')).toMatchObject({ ok: false, id: undefined });
    expect(parseRequest('{"id":3,"op":"nodestatus"}')).toEqual({ ok: false, id: 3, reason: 'nodestatus: node must be a name (1 to 255 characters, no control characters)' });
    expect(parseRequest('{"id":3,"op":"nodestatus","node":"a\\nCRIT: forged"}')).toMatchObject({ ok: false, id: 3 });
    expect(parseRequest(JSON.stringify({ id: 3, op: 'parameter', name: 'x'.repeat(256) }))).toMatchObject({ ok: false, id: 3 });
    expect(parseRequest('{"id":3,"op":"send","fields":[["t"]]}')).toMatchObject({ ok: false, id: 3 });
    expect(parseRequest('{"id":3,"op":"send","fields":[["t",1]]}')).toMatchObject({ ok: false, id: 3 });
    expect(parseRequest('{"id":3,"op":"clientstatus","node":"a","client":"b","timeoutMs":"5"}')).toMatchObject({ ok: false, id: 3 });
    expect(parseRequest('{"id":3,"op":"signon","client":7}')).toMatchObject({ ok: false, id: 3 });
    expect(parseRequest('{"id":4,"op":"frobnicate"}')).toEqual({ ok: false, id: 4, reason: 'unknown request "frobnicate"' });
    // an op is echoed into a log line: escaped and cut short
    expect(parseRequest(JSON.stringify({ id: 5, op: 'x\nCRIT: Resource STOP failure. Reboot required!' }))).toEqual({
      ok: false, id: 5, reason: 'unknown request "x\\nCRIT: Resource STOP failure. Reboot required!"',
    });
    expect(parseRequest(JSON.stringify({ id: 6, op: 'y'.repeat(100000) }))).toEqual({ ok: false, id: 6, reason: `unknown request "${'y'.repeat(64)}...(100000 chars)"` });
  });

  it('tells replies from events and drops anything else', () => {
    expect(parseServerLine('{"id":1,"ok":true,"status":"up"}')).toEqual({ reply: { id: 1, ok: true, status: 'up' } });
    expect(parseServerLine('{"id":1,"ok":false}')).toBeUndefined();
    expect(parseServerLine('{"event":"ifstatus","node":"a","link":"eth0","status":"dead"}')).toMatchObject({ event: { event: 'ifstatus' } });
    expect(parseServerLine('{"x":1}')).toBeUndefined();
    expect(parseServerLine('garbage')).toBeUndefined();
  });

  it('splits lines across chunks and refuses over-long ones', () => {
    const s = new LineSplitter(10);
    expect(s.push('{"a"')).toEqual([]);
    expect(s.push(':1}\n\n{"b":2}\n{')).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.push('0123456789abc')).toBeUndefined();
  });
});

describe('apiauth decisions', () => {
  const ids: IdTables = {
    users: parseIdFile('root:x:0:0::/root:/bin/sh\nhacluster:x:102:105::/x:/bin/false\nnobody:x:65534:65534::/:/bin/false\n'),
    groups: parseIdFile('root:x:0:\nhaclient:x:105:\nnogroup:x:65534:\n'),
  };
  const lines: ApiAuthLine[] = [
    { client: 'ipfail', uids: ['hacluster'], gids: [], line: 0 },
    { client: 'anon', uids: ['root'], gids: ['haclient'], line: 0 },
    { client: 'numeric', uids: ['4242'], gids: [], line: 3 },
  ];
  const cred = (uid: number, gid: number, groups: number[] = []) => ({ pid: 1, uid, gid, groups });

  it('checks casual clients against anon and named ones against their line, else default', () => {
    expect(authLineFor(lines, undefined)?.client).toBe('anon');
    expect(authLineFor(lines, 'ipfail')?.client).toBe('ipfail');
    expect(authLineFor(lines, 'other')).toBeUndefined();
    expect(authLineFor([...lines, { client: 'default', uids: ['root'], gids: [], line: 9 }], 'other')?.client).toBe('default');
  });

  it('passes on a listed uid, effective gid or supplementary group; refuses the rest', () => {
    expect(authorize(lines, undefined, [cred(0, 0)], ids).ok).toBe(true);
    expect(authorize(lines, undefined, [cred(65534, 105)], ids).ok).toBe(true);
    expect(authorize(lines, undefined, [cred(65534, 65534, [105])], ids).ok).toBe(true);
    expect(authorize(lines, undefined, [cred(65534, 65534)], ids)).toEqual({ ok: false, reason: 'client failed authorization' });
    expect(authorize(lines, 'ipfail', [cred(102, 105)], ids).ok).toBe(true);
    expect(authorize(lines, 'ipfail', [cred(0, 0)], ids).ok).toBe(false);
    expect(authorize(lines, 'numeric', [cred(4242, 1)], ids).ok).toBe(true);
    expect(authorize(lines, 'other', [cred(0, 0)], ids)).toEqual({ ok: false, reason: 'no default client auth' });
    expect(authorize([], undefined, [cred(0, 0)], ids)).toEqual({ ok: false, reason: 'apiauth anon missing' });
  });

  it('needs every process holding the peer socket to pass', () => {
    expect(authorize(lines, undefined, [cred(0, 0), cred(65534, 65534)], ids).ok).toBe(false);
    expect(authorize(lines, undefined, [], ids).ok).toBe(false);
  });
});
