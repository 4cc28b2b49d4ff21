/**
 * Issue 17, the hostile network, extending the hostile-input suite: node1
 * runs real heartbeat 3.0.6, node2 heartbeat-ts, ucast + sha1. A key holder
 * (the client namespace, signing with the cluster key) sends what the issue
 * found harmful, to heartbeat-ts and — where it applies — the same to 3.0.6,
 * side by side (3.0.6's figures are printed, `[hostile-net]` lines):
 *  - NS_rexmit with a huge range (3.0.6 gets a bounded sample: it walks the
 *    whole range, one log line per seq);
 *  - a node name with a newline (a forged CRIT line);
 *  - 50 000 made-up sender names (log lines, resident memory);
 *  - packets claiming the receiver's own name with a higher generation;
 *  - NS_* replays (older generation, stale timestamp), and a message of the
 *    current generation replayed after its sender was declared dead;
 *  - `heartbeat -t` with crc keys.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../lib/auth/index.js';
import { parseAuthKeys } from '../../lib/config/authkeys.js';
import { HaMsg } from '../../lib/wire/index.js';
import { authKeys, OURS, oursPids, startReal, waitFor, waitForLog } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';
import { configure, crash, grep, logSince, logSize, oursSeesActive, realNodeStatus, realSeesActive, start, teardownPair } from './interop-support.js';

/** Seqs of the bounded 3.0.6 sample (it writes one line per seq; the issue's range is 1.5 million). */
const REAL_SAMPLE = Number(process.env['HB_REXMIT_SAMPLE'] ?? 20_000);
const ISSUE_RANGE = { first: 100_000, last: 1_600_000 };
const NAMES = 50_000;

let lab: Lab | undefined;
let tmp = '';
let oursPid = 0;
const theLab = (): Lab => {
  if (lab === undefined) throw new Error('lab not up');
  return lab;
};

const keys = parseAuthKeys(authKeys('sha1'), { file: 'authkeys', mode: 0o100600 }).value;
if (keys === undefined) throw new Error('test authkeys');
const signer = new Authenticator(keys, { msgfmt: 'classic' });
const hex = (n: number): string => n.toString(16);
const nowTs = (): string => hex(Math.floor(Date.now() / 1000));
/** A datagram signed with the cluster key, fields in the given order. */
const forge = (fields: ReadonlyArray<[string, string]>): Buffer => {
  const m = new HaMsg();
  for (const [k, v] of fields) m.add(k, v);
  return signer.sign(m);
};
const generation = (i: number): number => Number((theLab().readFile(i, '/var/lib/heartbeat/hb_generation') ?? '0').trim());
const rexmit = (from: string, to: string, gen: number, first: number, last: number): Buffer =>
  forge([['t', 'NS_rexmit'], ['dest', to], ['firstseq', String(first)], ['lastseq', String(last)], ['src', from], ['hg', hex(gen)], ['ts', nowTs()]]);
const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SENDER = `
const dgram = require('node:dgram');
const fs = require('node:fs');
const [file, host, port] = process.argv.slice(1);
const list = JSON.parse(fs.readFileSync(file, 'utf8')).map((b) => Buffer.from(b, 'base64'));
const s = dgram.createSocket('udp4');
let i = 0;
const next = () => {
  if (i >= list.length) { s.close(); return; }
  s.send(list[i++], Number(port), host, () => { if (i % 4 === 0) setTimeout(next, 1); else next(); });
};
next();
`;

/** Sends datagrams from the client namespace to node i's udp/694, paced (4 per ms at most). */
async function blast(l: Lab, i: number, datagrams: readonly Buffer[]): Promise<void> {
  const file = join(tmp, `batch-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(datagrams.map((d) => d.toString('base64'))));
  const r = await l.exec('c', [process.execPath, '-e', SENDER, file, l.ip(i), '694'], { timeoutMs: 180_000 });
  expect(r.code, r.stderr).toBe(0);
  rmSync(file, { force: true });
}

/** Waits until node i's ha-log stopped growing for a second; returns the seconds it took. */
async function logSettles(l: Lab, i: number, t0: number): Promise<number> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const size = logSize(l, i);
    if (size !== last) {
      last = size;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 1000) {
      return (lastChange - t0) / 1000;
    }
    if (Date.now() - t0 > 180_000) throw new Error(`node${i}'s log still growing after 180 s`);
    await pause(200);
  }
}

const SUMMARY_RE = /totals: malformed \d+, unknown-key \d+, bad-digest \d+, replay (\d+), accepted (\d+)\)/;
/** The replay total of heartbeat-ts's newest reject summary. */
const replays = (l: Lab): number => Number(SUMMARY_RE.exec(grep(logSince(l, 2, 0), SUMMARY_RE).at(-1) ?? '')?.[1] ?? 0);

/** node1 (3.0.6) and node2 (heartbeat-ts) still see each other, and heartbeat-ts never doubted itself. */
async function bothStillUp(l: Lab, from2: number): Promise<void> {
  expect(await oursPids(l, 2)).toEqual([oursPid]);
  expect(grep(logSince(l, 2, from2), /No local heartbeat|Forcing restart|is dead|Heartbeat restart|Late heartbeat/)).toEqual([]);
  expect(await realNodeStatus(l, 1, 'node2')).toBe('active');
}

beforeAll(async () => {
  tmp = mkdtempSync(`/tmp/hbts-hostile-net-${process.pid}-`);
  const l = (lab = await Lab.up({ nodes: 2 }));
  configure(l, { media: 'ucast', auth: 'sha1', ids: [1, 2] });
  await startReal(l, 1);
  oursPid = (await start(l, 2, 'ours'))?.pid ?? 0;
  await realSeesActive(l, 1, 'node2');
  await oursSeesActive(l, 2, 'node1', 0);
}, 120_000);

afterAll(async () => {
  await teardownPair(lab, tmp);
}, 120_000);

describe('hostile network (issue 17): heartbeat-ts, with real heartbeat 3.0.6 side by side', () => {
  it('NS_rexmit with a huge range costs heartbeat-ts a few lines; 3.0.6 walks the whole range', async () => {
    const l = theLab();
    const from1 = logSize(l, 1);
    const from2 = logSize(l, 2);
    const gen1 = generation(1);
    let t0 = Date.now();
    await blast(l, 2, [rexmit('node1', 'node2', gen1, ISSUE_RANGE.first, ISSUE_RANGE.last), rexmit('node1', 'node2', gen1, 1, 2 ** 53)]);
    const oursS = await logSettles(l, 2, t0);
    const ours = logSince(l, 2, from2);
    console.log(`[hostile-net] heartbeat-ts: NS_rexmit ${ISSUE_RANGE.first}..${ISSUE_RANGE.last} and 1..2^53 -> ${ours.length} log line(s), settled in ${oursS.toFixed(1)} s:\n  ${ours.join('\n  ')}`);
    expect(ours.length).toBeLessThan(20);
    expect(grep(ours, /Rexmit of seq 100000 requested\. \d+ is max\. \(and 1500000 newer seqno\(s\) ignored\)/)).toHaveLength(1);

    // 3.0.6: the same request walks every seq; a bounded sample shows the rate
    t0 = Date.now();
    await blast(l, 1, [rexmit('node2', 'node1', generation(2), ISSUE_RANGE.first, ISSUE_RANGE.first + REAL_SAMPLE - 1)]);
    const realS = await logSettles(l, 1, t0);
    const real = logSince(l, 1, from1);
    const perSeq = grep(real, /Rexmit of seq \d+ requested/).length;
    const bytes = logSize(l, 1) - from1;
    const scale = (ISSUE_RANGE.last - ISSUE_RANGE.first + 1) / REAL_SAMPLE;
    console.log(`[hostile-net] heartbeat 3.0.6: NS_rexmit of ${REAL_SAMPLE} seqs -> ${perSeq} "Rexmit of seq" lines, ${bytes} bytes of ha-log, ${realS.toFixed(1)} s; `
      + `for ${ISSUE_RANGE.first}..${ISSUE_RANGE.last} that is ~${Math.round(perSeq * scale)} lines, ~${Math.round((bytes * scale) / 1e6)} MB, ~${Math.round(realS * scale)} s`);
    expect(perSeq).toBeGreaterThan(REAL_SAMPLE * 0.9);
    await pause(6000); // a deadtime: nobody was declared dead meanwhile
    await bothStillUp(l, from2);
  }, 300_000);

  it('a node name with a newline cannot forge a log line in heartbeat-ts (3.0.6 side by side)', async () => {
    const l = theLab();
    const from1 = logSize(l, 1);
    const from2 = logSize(l, 2);
    const forged = 'heartbeat[1]: 2026/12/03_00:00:00 CRIT: Resource STOP failure. Reboot required!';
    const d = forge([['t', 'status'], ['st', 'active'], ['src', `evil\n${forged}`], ['seq', '1'], ['hg', '1'], ['ts', nowTs()]]);
    await blast(l, 2, [d]);
    await blast(l, 1, [d]);
    await waitForLog(l, 2, /bad node \[evil\\nheartbeat\[1\]/, { timeoutMs: 15_000, after: from2 });
    await pause(2000);
    const crit = /^heartbeat\[1\]: .*CRIT: Resource STOP failure/;
    const real = grep(logSince(l, 1, from1), crit);
    console.log(`[hostile-net] heartbeat 3.0.6 wrote ${real.length} forged CRIT line(s) for a node name with a newline; heartbeat-ts wrote ${grep(logSince(l, 2, from2), crit).length}`);
    expect(grep(logSince(l, 2, from2), crit)).toEqual([]);
  }, 60_000);

  it('50 000 made-up sender names: one complaint per interval, memory bounded', async () => {
    const l = theLab();
    const from2 = logSize(l, 2);
    const rss0 = rssKb(oursPid);
    const ts = nowTs();
    const names = Array.from({ length: NAMES }, (_, i) => forge([['t', 'status'], ['st', 'active'], ['src', `made-up-${i}`], ['seq', '1'], ['hg', '1'], ['ts', ts]]));
    const t0 = Date.now();
    await blast(l, 2, names);
    await pause(3000);
    const rss1 = rssKb(oursPid);
    const complaints = grep(logSince(l, 2, from2), /bad node \[made-up-/);
    console.log(`[hostile-net] heartbeat-ts: ${NAMES} made-up names in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${complaints.length} log line(s); RSS ${Math.round(rss0 / 1024)} -> ${Math.round(rss1 / 1024)} MB`);
    // one line per 10 s interval (plus one at each edge)
    expect(complaints.length).toBeLessThanOrEqual(2 + Math.ceil((Date.now() - t0) / 10_000));
    // measured: +19 MB with the fix, +43 MB (and 50 000 lines) without; the per-name state itself is checked in the unit test
    expect(rss1 - rss0).toBeLessThan(32 * 1024);
    await bothStillUp(l, from2);
  }, 300_000);

  it('a packet claiming our own name with a higher generation changes nothing', async () => {
    const l = theLab();
    const from2 = logSize(l, 2);
    const gen2 = generation(2);
    for (let k = 1; k <= 8; k++) {
      await blast(l, 2, [forge([['t', 'status'], ['st', 'active'], ['src', 'node2'], ['seq', hex(k)], ['hg', hex(gen2 + 1000)], ['ts', nowTs()], ['dt', hex(5000)], ['protocol', '1']])]);
      await pause(1000);
    }
    await pause(6000);
    await bothStillUp(l, from2);
    expect(grep(logSince(l, 2, from2), /claims to come from this node \(node2\): generation \d+, ours is \d+/).length).toBeGreaterThan(0);
  }, 120_000);

  it('NS_* from an older generation or stamped long ago is counted as a replay and ignored', async () => {
    const l = theLab();
    const from2 = logSize(l, 2);
    const before = replays(l);
    const gen1 = generation(1);
    const old = Array.from({ length: 10 }, () => rexmit('node1', 'node2', gen1 - 1, 1, 1));
    const stale = Array.from({ length: 10 }, () =>
      forge([['t', 'NS_ackmsg'], ['dest', 'node2'], ['ackseq', '1'], ['src', 'node1'], ['hg', hex(gen1)], ['ts', hex(Math.floor(Date.now() / 1000) - 3600)]]));
    await blast(l, 2, [...old, ...stale]);
    await waitFor(() => replays(l), { timeoutMs: 20_000, what: 'the NS_* replays counted', until: (n) => n >= before + 20 });
    expect(grep(logSince(l, 2, from2), /Dropping NS_(rexmit|ackmsg) from node1: replayed\?/).length).toBeGreaterThan(0);
    await bothStillUp(l, from2);
  }, 60_000);

  it('heartbeat -t warns (file:line, warning) about crc keys and still exits 0', async () => {
    const l = theLab();
    const dir = join(tmp, 'ha.d');
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ha.cf'), l.readFile(2, '/etc/ha.d/ha.cf') ?? '');
    writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 crc\n', { mode: 0o600 });
    writeFileSync(join(dir, 'haresources'), '');
    const r = await l.exec(2, [process.execPath, OURS, '-t'], { env: { HA_DIR: dir } });
    console.log(`[hostile-net] heartbeat-ts -t with crc: exit ${r.code}\n${r.stdout}${r.stderr}`);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain(`${dir}/authkeys:2: warning: Auth method [crc] (key 1) detects corruption only`);
  }, 60_000);

  it('a message of the current generation replayed after its sender was declared dead is not acted on', async () => {
    const l = theLab();
    const gen1 = generation(1);
    await crash(l, 1);
    const at = logSize(l, 2);
    await waitForLog(l, 2, /node node1: is dead/, { timeoutMs: 30_000, after: at });
    const from2 = logSize(l, 2);
    const before = replays(l);
    // node1 sent seq 5 long ago (it has been up for minutes): the datagram is
    // what a capture of it would be, re-signed with the cluster key
    await blast(l, 2, [forge([['t', 'ask_resources'], ['rsc_hold', 'all'], ['info', 'me'], ['src', 'node1'], ['seq', hex(5)], ['hg', hex(gen1)], ['ts', nowTs()], ['ld', '0.00 0.00 0.00 1/1 1'], ['ttl', '4']])]);
    await pause(4000);
    expect(grep(logSince(l, 2, from2), /standby|wants to go/)).toEqual([]);
    await waitFor(() => replays(l), { timeoutMs: 20_000, what: 'the replay counted', until: (n) => n >= before + 1 });
    expect(grep(logSince(l, 2, from2), /attempted replay attack \[node1\]/).length).toBe(1);
  }, 90_000);

  it('3.0.6 side by side: what a packet claiming its own name with a higher generation does to it', async () => {
    const l = theLab();
    await startReal(l, 1);
    await realSeesActive(l, 1, 'node2');
    const from1 = logSize(l, 1);
    const gen1 = generation(1);
    for (let k = 1; k <= 12; k++) {
      await blast(l, 1, [forge([['t', 'status'], ['st', 'active'], ['src', 'node1'], ['seq', hex(k)], ['hg', hex(gen1 + 1000)], ['ts', nowTs()], ['dt', hex(5000)], ['protocol', '1']])]);
      await pause(1000);
    }
    // give it a few dead times to notice that its own heartbeats are gone
    const noLocal = await waitForLog(l, 1, /No local heartbeat/, { timeoutMs: 30_000, after: from1 }).then(() => true, () => false);
    const lines = logSince(l, 1, from1);
    const count = (re: RegExp): number => grep(lines, re).length;
    console.log(`[hostile-net] heartbeat 3.0.6 after 12 statuses naming itself with generation ${gen1 + 1000} (its own: ${gen1}): `
      + `"Heartbeat restart on node node1" x${count(/Heartbeat restart on node node1/)}, its own messages dropped as `
      + `"attempted replay attack [node1]" x${count(/attempted replay attack \[node1\]/)}, "No local heartbeat" ${noLocal ? 'logged' : 'not logged within 30 s'}:\n  `
      + grep(lines, /node1|No local heartbeat|Forcing restart|giving up|Giving up/).slice(0, 8).join('\n  '));
    // the same hole: the wire speaks for 3.0.6 (documented in SECURITY.md)
    expect(count(/Heartbeat restart on node node1/)).toBeGreaterThan(0);
  }, 150_000);
});
