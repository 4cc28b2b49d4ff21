/**
 * The ping media on real links (spec 4.5, 7.6), in a lab of four nodes and
 * the client namespace on one bridge:
 *
 *   node1  heartbeat-ts membership core (fixtures/ping-agent.mjs) with
 *          `ping <node2>`, `ping_group grp <node2> <node3>`, `ping <client>`
 *   node2  a ping target (the kernel answers)
 *   node3  the group's second member
 *   node4  real heartbeat 3.0.6 with `ping <node2>`
 *   client answers only through fixtures/icmp-responder.mjs (our raw
 *          socket), which alters the payload unless told to be honest
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authKeys, haCf, logSize, startReal, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab, REPO_ROOT } from './harness/lab.js';
import { runCommand } from './harness/proc.js';
import { JsonAgent, sleep, type AgentEvent } from './ping-support.js';

const DIST = join(REPO_ROOT, 'dist');
const AGENT = join(REPO_ROOT, 'test', 'netns', 'fixtures', 'ping-agent.mjs');
const RESPONDER = join(REPO_ROOT, 'test', 'netns', 'fixtures', 'icmp-responder.mjs');
const KEY = 'ping-netns-test-key';
/** Our node: fast timings so deaths happen within seconds. */
const KEEPALIVE_MS = 250;
const DEADPING_MS = 2000;

let lab: Lab | undefined;
let agent: JsonAgent | undefined;
let responder: JsonAgent | undefined;

function the<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} is not up`);
  return v;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Counters {
  auth: { ok: number; 'bad-digest': number };
  media: Record<string, { sent: number; replies: number; ignored: number }>;
}
function counters(a: JsonAgent): Counters {
  const c = a.last('counters');
  if (c === undefined) throw new Error('no counters yet');
  return c as unknown as Counters;
}
const isStatus = (node: string, status: string) => (e: AgentEvent): boolean => e.ev === 'status' && e.node === node && e.status === status;

beforeAll(async () => {
  // The agents import dist/, built by `npm test` before the run (rebuilding
  // here would rewrite files under the feet of tests running in parallel).
  if (!existsSync(join(DIST, 'lib', 'media', 'ping.js'))) throw new Error('dist/lib/media/ping.js missing: run `npm run build` first');
  lab = await Lab.up({ nodes: 4 });
  const [ip2, ip3, ipc] = [lab.ip(2), lab.ip(3), lab.ip('c')];

  // The client answers only through the responder.
  const sysctl = await lab.exec('c', ['sysctl', '-qw', 'net.ipv4.icmp_echo_ignore_all=1']);
  if (sysctl.code !== 0) throw new Error(`sysctl in the client namespace failed: ${sysctl.stderr}`);
  responder = await JsonAgent.start('responder', lab.netns('c'), RESPONDER, [DIST, 'tamper']);

  writeHaConfig(lab, 4, {
    hacf: haCf({ media: 'bcast', nodes: ['node4'], keepalive: 1, deadtime: 4, initdead: 8, extra: ['deadping 4', `ping ${ip2}`] }),
    authkeys: authKeys('sha1', KEY),
  });
  await startReal(lab, 4);

  const hacf = [
    `keepalive ${KEEPALIVE_MS}ms`,
    'deadtime 2',
    `deadping ${DEADPING_MS}ms`,
    'initdead 4',
    `ping ${ip2}`,
    `ping_group grp ${ip2} ${ip3}`,
    `ping ${ipc}`,
    'node node1',
    '',
  ].join('\n');
  agent = await JsonAgent.start('node1', lab.netns(1), AGENT, [DIST, JSON.stringify({ hacf, authkeys: authKeys('sha1', KEY), node: 'node1' })]);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled([agent?.stop(), responder?.stop()]);
  await lab?.down();
}, 120_000);

describe('ping media in network namespaces', () => {
  it('a live target\'s replies count: the ping node and the group get status ping, their links come up', async () => {
    const a = the(agent, 'agent');
    const ip2 = the(lab, 'lab').ip(2);
    await a.waitFor(isStatus(ip2, 'ping'), 10_000, `${ip2} status ping`);
    await a.waitFor(isStatus('grp', 'ping'), 10_000, 'grp status ping');
    const lines = a.events.filter((e) => e.ev === 'log').map((e) => String(e.line));
    expect(lines).toEqual(expect.arrayContaining([
      'info: glib: ping heartbeat started.',
      'info: glib: ping group heartbeat started.',
      `info: Status update for node ${ip2}: status ping`,
      'info: Status update for node grp: status ping',
      `info: Link ${ip2}:${ip2} up.`,
      'info: Link grp:grp up.',
    ]));
    await a.waitFor((e) => e.ev === 'counters' && ((e as unknown as Counters).media.grp?.replies ?? 0) >= 4, 5_000, 'group replies');
    const c = counters(a);
    expect(c.media[ip2]?.replies).toBeGreaterThan(0);
    expect(c.auth.ok).toBeGreaterThan(0);
  });

  it('replies whose payload was altered arrive but never count; the same responder echoing honestly does', async () => {
    const a = the(agent, 'agent');
    const r = the(responder, 'responder');
    const ipc = the(lab, 'lab').ip('c');
    // Never heard: dead once initdead is over, although replies keep arriving.
    await a.waitFor(isStatus(ipc, 'dead'), 15_000, `${ipc} declared dead`);
    const before = counters(a);
    expect(before.media[ipc]?.replies).toBeGreaterThanOrEqual(3);
    expect(before.auth['bad-digest']).toBeGreaterThanOrEqual(3);
    expect(r.events.filter((e) => e.ev === 'answered' && e.mode === 'tamper' && e.err === null).length).toBeGreaterThanOrEqual(3);
    expect(a.events.some(isStatus(ipc, 'ping'))).toBe(false);

    const honest = a.mark();
    r.signal('SIGUSR1');
    await r.waitFor((e) => e.ev === 'mode' && e.mode === 'honest', 5_000, 'honest mode');
    await a.waitAfter(honest, isStatus(ipc, 'ping'), 10_000, `${ipc} status ping once honest`);

    const tampering = a.mark();
    const rejectedBefore = counters(a).auth['bad-digest'];
    r.signal('SIGUSR1');
    await r.waitFor(() => r.events.filter((e) => e.ev === 'mode').length === 2, 5_000, 'tamper mode again');
    expect(r.last('mode')?.mode).toBe('tamper');
    await a.waitAfter(tampering, isStatus(ipc, 'dead'), 10_000, `${ipc} dead again while only tampered replies arrive`);
    expect(counters(a).auth['bad-digest']).toBeGreaterThan(rejectedBefore + 2);
  });

  it('real heartbeat 3.0.6 pinging the same target sees it alive too', async () => {
    const l = the(lab, 'lab');
    const ip2 = l.ip(2);
    await waitForLog(l, 4, new RegExp(`info: Status update for node ${esc(ip2)}: status ping$`), { timeoutMs: 30_000 });
    await waitForLog(l, 4, new RegExp(`info: Link ${esc(ip2)}:${esc(ip2)} up\\.$`), { timeoutMs: 5_000 });
    expect(the(agent, 'agent').events.some(isStatus(ip2, 'ping'))).toBe(true);
  });

  it('when the target address goes away the ping node dies after deadping, in both implementations; the group lives on through its other member until that one goes too', async () => {
    const l = the(lab, 'lab');
    const a = the(agent, 'agent');
    const [ip2, ip3] = [l.ip(2), l.ip(3)];
    const realLogFrom = logSize(l, 4);
    const from = a.mark();
    const t0 = Date.now();
    const del = await l.exec(2, ['ip', 'addr', 'del', `${ip2}/24`, 'dev', 'eth0']);
    expect(del.code).toBe(0);
    await a.waitAfter(from, isStatus(ip2, 'dead'), 15_000, `${ip2} dead`);
    // Not before the last reply is deadping old (keepalive of slack for the last echo in flight).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(DEADPING_MS - KEEPALIVE_MS);
    expect(a.since(from).some((e) => e.ev === 'log' && e.line === `WARN: node ${ip2}: is dead`)).toBe(true);

    const groupReplies = counters(a).media.grp?.replies ?? 0;
    await sleep(2 * DEADPING_MS + 500);
    expect(a.since(from).some(isStatus('grp', 'dead'))).toBe(false);
    expect(counters(a).media.grp?.replies ?? 0).toBeGreaterThan(groupReplies + 4);

    await waitForLog(l, 4, new RegExp(`WARN: node ${esc(ip2)}: is dead$`), { timeoutMs: 20_000, after: realLogFrom });

    const gone = a.mark();
    expect((await l.exec(3, ['ip', 'addr', 'del', `${ip3}/24`, 'dev', 'eth0'])).code).toBe(0);
    await a.waitAfter(gone, isStatus('grp', 'dead'), 15_000, 'grp dead once no member answers');
  });
});
