/**
 * Issue 2, bad input: node1 real heartbeat 3.0.6, node2 heartbeat-ts, ucast +
 * sha1 (so that datagrams sent from the client namespace to node2's address
 * reach heartbeat-ts only). The peer's genuine traffic is captured with
 * tcpdump in node2's namespace; more than 5 000 hostile datagrams built from
 * it and from the spec's vectors are sent to udp/694 from the client, in
 * classes whose verdict is known, and the daemon's periodic reject summary
 * (HA_REJECT_REPORT_SECONDS=2) must count each class under its reason.
 * Then: old-generation datagrams replayed after the peer restarted count as
 * replays; genuine datagrams re-sent while the peer is alive are dropped as
 * duplicates. Throughout: the daemon keeps running, node1 stays active on
 * it, and node1 never sees node2 restart or die.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDatagram } from '../../lib/wire/index.js';
import { hostileSet, lastRejectTotals, type RejectTotals } from './hostile-gen.js';
import { oursPids, startReal, stopReal, waitFor, waitForLog } from './harness/heartbeat.js';
import { Lab, type NodeProcess, labUp } from './harness/lab.js';
import { configure, grep, logSince, logSize, oursSeesActive, realNodeStatus, realSeesActive, start, teardownPair } from './interop-support.js';
import { readPcap } from './wire-capture.js';

const SEED = Number(process.env['HB_HOSTILE_SEED'] ?? 20_260_117);
const REPORT_S = 2;

let lab: Lab | undefined;
let tmp = '';
let oursPid = 0;
/** log offsets of node1 and node2 from the moment both were active */
let from1 = 0;
let from2 = 0;
const captures: NodeProcess[] = [];
const genuine: { gen1: Buffer[]; gen2: Buffer[] } = { gen1: [], gen2: [] };

type Totals = RejectTotals;

/** Totals of the newest reject summary of heartbeat-ts (all zero before the first). */
const totals = (l: Lab): Totals => lastRejectTotals(logSince(l, 2, 0).join('\n'));

/** UDP receive-buffer drops in node2's network namespace (datagrams the daemon never saw). */
async function rcvbufErrors(l: Lab): Promise<number> {
  const text = (await l.exec(2, ['cat', '/proc/net/snmp'])).stdout;
  const [head, values] = text.split('\n').filter((x) => x.startsWith('Udp:'));
  const keys = head?.split(/\s+/) ?? [];
  return Number(values?.split(/\s+/)[keys.indexOf('RcvbufErrors')] ?? 0);
}

const SENDER = `
const dgram = require('node:dgram');
const fs = require('node:fs');
const [file, host, port] = process.argv.slice(1);
const list = JSON.parse(fs.readFileSync(file, 'utf8')).map((b) => Buffer.from(b, 'base64'));
const s = dgram.createSocket('udp4');
let i = 0, errors = 0;
const next = () => {
  if (i >= list.length) { s.close(); console.log(JSON.stringify({ sent: list.length - errors, errors })); return; }
  const b = list[i++];
  s.send(b, Number(port), host, (err) => {
    if (err) errors++;
    if (i % 4 === 0) setTimeout(next, 1); else next();
  });
};
next();
`;

/** Sends datagrams from the client namespace to node2:694; returns how many went out. */
async function blast(l: Lab, datagrams: readonly Buffer[]): Promise<number> {
  const file = join(tmp, `batch-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(datagrams.map((d) => d.toString('base64'))));
  const r = await l.exec('c', [process.execPath, '-e', SENDER, file, l.ip(2), '694'], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { sent: number; errors: number };
  expect(out.errors).toBe(0);
  return out.sent;
}

/**
 * Sends one class and returns how the daemon's totals moved, once two more
 * summary intervals have passed (the newest line then covers everything).
 */
async function sendAndCount(l: Lab, datagrams: readonly Buffer[]): Promise<{ delta: Totals; sent: number; dropped: number }> {
  const before = totals(l);
  const drops0 = await rcvbufErrors(l);
  const sent = await blast(l, datagrams);
  await new Promise((r) => setTimeout(r, (2 * REPORT_S + 0.5) * 1000));
  const after = totals(l);
  const dropped = (await rcvbufErrors(l)) - drops0;
  const delta = {
    malformed: after.malformed - before.malformed,
    'unknown-key': after['unknown-key'] - before['unknown-key'],
    'bad-digest': after['bad-digest'] - before['bad-digest'],
    replay: after.replay - before.replay,
    accepted: after.accepted - before.accepted,
  };
  return { delta, sent, dropped };
}

/** tcpdump in node2's namespace of what node1 sends to udp/694 (packet-buffered). */
async function capture(l: Lab, file: string): Promise<NodeProcess> {
  const p = await l.spawn(2, ['tcpdump', '-i', 'eth0', '-n', '-U', '-w', file, 'udp', 'and', 'dst', 'port', '694', 'and', 'src', 'host', l.ip(1)]);
  captures.push(p);
  await waitFor(() => p.output(), { timeoutMs: 10_000, what: 'tcpdump listening', until: (o) => /listening on/.test(o) });
  return p;
}

async function stopCapture(l: Lab, p: NodeProcess, file: string): Promise<Buffer[]> {
  p.kill('SIGINT');
  await p.exited;
  return readPcap(l.path(2, file)).map((u) => u.payload);
}

const sequenced = (ds: readonly Buffer[]): Buffer[] =>
  ds.filter((d) => {
    const r = decodeDatagram(d);
    return r.ok && r.msg.get('seq') !== undefined;
  });

const generationOf = (d: Buffer): number => {
  const r = decodeDatagram(d);
  return r.ok ? parseInt(r.msg.get('hg') ?? '0', 16) : 0;
};

/** Nothing about node1 changed on heartbeat-ts, and node1 never doubted node2. */
async function stateUnchanged(l: Lab): Promise<void> {
  expect(await oursPids(l, 2)).toEqual([oursPid]);
  const ours = logSince(l, 2, from2);
  expect(grep(ours, /Status update for node node1|Heartbeat restart|is dead|Link node1:eth0 dead|lost packet|ERROR|CRIT/)).toEqual([]);
  // complaints about bad packets are rate-limited, not one per datagram
  expect(grep(ours, /Dropping/).length).toBeLessThan(40);
  expect(await realNodeStatus(l, 1, 'node2')).toBe('active');
  expect(grep(logSince(l, 1, from1), /node2|ERROR|CRIT/)).toEqual([]);
}

beforeAll(async () => {
  tmp = mkdtempSync(`/tmp/hbts-hostile-${process.pid}-`);
  const l = (lab = await Lab.up({ nodes: 2 }));
  configure(l, { media: 'ucast', auth: 'sha1', ids: [1, 2] });
  const cap = await capture(l, '/var/log/gen1.pcap');
  await startReal(l, 1);
  const p = await start(l, 2, 'ours', { HA_REJECT_REPORT_SECONDS: String(REPORT_S) });
  oursPid = p?.pid ?? 0;
  await realSeesActive(l, 1, 'node2');
  await oursSeesActive(l, 2, 'node1', 0);
  await new Promise((r) => setTimeout(r, 3000));
  genuine.gen1 = await stopCapture(l, cap, '/var/log/gen1.pcap');
  from1 = logSize(l, 1);
  from2 = logSize(l, 2);
}, 120_000);

afterAll(async () => {
  for (const c of captures) c.kill('SIGKILL');
  await teardownPair(lab, tmp);
}, 120_000);

const theLab = (): Lab => labUp(lab);

describe('heartbeat-ts under hostile input (real heartbeat 3.0.6 peer, ucast + sha1)', () => {
  it('counts thousands of random, mutated, forged and wrongly keyed datagrams per reason and stays unmoved', async () => {
    const l = theLab();
    expect(genuine.gen1.length).toBeGreaterThan(3);
    const set = hostileSet(SEED, genuine.gen1);
    const total = set.malformed.length + set.badDigest.length + set.unknownKey.length + set.mutated.length;
    console.log(`[hostile] seed ${SEED}: ${total} datagrams from ${genuine.gen1.length} captured + vector seeds`);
    expect(total).toBeGreaterThanOrEqual(5000);

    const report = (what: string, r: { delta: Totals; sent: number; dropped: number }): void =>
      console.log(`[hostile] ${what}: sent ${r.sent}, kernel drops ${r.dropped}, counted ${JSON.stringify(r.delta)}`);
    // Exact per class, less whatever the kernel dropped before the daemon read it.
    const within = (got: number, r: { sent: number; dropped: number }): void => {
      expect(got).toBeLessThanOrEqual(r.sent);
      expect(got).toBeGreaterThanOrEqual(r.sent - r.dropped);
    };

    const m = await sendAndCount(l, set.malformed);
    report('malformed', m);
    within(m.delta.malformed, m);
    expect(m.delta['bad-digest'] + m.delta['unknown-key'] + m.delta.replay).toBe(0);

    const b = await sendAndCount(l, set.badDigest);
    report('bad-digest (wrong key, forgeries, altered bytes, vectors)', b);
    within(b.delta['bad-digest'], b);
    expect(b.delta.malformed + b.delta['unknown-key'] + b.delta.replay).toBe(0);

    const u = await sendAndCount(l, set.unknownKey);
    report('unknown-key', u);
    within(u.delta['unknown-key'], u);
    expect(u.delta.malformed + u.delta['bad-digest'] + u.delta.replay).toBe(0);

    const x = await sendAndCount(l, set.mutated);
    report('mutated seeds', x);
    within(x.delta.malformed + x.delta['unknown-key'] + x.delta['bad-digest'], x);
    expect(x.delta.replay).toBe(0);

    // the per-interval line itself says what happened
    expect(grep(logSince(l, 2, from2), /WARN: Rejected \d+ packet\(s\) in the last 2 s: malformed \d+, unknown-key \d+, bad-digest \d+, replay \d+ \(totals: /).length).toBeGreaterThan(0);
    await stateUnchanged(l);
  }, 240_000);

  it('ignores replays of the old generation after the peer restarted, and drops re-sent genuine datagrams as duplicates', async () => {
    const l = theLab();
    const oldGen = sequenced(genuine.gen1);
    expect(oldGen.length).toBeGreaterThan(3);
    // Restart node1: a higher generation.
    const cap = await capture(l, '/var/log/gen2.pcap');
    await stopReal(l, 1);
    const at2 = logSize(l, 2);
    await startReal(l, 1);
    await waitForLog(l, 2, /Heartbeat restart on node node1/, { timeoutMs: 30_000, after: at2 });
    await oursSeesActive(l, 2, 'node1', at2, 30_000, '');
    await realSeesActive(l, 1, 'node2');
    await new Promise((r) => setTimeout(r, 3000));
    genuine.gen2 = await stopCapture(l, cap, '/var/log/gen2.pcap');
    // the capture began before the stop: keep the new generation only
    const gens = genuine.gen2.map(generationOf);
    const newGen = sequenced(genuine.gen2.filter((_, k) => gens[k] === Math.max(...gens)));
    expect(newGen.length).toBeGreaterThan(3);
    from1 = logSize(l, 1);
    from2 = logSize(l, 2);

    // Replays: validly signed, older generation.
    const replays = Array.from({ length: 60 }, (_, k) => oldGen[k % oldGen.length] as Buffer);
    const r = await sendAndCount(l, replays);
    console.log(`[hostile] replays of generation 1: sent ${r.sent}, counted ${JSON.stringify(r.delta)}`);
    expect(r.delta.replay).toBeLessThanOrEqual(r.sent);
    expect(r.delta.replay).toBeGreaterThanOrEqual(r.sent - r.dropped);
    expect(r.delta.malformed + r.delta['bad-digest'] + r.delta['unknown-key']).toBe(0);
    await stateUnchanged(l);

    // Duplicates: this generation's own datagrams again, the start-up ones
    // (status `up`, reqnodes, …) first; none may move anything.
    // One junk datagram at the end makes the daemon print a summary, whose
    // `accepted` total shows the duplicates were read and authenticated.
    const dups = Array.from({ length: 60 }, (_, k) => newGen[k % newGen.length] as Buffer);
    const d = await sendAndCount(l, [...dups, Buffer.from('not a heartbeat datagram')]);
    console.log(`[hostile] re-sent genuine datagrams: sent ${d.sent}, counted ${JSON.stringify(d.delta)}`);
    expect(d.delta.replay + d.delta['bad-digest'] + d.delta['unknown-key']).toBe(0);
    expect(d.delta.malformed).toBeLessThanOrEqual(1);
    expect(d.delta.accepted).toBeGreaterThanOrEqual(dups.length - d.dropped);
    await stateUnchanged(l);
    const firstStatus = decodeDatagram(newGen[0] as Buffer);
    console.log(`[hostile] first captured datagram of generation 2: t=${firstStatus.ok ? firstStatus.msg.get('t') : '?'} st=${firstStatus.ok ? firstStatus.msg.get('st') : '?'}`);
  }, 180_000);
});
