/**
 * Drop-in (issue 3): heartbeat-ts drives Debian's own resource scripts —
 * the heartbeat package's /etc/ha.d/resource.d/IPaddr and Filesystem, thin
 * wrappers around the resource-agents OCF agents — exactly as heartbeat's
 * ResourceManager does: the VIP comes up on the group's owner (reachable
 * from a client), the shared disk is mounted there only, a graceful stop
 * releases both and the peer takes them over with the same scripts, and the
 * last stop leaves nothing configured anywhere.
 *
 * The nodes' /etc/ha.d is a copy of the host's, so its resource.d holds
 * Debian's scripts; the first test checks that nothing replaced them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOursEnv, stopOurs } from './failover-cluster.js';
import { createLoopDisk, ExclusivityMonitor, type LoopDisk, runToken, teardownDiskLab } from './failover-support.js';
import { authKeys, haCf, ipAddrs, mounts, ping, readLog, waitFor, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab, labUp } from './harness/lab.js';

const MOUNT_DIR = '/srv/data';
const token = runToken();
let lab: Lab | undefined;
let disk: LoopDisk | undefined;
let monitor: ExclusivityMonitor | undefined;

const theLab = (): Lab => labUp(lab);
function theDisk(): LoopDisk {
  if (disk === undefined) throw new Error('no disk');
  return disk;
}
const vipOf = (l: Lab): string => `${l.subnet}.100`;

async function holdsVip(l: Lab, i: number): Promise<boolean> {
  return (await ipAddrs(l, i)).includes(`${vipOf(l)}/24`);
}
async function mountedOn(l: Lab, i: number): Promise<boolean> {
  return (await mounts(l, i)).some((m) => m.target === MOUNT_DIR && m.source === theDisk().device);
}

beforeAll(async () => {
  disk = createLoopDisk({ 'index.html': `shared disk ${token}\n` });
  lab = await Lab.up({ nodes: 2, private: ['/srv:empty'] });
  const l = lab;
  for (const i of l.ids()) {
    writeHaConfig(l, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], deadtime: 5, keepalive: 1, initdead: 10, autoFailback: false }),
      authkeys: authKeys('sha1'),
      haresources: `node1 IPaddr::${vipOf(l)}/24/eth0 Filesystem::${disk.device}::${MOUNT_DIR}::ext4\n`,
    });
    await l.exec(i, ['mkdir', '-p', MOUNT_DIR]);
  }
  monitor = new ExclusivityMonitor(l, { vip: vipOf(l), device: disk.device, mountDir: MOUNT_DIR });
  monitor.start();
}, 120_000);

afterAll(async () => {
  monitor?.stop();
  await teardownDiskLab(lab, disk, MOUNT_DIR, 'dropin');
}, 120_000);

describe("heartbeat-ts with Debian's IPaddr and Filesystem", () => {
  it("uses the heartbeat package's scripts, untouched", () => {
    const l = theLab();
    for (const s of ['IPaddr', 'Filesystem']) {
      expect(readFileSync(l.path(1, `/etc/ha.d/resource.d/${s}`), 'utf8')).toBe(readFileSync(`/etc/ha.d/resource.d/${s}`, 'utf8'));
    }
    // Debian's wrappers hand over to the resource-agents OCF agents
    expect(readFileSync('/etc/ha.d/resource.d/IPaddr', 'utf8')).toMatch(/hto-mapfuncs/);
  });

  it('node1 brings the VIP up and mounts the disk with them; node2 holds nothing', async () => {
    const l = theLab();
    const ip = vipOf(l);
    for (const i of l.ids()) await startOursEnv(l, i);
    await waitFor(() => holdsVip(l, 1), { timeoutMs: 60_000, what: `${ip} on node1` });
    await waitFor(() => mountedOn(l, 1), { timeoutMs: 30_000, what: `${MOUNT_DIR} mounted on node1` });
    const log = readLog(l, 1);
    expect(log).toContain(`Running /etc/ha.d/resource.d/IPaddr ${ip}/24/eth0 start`);
    expect(log).toContain(`Running /etc/ha.d/resource.d/Filesystem ${theDisk().device} ${MOUNT_DIR} ext4 start`);
    expect(log).not.toMatch(/Return code \d+ from|Giving up resources/);
    expect(await ping(l, 'c', ip)).toBe(true);
    // the mounted file system is the shared disk's
    expect((await l.exec(1, ['cat', `${MOUNT_DIR}/index.html`])).stdout).toBe(`shared disk ${token}\n`);
    // Debian's IPaddr adds an ifconfig-style alias label
    const show = await l.exec(1, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(show.stdout).toMatch(new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24 .*eth0:\\d`));
    expect(await holdsVip(l, 2)).toBe(false);
    expect(await mountedOn(l, 2)).toBe(false);
    // the status the daemon relies on, asked by hand: OCF wrappers say "Running OK"
    const st = await l.exec(1, ['/etc/ha.d/resource.d/IPaddr', `${ip}/24/eth0`, 'status']);
    expect(st.stdout).toMatch(/Running OK/);
  }, 120_000);

  it('a graceful stop of node1 releases both and node2 takes them over with the same scripts', async () => {
    const l = theLab();
    const m = monitor;
    if (m === undefined) throw new Error('no monitor');
    const at = m.now();
    await stopOurs(l, 1);
    expect(await holdsVip(l, 1)).toBe(false);
    expect(await mountedOn(l, 1)).toBe(false);
    const log1 = readLog(l, 1);
    expect(log1).toContain(`Running /etc/ha.d/resource.d/Filesystem ${theDisk().device} ${MOUNT_DIR} ext4 stop`);
    expect(log1).toContain(`Running /etc/ha.d/resource.d/IPaddr ${vipOf(l)}/24/eth0 stop`);
    expect(log1).toMatch(/All HA resources relinquished/);
    await waitFor(() => holdsVip(l, 2), { timeoutMs: 30_000, what: 'VIP on node2' });
    await waitFor(() => mountedOn(l, 2), { timeoutMs: 30_000, what: 'disk mounted on node2' });
    expect(await ping(l, 'c', vipOf(l))).toBe(true);
    expect((await l.exec(2, ['cat', `${MOUNT_DIR}/index.html`])).stdout).toBe(`shared disk ${token}\n`);
    expect(m.sawVipOn(2, at) && m.sawMountOn(2, at)).toBe(true);
  }, 120_000);

  it('stopping the last node releases everything: no VIP, no mount anywhere', async () => {
    const l = theLab();
    await stopOurs(l, 2);
    await waitForLog(l, 2, /Heartbeat shutdown complete/, { timeoutMs: 5000 });
    for (const i of l.ids()) {
      expect(await holdsVip(l, i)).toBe(false);
      expect(await mountedOn(l, i)).toBe(false);
    }
    expect(await ping(l, 'c', vipOf(l), 1)).toBe(false);
  }, 120_000);

  it('never had the VIP or the disk on both nodes', () => {
    const m = monitor;
    if (m === undefined) throw new Error('no monitor');
    m.stop();
    expect(m.errors).toEqual([]);
    expect(m.samples.length).toBeGreaterThan(100);
    expect(m.sawVipOn(1) && m.sawMountOn(1) && m.sawVipOn(2) && m.sawMountOn(2)).toBe(true);
    expect(m.violations, m.timeline()).toEqual([]);
  });
});
