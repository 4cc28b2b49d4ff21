/**
 * The "works" rows of the README's table of Debian's resource.d scripts,
 * driven by the daemon and not only by hb_rsctest: two heartbeat-ts nodes
 * with one group of Debian's scripts (IPaddr2, IPsrcaddr, IPv6addr,
 * Filesystem on a loop device, SendArp, Delay, OCF::Delay) in
 * haresources (portblock is not in it: see rsctest-scripts.test.ts); node1 takes the group, gives it up to node2
 * when it stops, takes it back (auto_failback on) when it returns. One
 * cluster run for all of them keeps the runtime modest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOursEnv, stopOurs } from './failover-cluster.js';
import { createLoopDisk, type LoopDisk, teardownDiskLab } from './failover-support.js';
import { authKeys, haCf, mounts, readLog, waitFor, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';

const MOUNT_DIR = '/srv/data';
/** The instance file of OCF::Delay::d1 (the wrapper exports its variables to the agent). */
const OCF_DELAY_CONF = 'OCF_RESOURCE_INSTANCE=d1\nOCF_RESKEY_startdelay=1\nOCF_RESKEY_stopdelay=1\n';
const V6 = 'fd00:77::100';
/** haresources separates arguments with "::": the IPv6 address is written without it. */
const V6_WRITTEN = 'fd00:77:0:0:0:0:0:100';
/** What the daemon's environment needs for two of Debian's wrappers (see the README table). */
const DAEMON_ENV = { OCF_AGENTS: '/usr/lib/ocf/resource.d', OCF_RESKEY_mondelay: '1' };

let lab: Lab | undefined;
let disk: LoopDisk | undefined;
const theLab = (): Lab => {
  if (lab === undefined) throw new Error('lab not up');
  return lab;
};
const vip = (): string => `${theLab().subnet}.100`;

/** Which of the group's resources node i holds, read from the node's kernel. */
async function holdings(i: number): Promise<Record<string, boolean>> {
  const l = theLab();
  const v4 = (await l.exec(i, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
  const v6 = (await l.exec(i, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
  const route = (await l.exec(i, ['ip', 'route', 'show', 'default'])).stdout;
  const mounted = (await mounts(l, i)).some((m) => m.target === MOUNT_DIR && m.source === disk?.device);
  const ocf = (await l.exec(i, ['/etc/ha.d/resource.d/OCF', 'Delay', 'd1', 'status'], { env: { ...DAEMON_ENV, HA_DIR: '/etc/ha.d/', OCF_ROOT: '/usr/lib/ocf' } })).stdout.includes('is running');
  return {
    IPaddr2: v4.includes(` ${vip()}/24 `),
    IPsrcaddr: route.includes(`src ${vip()}`),
    IPv6addr: v6.includes(` ${V6}/64 `),
    Filesystem: mounted,
    OCF: ocf,
  };
}
const ALL = { IPaddr2: true, IPsrcaddr: true, IPv6addr: true, Filesystem: true, OCF: true };
const NONE = { IPaddr2: false, IPsrcaddr: false, IPv6addr: false, Filesystem: false, OCF: false };

async function waitHolds(i: number, want: Record<string, boolean>, what: string): Promise<void> {
  await waitFor(() => holdings(i), { timeoutMs: 90_000, what, until: (h) => JSON.stringify(h) === JSON.stringify(want) });
}

beforeAll(async () => {
  disk = createLoopDisk({ 'hello.txt': 'hello\n' });
  lab = await Lab.up({ nodes: 2, ipv6: true, private: ['/srv:empty'] });
  const l = lab;
  const group = [
    `IPaddr2::${vip()}/24/eth0`, `IPsrcaddr::${vip()}`, `IPv6addr::${V6_WRITTEN}/64/eth0`,
    `Filesystem::${disk.device}::${MOUNT_DIR}::ext4`, `SendArp::${vip()}/eth0`, 'Delay::1::1', 'OCF::Delay::d1',
  ];
  for (const i of l.ids()) {
    writeHaConfig(l, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], deadtime: 5, keepalive: 1, initdead: 10, autoFailback: true }),
      authkeys: authKeys('sha1'),
      haresources: `node1 ${group.join(' ')}\n`,
      nodeinfo: `node${i}\n`,
    });
    await l.exec(i, ['mkdir', '-p', MOUNT_DIR, '/etc/ha.d/conf/OCF/Delay']);
    l.writeFile(i, '/etc/ha.d/conf/OCF/Delay/d1', OCF_DELAY_CONF);
    await l.exec(i, ['ip', 'route', 'replace', 'default', 'via', `${l.subnet}.1`, 'dev', 'eth0']);
  }
}, 180_000);

afterAll(async () => {
  await teardownDiskLab(lab, disk, MOUNT_DIR, 'rsctest-cluster');
}, 180_000);

describe("the daemon drives Debian's scripts: takeover and giveback", () => {
  it('node1 takes the whole group; node2 holds nothing', async () => {
    const l = theLab();
    for (const i of l.ids()) await startOursEnv(l, i, DAEMON_ENV);
    await waitHolds(1, ALL, 'node1 holding the group');
    expect(await holdings(2)).toEqual(NONE);
    expect(readLog(l, 1)).not.toMatch(/Return code \d+ from|Giving up resources|Cannot locate/);
  }, 180_000);

  it('node1 stops: it releases everything and node2 takes the group over', async () => {
    const l = theLab();
    await stopOurs(l, 1);
    expect(await holdings(1)).toEqual(NONE);
    await waitHolds(2, ALL, 'node2 holding the group');
    expect(readLog(l, 1)).toMatch(/All HA resources relinquished/);
    expect(readLog(l, 2)).not.toMatch(/Return code \d+ from|Giving up resources/);
  }, 180_000);

  it('node1 returns: node2 gives the group back (auto_failback on)', async () => {
    const l = theLab();
    await startOursEnv(l, 1, DAEMON_ENV);
    await waitHolds(1, ALL, 'node1 holding the group again');
    await waitHolds(2, NONE, 'node2 holding nothing');
  }, 180_000);

  it('stopping both leaves nothing anywhere', async () => {
    const l = theLab();
    await stopOurs(l, 2);
    await stopOurs(l, 1);
    await waitForLog(l, 1, /Heartbeat shutdown complete/, { timeoutMs: 30_000 });
    for (const i of l.ids()) expect(await holdings(i)).toEqual(NONE);
  }, 180_000);
});
