/**
 * hb_rsctest over every resource.d script of Debian's heartbeat package and
 * over heartbeat-ts's own, inside a lab node (addresses, routes, firewall
 * rules and mounts change in the node only). Each row of the README table
 * "Resource scripts under heartbeat-ts" is one case here: the verdict the
 * tester gives, and for the failing ones the check that names why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopDisk, type LoopDisk, teardownDiskLab } from './failover-support.js';
import { authKeys, haCf, writeHaConfig } from './harness/heartbeat.js';
import { Lab, REPO_ROOT } from './harness/lab.js';

const RSCTEST = join(REPO_ROOT, 'dist/daemon/hb_rsctest.js');
const OURS = join(REPO_ROOT, 'resource.d');
const MOUNT_DIR = '/srv/data';
/** The instance file of OCF::Delay::d1 (the wrapper exports its variables to the agent). */
const OCF_DELAY_CONF = 'OCF_RESOURCE_INSTANCE=d1\nOCF_RESKEY_startdelay=1\nOCF_RESKEY_stopdelay=1\n';

interface JsonCheck { step: string; check: string; verdict: 'pass' | 'warn' | 'fail'; got: string }
interface Report { safe: boolean; refused: string | null; killed: string[]; checks: JsonCheck[] }

let lab: Lab | undefined;
let disk: LoopDisk | undefined;
const theLab = (): Lab => {
  if (lab === undefined) throw new Error('lab not up');
  return lab;
};

/** Runs hb_rsctest in node 1; `resource` as in haresources (or a path::args for our scripts). */
async function rsctest(resource: string, env: Record<string, string> = {}, args: readonly string[] = []): Promise<{ code: number; report: Report; raw: string }> {
  // The daemon's default deadlines unless a case says otherwise: a script that needs more is reported as such.
  const r = await theLab().exec(1, [process.execPath, RSCTEST, '--json', ...args, resource], {
    timeoutMs: 400_000, env: { HB_ARP_COUNT: '1', ...env },
  });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`hb_rsctest ${resource}: exit ${r.code}, no JSON: ${r.stdout}${r.stderr}`);
  }
  return { code: r.code, report, raw: r.stdout };
}

const failures = (r: Report): string[] => r.checks.filter((c) => c.verdict === 'fail').map((c) => `${c.step} [${c.check}]`);

beforeAll(async () => {
  disk = createLoopDisk({ 'hello.txt': 'hello\n' });
  lab = await Lab.up({ nodes: 1, ipv6: true, private: ['/srv:empty'] });
  const l = lab;
  await l.exec(1, ['mkdir', '-p', MOUNT_DIR, '/etc/ha.d/conf/OCF/Delay']);
  l.writeFile(1, '/etc/ha.d/conf/OCF/Delay/d1', OCF_DELAY_CONF);
  // The environment scripts get comes from ha.cf, as the daemon's does (logging to a file, not logd).
  writeHaConfig(l, 1, { hacf: haCf({ media: 'bcast', nodes: ['node1'] }), authkeys: authKeys('sha1'), haresources: '', nodeinfo: 'node1\n' });
  // IPsrcaddr changes the source address of the default route: give the node one.
  await l.exec(1, ['ip', 'route', 'replace', 'default', 'via', `${l.subnet}.1`, 'dev', 'eth0']);
  // …from an address a resource before it in the group brought up (not the node's own: stop restores that one).
  await l.exec(1, ['ip', 'addr', 'add', `${l.subnet}.102/24`, 'dev', 'eth0']);
}, 180_000);

afterAll(async () => {
  await teardownDiskLab(lab, disk, MOUNT_DIR, 'rsctest-scripts');
}, 180_000);

/** One row per script: resource as written in haresources, and what the tester says. */
interface Case {
  name: string;
  resource: () => string;
  safe: boolean;
  /** The failed checks (for unsafe scripts): the reason in the README table. */
  why?: RegExp;
  /** Environment of the tester (so of the script), e.g. a workaround the README gives. */
  env?: Record<string, string>;
  /** More hb_rsctest options. */
  args?: readonly string[];
}
const vip = (n: number): string => `${theLab().subnet}.${n}`;

const DEBIAN: Case[] = [
  { name: 'IPaddr', resource: () => `IPaddr::${vip(100)}/24/eth0`, safe: true },
  { name: 'IPaddr2', resource: () => `IPaddr2::${vip(101)}/24/eth0`, safe: true },
  // Its stop sets the primary address as preferred source; a second stop then fails (exit 1).
  { name: 'IPsrcaddr', resource: () => `IPsrcaddr::${vip(102)}`, safe: false, why: /^stop \(again\) \[exit-code\]$/ },
  // "::" separates arguments in haresources: an IPv6 address is written without it.
  { name: 'IPv6addr', resource: () => 'IPv6addr::fd00:77:0:0:0:0:0:100/64/eth0', safe: true },
  { name: 'SendArp', resource: () => `SendArp::${vip(11)}/eth0`, safe: true },
  // Its status sleeps 30 s (mondelay): past a 5 s deadline here as past the default 30 s one, only sooner.
  { name: 'Delay (as shipped)', resource: () => 'Delay::1::1', safe: false, why: /^status \(before\) \[deadline\]/, args: ['--status-timeout', '5'] },
  { name: 'Delay', resource: () => 'Delay::1::1', safe: true, env: { OCF_RESKEY_mondelay: '1' } },
  { name: 'MailTo', resource: () => 'MailTo::root@localhost::rsctest', safe: true },
  // The tester passes it (its status is a pseudo-resource file), but it cannot see its own rule: see below.
  { name: 'portblock', resource: () => 'portblock::tcp::8080::block', safe: true },
  { name: 'Filesystem', resource: () => `Filesystem::${disk?.device ?? ''}::${MOUNT_DIR}::ext4`, safe: true },
  // OCF_AGENTS of shellfuncs points one directory too deep for the wrapper's lookup; it calls the agent's
  // `status`, which only some agents have (Delay does, Dummy does not).
  { name: 'OCF (as shipped)', resource: () => 'OCF::Delay::d1', safe: false, why: /^start \[exit-code\]/ },
  { name: 'OCF', resource: () => 'OCF::Delay::d1', safe: true, env: { OCF_AGENTS: '/usr/lib/ocf/resource.d' } },
  { name: 'AudibleAlarm', resource: () => 'AudibleAlarm', safe: false, why: /^start \[output-pipe\], start \[process-group\]/ },
  { name: 'apache', resource: () => 'apache', safe: false, why: /^start \[exit-code\]/ },
  { name: 'Xinetd', resource: () => 'Xinetd::ftp', safe: false, why: /^start \[exit-code\]/ },
  { name: 'WinPopup', resource: () => 'WinPopup', safe: false, why: /^start \[exit-code\]/ },
  { name: 'LVM', resource: () => 'LVM::nosuchvg', safe: false, why: /^start \[exit-code\]/ },
  // drbd-utils (not the heartbeat package) ships these two: without it they are missing, a static failure.
  { name: 'drbddisk', resource: () => 'drbddisk::r0', safe: false, why: /^(start \[exit-code\]|static \[static\])/ },
  { name: 'drbdupper', resource: () => 'drbdupper::r0', safe: false, why: /^(start \[exit-code\]|static \[static\])/ },
  { name: 'Raid1', resource: () => 'Raid1::/etc/mdadm/mdadm.conf::/dev/md0', safe: false, why: /^start \[exit-code\]/ },
  { name: 'LinuxSCSI', resource: () => 'LinuxSCSI::0:0:1:0', safe: false, why: /^start \[exit-code\]/ },
  { name: 'ICP', resource: () => 'ICP::c0h1::/dev/sdb1', safe: false, why: /^start \[exit-code\]/ },
  { name: 'ServeRAID', resource: () => 'ServeRAID::1::1', safe: false, why: /^start \[exit-code\]/ },
  { name: 'db2', resource: () => 'db2::db2inst1', safe: false, why: /^start \[exit-code\]/ },
  { name: 'WAS', resource: () => 'WAS', safe: false, why: /^start \[exit-code\]/ },
  { name: 'ids', resource: () => 'ids', safe: false, why: /^start \[exit-code\]/ },
  { name: 'hto-mapfuncs', resource: () => 'hto-mapfuncs', safe: false, why: /^status \(started\) \[running-rule\]$/ },
];

const OWN: Case[] = [
  { name: 'IPaddr', resource: () => `${OURS}/IPaddr::${vip(110)}/24/eth0`, safe: true },
  { name: 'IPaddr2', resource: () => `${OURS}/IPaddr2::${vip(111)}/24/eth0`, safe: true },
  { name: 'SendArp', resource: () => `${OURS}/SendArp::${vip(11)}/eth0`, safe: true },
  { name: 'Delay', resource: () => `${OURS}/Delay::1::1`, safe: true },
  { name: 'MailTo', resource: () => `${OURS}/MailTo::root@localhost::rsctest`, safe: true },
  { name: 'Filesystem', resource: () => `${OURS}/Filesystem::${disk?.device ?? ''}::${MOUNT_DIR}::ext4`, safe: true },
  { name: 'lvs-realserver', resource: () => `${OURS}/lvs-realserver::${vip(120)}`, safe: true },
  { name: 'apache', resource: () => `${OURS}/apache`, safe: false },
  { name: 'ldirectord', resource: () => `${OURS}/ldirectord::/nonexistent.cf`, safe: false },
];

describe.each([
  ["Debian's heartbeat resource.d", DEBIAN],
  ["heartbeat-ts's resource.d", OWN],
])('hb_rsctest over %s', (_title, cases) => {
  it.each(cases)('$name', async (c) => {
    const { code, report, raw } = await rsctest(c.resource(), c.env, c.args);
    expect(code, raw).toBe(c.safe ? 0 : 1);
    expect(report.safe, raw).toBe(c.safe);
    if (c.why !== undefined) expect(failures(report).join(', ')).toMatch(c.why);
    // A safe script leaves nothing behind for the tester to kill.
    if (c.safe) expect(report.killed).toEqual([]);
  }, 300_000);
});

describe("Debian's portblock with Debian 12's iptables", () => {
  it('leaves its DROP rule after stop: its rule check parses `iptables -L`, which now prints the protocol as a number', async () => {
    const l = theLab();
    const rules = async (): Promise<string[]> => (await l.exec(1, ['iptables', '-S', 'INPUT'])).stdout.split('\n').filter((r) => r.includes('8080'));
    const listing = (await l.exec(1, ['iptables', '-n', '-L', 'INPUT'])).stdout;
    // the hb_rsctest case above ran start twice and stop twice
    expect(await rules()).toHaveLength(2);
    expect(listing).toMatch(/^DROP\s+6\s+--/m);
    for (const r of await rules()) await l.exec(1, ['iptables', ...r.replace(/^-A /, '-D ').split(' ')]);
    expect(await rules()).toEqual([]);
  }, 60_000);
});

describe('the host is untouched', () => {
  it('nothing of the lab is mounted on the host', () => {
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    expect(mounts).not.toContain(MOUNT_DIR);
  });
});
