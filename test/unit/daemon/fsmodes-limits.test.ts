/**
 * The building blocks of issue 17's local hardening: directories and files
 * created without following what someone else put at their path
 * (daemon/fsmodes.ts, lib/util/files.ts), and the connection, rate and log
 * limits shared by the API servers (daemon/api/limits.ts).
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIdFile, type IdTables } from '../../../daemon/api/auth.js';
import { clientText, ConnectionGate, DEFAULT_API_LIMITS, LogThrottle, privilegedPeer, RateLimiter } from '../../../daemon/api/limits.js';
import { ensureDir, recreateDir, RSCTMP_SPEC, RUN_DIR_SPEC } from '../../../daemon/fsmodes.js';
import { writePid } from '../../../daemon/pidfile.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { writeFileReplacing } from '../../../lib/util/files.js';
import { HbError } from '../../../lib/util/errors.js';
import { memoryLogger } from '../../../lib/util/log.js';

const dir = mkdtempSync(join(tmpdir(), 'hbts-fsmodes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ids: IdTables = {
  users: parseIdFile('root:x:0:0::/:/bin/sh\nhacluster:x:103:106::/:/bin/false\nnobody:x:65534:65534::/:/bin/false\n'),
  groups: parseIdFile('root:x:0:\nhaclient:x:106:\nnogroup:x:65534:\n'),
};
const asRoot = process.geteuid?.() === 0;

describe('ensureDir / recreateDir', () => {
  it.runIf(asRoot)('creates the run directory 0750 hacluster:haclient and rsctmp 1755 root, and puts drifted modes back', () => {
    const run = join(dir, 'run', 'heartbeat');
    expect(ensureDir(run, RUN_DIR_SPEC, ids)).toEqual(['owner 0:0 -> 103:106']);
    let st = statSync(run);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o750, 103, 106]);
    chmodSync(run, 0o777);
    expect(ensureDir(run, RUN_DIR_SPEC, ids)).toEqual(['mode 777 -> 750']);
    const rsctmp = join(run, 'rsctmp');
    mkdirSync(rsctmp);
    writeFileSync(join(rsctmp, 'send_arp-10.0.0.1'), '1\n');
    chmodSync(rsctmp, 0o1777);
    recreateDir(rsctmp, RSCTMP_SPEC, ids);
    st = statSync(rsctmp);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o1755, 0, 0]);
    expect(() => readFileSync(join(rsctmp, 'send_arp-10.0.0.1'))).toThrow();
  });

  it('refuses a symlink or a file in place of a directory, and a directory of another unprivileged user', () => {
    const target = join(dir, 'elsewhere');
    mkdirSync(target);
    const link = join(dir, 'linked');
    symlinkSync(target, link);
    expect(() => ensureDir(link, RUN_DIR_SPEC, ids)).toThrow(HbError);
    expect(statSync(target).mode & 0o777).toBe(0o755);
    writeFileSync(join(dir, 'plain'), '');
    expect(() => ensureDir(join(dir, 'plain'), RUN_DIR_SPEC, ids)).toThrow(/not a directory/);
    if (asRoot) {
      const theirs = join(dir, 'theirs');
      mkdirSync(theirs);
      chownSync(theirs, 65534, 65534);
      expect(() => ensureDir(theirs, RUN_DIR_SPEC, ids)).toThrow(/belongs to uid 65534/);
    }
  });
});

describe('writeFileReplacing (pid file, hb_generation, hb_uuid, hostcache)', () => {
  it('replaces a symlink at the path instead of writing through it, 0644', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep\n');
    const pid = join(dir, 'heartbeat.pid');
    symlinkSync(victim, pid);
    writePid(pid, 4242);
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
    expect(lstatSync(pid).isSymbolicLink()).toBe(false);
    expect(readFileSync(pid, 'utf8')).toBe('4242\n');
    expect(statSync(pid).mode & 0o777).toBe(0o644);
  });

  it('does not write through a symlink planted at its temporary name', () => {
    const victim = join(dir, 'victim2');
    writeFileSync(victim, 'keep\n');
    const path = join(dir, 'hb_generation');
    symlinkSync(victim, `${path}.tmp${process.pid}`);
    writeFileReplacing(path, '              7\n');
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
    expect(readFileSync(path, 'utf8')).toBe('              7\n');
  });
});

describe('API limits', () => {
  const cred = (uid: number, gid = uid, groups: number[] = []) => ({ pid: 1, uid, gid, groups });
  const privileged = privilegedPeer(ids);

  it('counts root, hacluster and haclient members (by gid or supplementary group) as privileged', () => {
    expect([cred(0), cred(103), cred(1000, 106), cred(1000, 1000, [106]), cred(65534)].map(privileged)).toEqual([true, true, true, true, false]);
  });

  it('caps connections per uid and for unprivileged users, and keeps a share for root', () => {
    const gate = new ConnectionGate({ ...DEFAULT_API_LIMITS, maxConnections: 10, rootReserve: 2, maxPerUid: 3, maxUnprivileged: 4 }, privileged);
    const take = (c: ReturnType<typeof cred>, n: number) => Array.from({ length: n }, () => gate.admit(c));
    expect(take(cred(1000, 106), 4).map((a) => a.ok)).toEqual([true, true, true, false]);
    expect(take(cred(65534), 1)[0]).toMatchObject({ ok: true });
    const others = [cred(2001, 106), cred(2002, 106), cred(2003, 106), cred(2004, 106)].flatMap((c) => take(c, 1));
    expect(others.map((a) => a.ok)).toEqual([true, true, true, true]);
    expect(gate.admit(cred(2005, 106))).toMatchObject({ ok: false, reason: 'too many connections (the last 2 are kept for root)' });
    const r1 = gate.admit(cred(0));
    const r2 = gate.admit(cred(0));
    expect([r1.ok, r2.ok, gate.admit(cred(0)).ok]).toEqual([true, true, false]);
    if (r1.ok) r1.release();
    if (r1.ok) r1.release(); // twice is once
    expect(gate.open).toBe(9);
    const small = new ConnectionGate({ ...DEFAULT_API_LIMITS, maxUnprivileged: 2 }, privileged);
    expect([small.admit(cred(3001)).ok, small.admit(cred(3002)).ok, small.admit(cred(3003)).ok, small.admit(cred(3004, 106)).ok]).toEqual([true, true, false, true]);
    expect(small.admit(cred(3005))).toMatchObject({ ok: false, reason: 'too many connections from users outside haclient (2)' });
  });

  it('limits bad requests with a token bucket per key', () => {
    let now = 0;
    const rl = new RateLimiter<number>(3, 1, () => now);
    expect([rl.take(7), rl.take(7), rl.take(7), rl.take(7), rl.take(8)]).toEqual([true, true, true, false, true]);
    now = 2000;
    expect([rl.take(7), rl.take(7), rl.take(7)]).toEqual([true, true, false]);
  });

  it('logs a few lines per reason and interval, then says how many it left out', () => {
    const clock = new ManualClock();
    const log = memoryLogger();
    const t = new LogThrottle(log, { logLinesPerInterval: 2, logIntervalMs: 1000 }, clock);
    for (let i = 0; i < 5; i++) t.line('bad', 'error', `bad ${i}`);
    t.line('other', 'warn', 'other');
    clock.jumpWithoutTimers(1500);
    t.line('bad', 'error', 'bad 5');
    expect(log.lines).toEqual(['ERROR: bad 0', 'ERROR: bad 1', 'WARN: other', 'WARN: 3 more API messages like "bad" suppressed in the last 2 s', 'ERROR: bad 5']);
  });

  it('says how many lines it left out when the interval ends, also when no other line follows', () => {
    const clock = new ManualClock();
    const log = memoryLogger();
    const t = new LogThrottle(log, { logLinesPerInterval: 1, logIntervalMs: 5000 }, clock);
    for (let i = 0; i < 4; i++) t.line('flood', 'error', `flood ${i}`);
    clock.advance(4999);
    expect(log.lines).toEqual(['ERROR: flood 0']);
    clock.advance(1);
    expect(log.lines).toEqual(['ERROR: flood 0', 'WARN: 3 more API messages like "flood" suppressed in the last 5 s']);
    // at shutdown, an open window is closed at once and its timer with it
    for (let i = 0; i < 3; i++) t.line('flood', 'error', `again ${i}`);
    clock.advance(1000);
    t.closeAll();
    expect(log.lines.slice(3)).toEqual(['WARN: 2 more API messages like "flood" suppressed in the last 1 s']);
    clock.advance(10_000);
    expect(log.lines).toHaveLength(4);
  });

  it('escapes and shortens what a client sent before it reaches a log', () => {
    expect(clientText('ok op')).toBe('ok op');
    expect(clientText('a\nCRIT: x\r\t\x1b[31m\\ é')).toBe('a\\nCRIT: x\\r\\t\\x1b[31m\\\\ \\xe9');
    expect(clientText('z'.repeat(100), 10)).toBe('zzzzzzzzzz...(100 chars)');
  });
});
