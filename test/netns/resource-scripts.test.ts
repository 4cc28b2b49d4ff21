/**
 * resource.d IP scripts (IPaddr, IPaddr2, SendArp) in a netns lab: node1
 * holds the addresses, the client namespace on the same bridge watches the
 * gratuitous ARPs. Also compares our IPaddr with Debian's original and
 * checks the ha_log layout of the script logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness/heartbeat.js';
import { Lab, type NodeProcess } from './harness/lab.js';
import { join } from 'node:path';
import { addrLine, DEBIAN_RSC_DIR, labelOf, RSC_DIR, rscIn, statusSaysRunning } from './resource-support.js';

let lab: Lab;
let node1Mac = '';
const spawned: NodeProcess[] = [];
const vip = (n: number): string => `${lab.subnet}.${n}`;
/** A haresources resource run on node1 (ARP bursts kept short). */
const res = (resource: string, op: string, env: Record<string, string> = {}) =>
  rscIn(lab, 1, resource, op, { HB_ARP_COUNT: '1', ...env });
/** IPaddr with one argument, as `IPaddr::<arg>` or a bare address in haresources. */
const rsc = (arg: string, op: string, env: Record<string, string> = {}) => res(`IPaddr::${arg}`, op, env);

/** Removes an address from node1 whatever put it there (cleanup in finally blocks). */
async function scrub(...addrs: string[]): Promise<void> {
  for (const a of addrs) {
    const line = await addrLine(lab, 1, a);
    const prefix = line?.match(/ inet \S+\/(\d+)/)?.[1];
    if (prefix !== undefined) await lab.exec(1, ['ip', 'addr', 'del', `${a}/${prefix}`, 'dev', 'eth0']);
  }
}

beforeAll(async () => {
  lab = await Lab.up({ nodes: 1 });
  node1Mac = (await lab.exec(1, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
  // let the client's neighbour table learn from unsolicited ARP as well
  await lab.sh('c', 'sysctl -qw net.ipv4.conf.eth0.arp_accept=1');
}, 120_000);

afterAll(async () => {
  for (const p of spawned) p.kill('SIGKILL');
  await lab?.down();
}, 120_000);

describe('IPaddr', () => {
  it('start without a device finds eth0 from the connected route, labels eth0:0, is idempotent; stop removes it', async () => {
    const ip = vip(100);
    try {
      const before = await rsc(ip, 'status');
      expect(before.code).toBe(7);
      expect(before.stdout).toBe('INFO:  Resource is stopped\n');
      expect(statusSaysRunning(before.stdout)).toBe(false);

      const start = await rsc(ip, 'start');
      expect(start).toMatchObject({ code: 0, stdout: 'INFO:  Success\n' });
      const line = await addrLine(lab, 1, ip);
      expect(line).toMatch(new RegExp(`inet ${ip}/24 brd ${lab.subnet}\\.255 scope global secondary eth0:0\\\\`));

      const status = await rsc(ip, 'status');
      expect(status).toMatchObject({ code: 0, stdout: 'INFO:  Running OK\n' });
      expect(statusSaysRunning(status.stdout)).toBe(true);

      expect((await rsc(ip, 'start')).code).toBe(0);
      const all = (await lab.exec(1, ['ip', '-4', '-o', 'addr'])).stdout;
      expect(all.split(`inet ${ip}/`).length - 1).toBe(1);

      expect(await rsc(ip, 'stop')).toMatchObject({ code: 0, stdout: 'INFO:  Success\n' });
      expect(await addrLine(lab, 1, ip)).toBeUndefined();
      expect((await rsc(ip, 'stop')).code).toBe(0);
      expect(statusSaysRunning((await rsc(ip, 'status')).stdout)).toBe(false);
    } finally {
      await scrub(ip);
    }
  });

  it('ip/cidr/dev and ip/cidr/dev/broadcast take the next free alias and the given broadcast', async () => {
    const [a, b, c] = [vip(101), vip(102), vip(103)];
    try {
      expect((await rsc(`${a}/24/eth0`, 'start')).code).toBe(0);
      expect((await rsc(`${b}/255.255.255.0/eth0`, 'start')).code).toBe(0);
      expect((await rsc(`${c}/24/eth0/${lab.subnet}.254`, 'start')).code).toBe(0);
      expect(labelOf(await addrLine(lab, 1, a))).toBe('eth0:0');
      expect(labelOf(await addrLine(lab, 1, b))).toBe('eth0:1');
      expect(await addrLine(lab, 1, c)).toMatch(new RegExp(`inet ${c}/24 brd ${lab.subnet}\\.254 .* eth0:2\\\\`));
      // a freed alias number is reused first
      expect((await rsc(`${b}/24/eth0`, 'stop')).code).toBe(0);
      expect((await rsc(`${b}/24/eth0`, 'start')).code).toBe(0);
      expect(labelOf(await addrLine(lab, 1, b))).toBe('eth0:1');
      // status names the interface: the address on eth0 is ours, elsewhere it is not
      expect(statusSaysRunning((await rsc(`${a}/24/eth0`, 'status')).stdout)).toBe(true);
      const elsewhere = await rsc(`${a}/24/lo`, 'status');
      expect(statusSaysRunning(elsewhere.stdout)).toBe(false);
      expect(elsewhere.stderr).toContain(`${a} is configured as eth0:0/24 on eth0`);
      for (const x of [a, b, c]) expect((await rsc(x, 'stop')).code).toBe(0);
      for (const x of [a, b, c]) expect(await addrLine(lab, 1, x)).toBeUndefined();
    } finally {
      await scrub(a, b, c);
    }
  });

  it('refuses invalid arguments with exit 2 and a message, and changes nothing', async () => {
    const before = (await lab.exec(1, ['ip', '-4', '-o', 'addr'])).stdout;
    const cases: Array<[string, string]> = [
      [`${lab.subnet}.300`, 'is not an IPv4 address'],
      ['web.example', 'is not an IPv4 address'],
      [`${lab.subnet}.104/33`, 'is not a netmask'],
      [`${lab.subnet}.104/255.0.255.0`, 'is not a netmask'],
      [`${lab.subnet}.104/24/eth0/1.2.3`, 'is not an IPv4 address'],
      [`${lab.subnet}.104/24/eth0/${lab.subnet}.255/extra`, 'too many fields'],
      ['239.1.2.3', 'not a unicast host address'],
    ];
    for (const [arg, msg] of cases) {
      const r = await rsc(arg, 'start');
      expect(r.code, arg).toBe(2);
      expect(r.stdout, arg).toBe('ERROR:  Illegal argument\n');
      expect(r.stderr, arg).toContain(msg);
    }
    const usage = await lab.exec(1, [join(RSC_DIR, 'IPaddr'), 'start']);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toMatch(/^usage: IPaddr /);
    const noIf = await rsc(`${lab.subnet}.104/24/eth7`, 'start');
    expect(noIf.code).toBe(6);
    expect(noIf.stderr).toContain('Interface eth7 does not exist');
    const noRoute = await rsc('192.0.2.10', 'start');
    expect(noRoute.code).toBe(1);
    expect(noRoute.stderr).toContain('No interface found for 192.0.2.10');
    expect((await lab.exec(1, ['ip', '-4', '-o', 'addr'])).stdout).toBe(before);
  });

  it('announces the address with gratuitous ARP requests and replies, in the background', async () => {
    const ip = vip(110);
    const cap = await lab.spawn('c', ['tcpdump', '-l', '-n', '-e', '-i', 'eth0', `arp and host ${ip}`]);
    spawned.push(cap);
    try {
      await waitFor(() => cap.output(), { timeoutMs: 15_000, what: 'tcpdump listening', until: (o) => o.includes('listening on') });
      const start = await rsc(ip, 'start', { HB_ARP_COUNT: '3' });
      expect(start.code).toBe(0);
      // start returned while the ARP sender (3 requests + 3 replies, 1 s apart) still runs
      const pidfile = `/var/run/heartbeat/rsctmp/send_arp-${ip}`;
      const alive = await lab.sh(1, `kill -0 "$(cat ${pidfile})" && echo alive`);
      expect(alive.stdout.trim()).toBe('alive');
      const seen = await waitFor(() => cap.output(), {
        timeoutMs: 30_000,
        what: 'a gratuitous ARP request and reply',
        until: (o) => o.includes(`Request who-has ${ip} (ff:ff:ff:ff:ff:ff) tell ${ip}`) && o.includes(`Reply ${ip} is-at ${node1Mac}`),
      });
      expect(seen).toContain(`${node1Mac} > ff:ff:ff:ff:ff:ff`);
      const neigh = await lab.exec('c', ['ip', 'neigh', 'show', ip, 'dev', 'eth0']);
      expect(neigh.stdout).toContain(`lladdr ${node1Mac}`);
      expect((await rsc(ip, 'stop')).code).toBe(0);
    } finally {
      cap.kill('SIGKILL');
      await scrub(ip);
    }
  });

  it('stop cuts a long ARP burst short (no arping left behind)', async () => {
    const ip = vip(111);
    try {
      expect((await rsc(ip, 'start', { HB_ARP_COUNT: '60' })).code).toBe(0);
      expect((await lab.pids(1, 'arping')).length).toBeGreaterThan(0);
      expect(lab.readFile(1, `/run/heartbeat/rsctmp/send_arp-${ip}`)).toMatch(/^\d+\n$/);
      expect((await rsc(ip, 'stop')).code).toBe(0);
      await waitFor(() => lab.pids(1, 'arping'), { timeoutMs: 10_000, what: 'no arping in node1', until: (p) => p.length === 0 });
      expect(lab.readFile(1, `/run/heartbeat/rsctmp/send_arp-${ip}`)).toBeUndefined();
    } finally {
      await scrub(ip);
    }
  });
});

describe('IPaddr2', () => {
  it('adds no alias label and no broadcast unless asked; dev:label gives that label; status wants the prefix', async () => {
    const [a, b] = [vip(130), vip(131)];
    try {
      expect((await res(`IPaddr2::${a}`, 'start')).code).toBe(0);
      expect(await addrLine(lab, 1, a)).toMatch(new RegExp(`inet ${a}/24 scope global secondary eth0\\\\`));
      const r = await res(`IPaddr2::${b}/24/eth0:web`, 'start');
      expect(r.code).toBe(0);
      expect(labelOf(await addrLine(lab, 1, b))).toBe('eth0:web');
      expect(statusSaysRunning((await res(`IPaddr2::${a}`, 'status')).stdout)).toBe(true);
      const wrongPrefix = await res(`IPaddr2::${a}/25/eth0`, 'status');
      expect(statusSaysRunning(wrongPrefix.stdout)).toBe(false);
      expect(wrongPrefix.stderr).toContain(`not /25 on eth0`);
      const long = await res(`IPaddr2::${vip(132)}/24/eth0:averyverylonglabel`, 'start');
      expect(long.code).toBe(6);
      expect(long.stderr).toContain('longer than the kernel');
      expect(await addrLine(lab, 1, vip(132))).toBeUndefined();
      // no connected route: not running, and stop has nothing to do
      expect((await res('IPaddr2::192.0.2.20', 'status')).code).toBe(7);
      expect((await res('IPaddr2::192.0.2.20', 'stop')).code).toBe(0);
      for (const x of [a, `${b}/24/eth0:web`]) expect((await res(`IPaddr2::${x}`, 'stop')).code).toBe(0);
      expect(await addrLine(lab, 1, a)).toBeUndefined();
      expect(await addrLine(lab, 1, b)).toBeUndefined();
    } finally {
      await scrub(a, b, vip(132));
    }
  });
});

describe('SendArp', () => {
  it('announces a local address on the given interface; a pseudo resource for status', async () => {
    const ip = vip(140);
    const cap = await lab.spawn('c', ['tcpdump', '-l', '-n', '-e', '-i', 'eth0', `arp and host ${ip}`]);
    spawned.push(cap);
    try {
      await waitFor(() => cap.output(), { timeoutMs: 15_000, what: 'tcpdump listening', until: (o) => o.includes('listening on') });
      // not configured here: arping cannot send from it, so SendArp refuses
      const notLocal = await res(`SendArp::${ip}/eth0`, 'start');
      expect(notLocal.code).toBe(1);
      expect(notLocal.stderr).toContain(`${ip} is not configured on this host`);
      await lab.exec(1, ['ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
      expect(statusSaysRunning((await res(`SendArp::${ip}/eth0`, 'status')).stdout)).toBe(false);
      expect((await res(`SendArp::${ip}/eth0`, 'start', { HB_ARP_COUNT: '2' })).code).toBe(0);
      const st = await res(`SendArp::${ip}/eth0`, 'status');
      expect(st).toMatchObject({ code: 0, stdout: 'INFO:  Running OK\n' });
      await waitFor(() => cap.output(), {
        timeoutMs: 30_000,
        what: 'gratuitous ARP from SendArp',
        until: (o) => o.includes(`Request who-has ${ip} (ff:ff:ff:ff:ff:ff) tell ${ip}`) && o.includes(`Reply ${ip} is-at ${node1Mac}`),
      });
      expect((await res(`SendArp::${ip}/eth0`, 'stop')).code).toBe(0);
      expect(await res(`SendArp::${ip}/eth0`, 'status')).toMatchObject({ code: 7, stdout: 'INFO:  Resource is stopped\n' });
      expect((await res(`SendArp::${ip}`, 'start')).code).toBe(2);
    } finally {
      cap.kill('SIGKILL');
      await lab.exec(1, ['ip', 'addr', 'del', `${ip}/32`, 'dev', 'lo']);
    }
  });
});

describe("compared with Debian's /etc/ha.d/resource.d/IPaddr", () => {
  it('same address, broadcast, alias label and stdout; each one sees and removes the other one\'s address', async () => {
    const [d, o] = [vip(120), vip(121)];
    const debian = (arg: string, op: string) => rscIn(lab, 1, `IPaddr::${arg}`, op, {}, DEBIAN_RSC_DIR);
    try {
      // Debian's init script creates the OCF agents' state dir at boot
      await lab.exec(1, ['mkdir', '-p', '/run/resource-agents']);
      const ds = await debian(d, 'start');
      expect(ds).toMatchObject({ code: 0, stdout: 'INFO:  Success\n' });
      const os = await rsc(o, 'start');
      expect(os.stdout).toBe(ds.stdout);
      const dl = await addrLine(lab, 1, d);
      const ol = await addrLine(lab, 1, o);
      const shape = (l: string | undefined, ip: string) => l?.replace(ip, 'IP').replace(/eth0:\d+/, 'eth0:N').replace(/\s+/g, ' ');
      expect(shape(ol, o)).toBe(shape(dl, d));
      expect(labelOf(dl)).toBe('eth0:0');
      expect(labelOf(ol)).toBe('eth0:1');
      // status lines are identical, and each reads the other's address as running
      const [dOnO, oOnD] = [await debian(o, 'status'), await rsc(d, 'status')];
      expect(dOnO).toMatchObject({ code: 0, stdout: 'INFO:  Running OK\n' });
      expect(oOnD).toMatchObject({ code: 0, stdout: 'INFO:  Running OK\n' });
      // either one can release the other's address (a node changing implementation)
      expect((await rsc(d, 'stop')).code).toBe(0);
      expect((await debian(o, 'stop')).code).toBe(0);
      expect(await addrLine(lab, 1, d)).toBeUndefined();
      expect(await addrLine(lab, 1, o)).toBeUndefined();
      const [dStopped, oStopped] = [await debian(d, 'status'), await rsc(d, 'status')];
      expect(oStopped.stdout).toBe(dStopped.stdout);
      expect(oStopped.code).toBe(dStopped.code);
      expect(statusSaysRunning(dStopped.stdout)).toBe(false);
    } finally {
      await scrub(d, o);
    }
  });
});

describe('script logging (ha_log layout, spec 11.6)', () => {
  it('writes HA_LOGFILE and HA_DEBUGLOG lines with the script(instance)[pid] tag, nothing to stderr', async () => {
    const ip = vip(150);
    const env = { HA_LOGFILE: '/var/log/rsc-test.log', HA_DEBUGLOG: '/var/log/rsc-test.debug', HA_DATEFMT: '%Y/%m/%d_%T\t', HA_debug: '1' };
    try {
      const r = await rsc(`${ip}/24/eth0`, 'start', env);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const log = lab.readFile(1, env.HA_LOGFILE) ?? '';
      const tag = `IPaddr\\(IPaddr_${ip.replace(/\./g, '\\.')}\\)\\[\\d+\\]`;
      expect(log).toMatch(new RegExp(`^\\d{4}/\\d\\d/\\d\\d_\\d\\d:\\d\\d:\\d\\d  ${tag}:    INFO: ip -4 addr add ${ip}/24 brd `, 'm'));
      expect(log).toMatch(new RegExp(`  ${tag}:    INFO: Success$`, 'm'));
      const dbg = lab.readFile(1, env.HA_DEBUGLOG) ?? '';
      expect(dbg).toMatch(new RegExp(`^${tag}:\\t\\d{4}/\\d\\d/\\d\\d_\\d\\d:\\d\\d:\\d\\d INFO: Success$`, 'm'));
      // without any log destination the same lines go to stderr
      const plain = await rsc(`${ip}/24/eth0`, 'status');
      expect(plain.stderr).toMatch(new RegExp(`  ${tag}:    INFO: Running OK\\n$`));
    } finally {
      await scrub(ip);
    }
  });
});
