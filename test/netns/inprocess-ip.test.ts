/**
 * The in-process IPaddr path (lib/resources/inprocess-ip.ts on
 * native/hb_ipaddr.c) against the scripts it replaces, on a real kernel:
 * for each argument form, resource.d/IPaddr or IPaddr2 runs in node1, then
 * the in-process path on the same input, and both must leave the same
 * address (prefix, broadcast, label in `ip -o addr`), log the same lines,
 * print the same status line and exit with the same code. node2 captures
 * the gratuitous ARPs of both: same frames, same count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pcapFrames } from './wire-capture.js';
import { Lab, type NodeProcess, REPO_ROOT } from './harness/lab.js';
import { waitFor } from './harness/heartbeat.js';

const DIST = join(REPO_ROOT, 'dist');
const RUNNER = join(REPO_ROOT, 'test', 'netns', 'fixtures', 'inprocess-ip-run.mjs');
const RD = join(REPO_ROOT, 'resource.d');
const LOG = '/var/log/inprocess-ip.log';

let lab: Lab | undefined;
const captures: NodeProcess[] = [];

const theLab = (): Lab => {
  if (lab === undefined) throw new Error('lab not up');
  return lab;
};

interface Outcome { code: number; stdout: string; addrs: string[]; log: string[] }

function env(arps: number): Record<string, string> {
  return { HA_LOGFILE: LOG, HA_RSCTMP: '/var/log/rsctmp', HB_ARP_COUNT: String(arps), HB_ARP_INTERVAL: '1', PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
}

/** `ip -o addr` lines without the index and lifetimes. */
async function addrs(l: Lab): Promise<string[]> {
  const r = await l.exec(1, ['ip', '-4', '-o', 'addr', 'show']);
  return r.stdout.split('\n').filter((s) => s !== '').map((s) => s.replace(/^\d+:\s+/, '').replace(/\\.*$/, '').trim()).sort();
}

/** New log lines since `from`, without date and pid. */
function logLines(l: Lab, from: number): string[] {
  const text = (l.readFile(1, LOG) ?? '').slice(from);
  return text.split('\n').filter((s) => s !== '').map((s) => s.replace(/^\S+\s+(\S+?)\[\d+\]:/, '$1:'));
}

async function viaScript(mode: string, spec: string, op: string, arps = 0): Promise<Outcome> {
  const l = theLab();
  const from = (l.readFile(1, LOG) ?? '').length;
  const r = await l.exec(1, [join(RD, mode), spec, op], { env: env(arps), timeoutMs: 30_000 });
  return { code: r.code ?? -1, stdout: op === 'status' ? r.stdout : '', addrs: await addrs(l), log: logLines(l, from) };
}

async function inProcess(mode: string, spec: string, op: string, arps = 0): Promise<Outcome> {
  const l = theLab();
  const from = (l.readFile(1, LOG) ?? '').length;
  const r = await l.exec(1, [process.execPath, RUNNER, DIST, join(RD, mode), spec, op], { env: env(arps), timeoutMs: 30_000 });
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { code: number; stdout: string; fellBack: boolean; why: string[] };
  expect(out.fellBack, `${mode} ${spec} ${op} fell back to the script: ${out.why.join(' | ')} ${r.stderr}`).toBe(false);
  return { code: out.code, stdout: out.stdout, addrs: await addrs(l), log: logLines(l, from) };
}

/** One operation both ways from the same starting state; `setup`/`reset` bring it about. */
async function compare(mode: string, spec: string, op: string, setup: () => Promise<unknown>, reset: () => Promise<unknown>): Promise<Outcome> {
  await setup();
  const s = await viaScript(mode, spec, op);
  await reset();
  await setup();
  const o = await inProcess(mode, spec, op);
  await reset();
  expect(o, `${mode} ${spec} ${op}`).toEqual(s);
  return o;
}

const VIP = (l: Lab): string => l.ip(1).replace(/\.\d+$/, '.200');
const nothing = (): Promise<void> => Promise.resolve();
const LOOP = '127.0.0.9';
const flush = async (): Promise<void> => {
  for (const a of [VIP(theLab()), LOOP]) await theLab().exec(1, ['ip', 'addr', 'flush', 'to', `${a}/32`]);
};

beforeAll(async () => {
  lab = await Lab.up({ nodes: 2 });
}, 120_000);

afterAll(async () => {
  for (const c of captures) c.kill('SIGKILL');
  await lab?.down();
}, 120_000);

describe('in-process IPaddr/IPaddr2 against the scripts (netns)', () => {
  it('start, status and stop leave the same addresses, logs, status lines and exit codes', async () => {
    const l = theLab();
    const vip = VIP(l);
    const brd = vip.replace(/\.\d+$/, '.255');
    const starts: Array<[string, string]> = [
      ['IPaddr', vip], ['IPaddr', `${vip}/24/eth0`], ['IPaddr', `${vip}/24/eth0:foo`], ['IPaddr', `${vip}/255.255.255.128/eth0/${brd}`],
      ['IPaddr', `${vip}/31/eth0`], ['IPaddr2', `${vip}/24/eth0:web`], ['IPaddr2', `${vip}/26`], ['IPaddr2', vip],
      ['IPaddr', '172.31.0.1'], ['IPaddr', `${vip}/24/nosuch0`], ['IPaddr2', `${vip}/24/eth0:waytoolonglabel`], ['IPaddr', `${vip}/99`],
      ['IPaddr2', '0.1.2.3'], ['IPaddr', `${vip}/24/eth0/1.2.3`], ['IPaddr', `${LOOP}/8/lo`], ['IPaddr2', `${LOOP}/32/lo`],
    ];
    for (const [mode, spec] of starts) {
      const started = await compare(mode, spec, 'start', nothing, flush);
      // status and stop from the state that start left (when it succeeded)
      const again = (): Promise<unknown> => (started.code === 0 ? viaScript(mode, spec, 'start') : Promise.resolve());
      await compare(mode, spec, 'status', again, flush);
      await compare(mode, spec, 'stop', again, flush);
    }
  }, 300_000);

  it('status and stop of an address configured otherwise than the resource says', async () => {
    const l = theLab();
    const vip = VIP(l);
    const add = (): Promise<unknown> => l.exec(1, ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0', 'label', 'eth0:7']);
    const st = await compare('IPaddr2', `${vip}/25/eth0`, 'status', add, flush);
    expect(st.code).toBe(1);
    await compare('IPaddr', `${vip}/25/lo`, 'stop', add, flush);
    await compare('IPaddr2', `${vip}/25/eth0`, 'start', add, flush);
  }, 120_000);

  it('sends the same gratuitous ARP frames as arping -U / -A', async () => {
    const l = theLab();
    const vip = VIP(l);
    const arps = async (run: () => Promise<unknown>): Promise<string[]> => {
      const file = `/var/log/arp-${captures.length}.pcap`;
      const p = await l.spawn(2, ['tcpdump', '-i', 'eth0', '-n', '-U', '-w', file, 'arp']);
      captures.push(p);
      await waitFor(() => p.output(), { timeoutMs: 10_000, what: 'tcpdump listening', until: (o) => /listening on/.test(o) });
      await run();
      // the script's burst runs in the background; wait until its 2 + 2 frames are in
      await waitFor(() => pcapFrames(l.path(2, file)).length, { timeoutMs: 20_000, what: '4 ARP frames', until: (n) => n >= 4 });
      await new Promise((r) => setTimeout(r, 1500));
      p.kill('SIGINT');
      await p.exited;
      // ARP body (28 bytes after the Ethernet header): op, sender MAC/IP, target MAC/IP
      return pcapFrames(l.path(2, file)).map(({ frame }) => `${frame.subarray(0, 14).toString('hex')} ${frame.subarray(14, 42).toString('hex')}`);
    };
    const bySript = await arps(() => viaScript('IPaddr', `${vip}/24/eth0`, 'start', 2));
    await viaScript('IPaddr', `${vip}/24/eth0`, 'stop');
    const inProc = await arps(() => inProcess('IPaddr', `${vip}/24/eth0`, 'start', 2));
    await inProcess('IPaddr', `${vip}/24/eth0`, 'stop');
    expect(inProc).toEqual(bySript);
    expect(inProc.length).toBe(4);
  }, 120_000);
});
