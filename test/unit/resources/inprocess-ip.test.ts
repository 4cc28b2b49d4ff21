/**
 * When the daemon moves an address itself and when it runs the script:
 * only for our own IPaddr/IPaddr2 (byte for byte, helpers included), and
 * back to the script on anything unusual (logged once per reason). The ARP
 * burst: first frame at once, HB_ARP_COUNT requests then as many replies,
 * HB_ARP_INTERVAL apart, cut short by a stop.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resource } from '../../../lib/config/types.js';
import { InProcessIpScripts, type IpKernelWithArp, ourIpScript } from '../../../lib/resources/inprocess-ip.js';
import { type AddrRow, IpKernelError } from '../../../lib/resources/inprocess-ip-ops.js';
import type { Operation, ResourceScripts, ScriptResult } from '../../../lib/resources/script-runner.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import type { SyslogWriter } from '../../../lib/util/syslog.js';

const RD = join(import.meta.dirname, '..', '..', '..', 'resource.d');
const dirs: string[] = [];

/** A resource.d with our IPaddr files (optionally one of them edited). */
function resourceDir(edit?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-inproc-ip-'));
  dirs.push(dir);
  for (const f of ['IPaddr', 'IPaddr2', 'hb-ipaddr.sh', 'hb-functions.sh']) copyFileSync(join(RD, f), join(dir, f));
  if (edit !== undefined) writeFileSync(join(dir, edit), `${readFileSync(join(dir, edit), 'utf8')}# local change\n`);
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Fake { kernel: IpKernelWithArp; arps: Array<[number, boolean]>; addrs: AddrRow[] }

function fakeKernel(clock: ManualClock, failAdd = false): Fake {
  const f: Fake = {
    arps: [], addrs: [],
    kernel: {
      addrs: () => f.addrs,
      routes: () => [{ net: '10.0.0.0', bits: 24, dev: 'eth0' }],
      linkExists: (dev) => dev === 'eth0',
      addrAdd: (dev, ip, bits, _brd, label) => {
        if (failAdd) throw new IpKernelError('adding', 'EPERM');
        f.addrs.push({ dev, ip, bits, label });
      },
      addrDel: (dev, ip) => { f.addrs = f.addrs.filter((a) => !(a.dev === dev && a.ip === ip)); },
      linkUp: () => undefined,
      garp: (_dev, _ip, reply) => void f.arps.push([clock.nowMs(), reply]),
    },
  };
  return f;
}

const scriptResult: ScriptResult = { code: 42, stdout: 'from the script', stderr: '', timedOut: false, spawnError: undefined, durationMs: 1 };

function setup(o: { env?: Record<string, string>; failAdd?: boolean; noAddon?: boolean } = {}) {
  const clock = new ManualClock();
  const fake = fakeKernel(clock, o.failAdd);
  const ran: string[] = [];
  const inner: ResourceScripts = {
    locate: (s) => s,
    describe: () => '',
    run: (path: string, _r: Resource, op: Operation) => { ran.push(`${path} ${op}`); return Promise.resolve(scriptResult); },
  };
  const log = memoryLogger();
  const syslog: SyslogWriter = { send: () => undefined, dropped: 0, close: () => undefined };
  const env = { HA_RSCTMP: join(tmpdir(), 'hbts-no-such-rsctmp'), ...o.env };
  const kernel = (): IpKernelWithArp => {
    if (o.noAddon === true) throw new Error('the in-process IPaddr addon is not built');
    return fake.kernel;
  };
  const s = new InProcessIpScripts(inner, { clock, env, kernel, log, syslog: () => syslog });
  return { clock, fake, ran, log, s };
}

const res = (spec: string): Resource => ({ script: 'IPaddr', args: [spec], spec: `IPaddr::${spec}` });

describe('ourIpScript', () => {
  it('knows our files, refuses an edited one, a changed helper and other names', () => {
    const ours = resourceDir();
    expect(ourIpScript(join(ours, 'IPaddr'))).toBe('IPaddr');
    expect(ourIpScript(join(ours, 'IPaddr2'))).toBe('IPaddr2');
    expect(ourIpScript(join(resourceDir('IPaddr'), 'IPaddr'))).toBeUndefined();
    expect(ourIpScript(join(resourceDir('hb-ipaddr.sh'), 'IPaddr2'))).toBeUndefined();
    expect(ourIpScript(join(ours, 'hb-ipaddr.sh'))).toBeUndefined();
    expect(ourIpScript('/nonexistent/IPaddr')).toBeUndefined();
  });
});

describe('InProcessIpScripts', () => {
  it('runs our script in-process and an edited copy as a script', async () => {
    const { s, ran, fake } = setup({ env: { HB_ARP_COUNT: '0' } });
    const r = await s.run(join(resourceDir(), 'IPaddr'), res('10.0.0.10'), 'status');
    expect([r.code, r.stdout]).toEqual([7, 'INFO:  Resource is stopped\n']);
    expect((await s.run(join(resourceDir(), 'IPaddr'), res('10.0.0.10'), 'start')).code).toBe(0);
    expect(fake.addrs).toEqual([{ dev: 'eth0', ip: '10.0.0.10', bits: 24, label: 'eth0:0' }]);
    expect(ran).toEqual([]);
    const edited = join(resourceDir('IPaddr'), 'IPaddr');
    expect((await s.run(edited, res('10.0.0.10'), 'start')).code).toBe(42);
    expect(ran).toEqual([`${edited} start`]);
  });

  it('falls back to the script when the addon is missing, logging the reason once', async () => {
    const { s, ran, log } = setup({ noAddon: true });
    const path = join(resourceDir(), 'IPaddr');
    await s.run(path, res('10.0.0.10'), 'status');
    await s.run(path, res('10.0.0.10'), 'status');
    expect(ran).toHaveLength(2);
    expect(log.lines).toEqual(['info: in-process IPaddr not used (the in-process IPaddr addon is not built); running IPaddr as a script']);
  });

  it('falls back on a kernel refusal, with foreground ARP, and with a script ARP burst running', async () => {
    const path = join(resourceDir(), 'IPaddr');
    const a = setup({ failAdd: true });
    expect((await a.s.run(path, res('10.0.0.10'), 'start')).code).toBe(42);
    expect(a.log.lines[0]).toMatch(/^info: in-process IPaddr not used \(IPaddr 10\.0\.0\.10 start: adding: EPERM\)/);
    const b = setup({ env: { HB_ARP_BACKGROUND: 'no' } });
    expect((await b.s.run(path, res('10.0.0.10'), 'start')).code).toBe(42);
    const rsctmp = mkdtempSync(join(tmpdir(), 'hbts-rsctmp-'));
    dirs.push(rsctmp);
    mkdirSync(rsctmp, { recursive: true });
    writeFileSync(join(rsctmp, 'send_arp-10.0.0.10'), '123\n');
    const c = setup({ env: { HA_RSCTMP: rsctmp } });
    expect((await c.s.run(path, res('10.0.0.10'), 'start')).code).toBe(42);
    expect(c.log.lines[0]).toContain('a send_arp-10.0.0.10 burst of the script runs');
  });

  it('sends the first ARP at once, then requests and replies on the interval; a stop ends the burst', async () => {
    const { s, fake, clock } = setup({ env: { HB_ARP_COUNT: '3', HB_ARP_INTERVAL: '2' } });
    const path = join(resourceDir(), 'IPaddr');
    const t0 = clock.nowMs();
    await s.run(path, res('10.0.0.10/24/eth0'), 'start');
    expect(fake.arps).toEqual([[t0, false]]);
    clock.advance(20_000);
    expect(fake.arps.map(([t, reply]) => [t - t0, reply])).toEqual([
      [0, false], [2000, false], [4000, false], [6000, true], [8000, true], [10_000, true],
    ]);
    fake.arps.length = 0;
    await s.run(path, res('10.0.0.10/24/eth0'), 'stop');
    await s.run(path, res('10.0.0.10/24/eth0'), 'start');
    await s.run(path, res('10.0.0.10/24/eth0'), 'stop');
    clock.advance(20_000);
    expect(fake.arps).toHaveLength(1);
  });
});
