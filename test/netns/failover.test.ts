/**
 * Resource failover between two heartbeat-ts nodes (issue 3, "Must show"):
 *
 *   node1 IPaddr::<vip>/24/eth0 Filesystem::<loop>::/srv/www::ext4 hostmark::/srv/www httpd::/srv/www::80
 *
 * IPaddr and Filesystem are the repository's resource.d scripts; httpd is
 * the LSB init-script fixture (test/netns/fixtures/httpd-init.sh) installed
 * as /etc/init.d/httpd, found there because resource.d has no `httpd`; it
 * serves the mounted shared disk. hostmark (fixtures/hostmark.sh) writes
 * "served by <node>" into the disk before the server starts, so the client
 * namespace reading http://<vip>/host.txt learns which node answers, and
 * /history.txt (on the disk) shows every node that held it, in order.
 *
 * Shared storage: one loop device, visible to both nodes (they share the
 * host's /dev), mounted by whichever node holds the group in its own mount
 * namespace. An ExclusivityMonitor samples both nodes every 100 ms for the
 * whole file (VIP from the kernel's local table, mount from the node's
 * /proc/<pid>/mounts) and records any moment both hold the VIP or the mount.
 *
 * Crash model: `kill -9` of node1's daemon plus its link cut. Node1's
 * kernel keeps its VIP, mount and web server, frozen and unreachable: the
 * monitor stops counting node1 from the cut. Before node1 rejoins, its
 * leftovers are cleaned as a reboot would (every process of the node
 * killed, /run emptied, the VIP removed, the disk unmounted); from that
 * moment node1 counts again, so a returning node1 that re-acquired while
 * node2 still held the group would show up as a violation.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, installRepoScripts, Member } from './failover-cluster.js';
import { Failover } from './failover-scenario.js';
import { createLoopDisk, ExclusivityMonitor, type LoopDisk, runToken, teardownDiskLab } from './failover-support.js';
import { authKeys, haCf, httpGet, logSize, readLog, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';

const PORT = 80;
const MOUNT_DIR = '/srv/www';
const token = runToken();
let lab: Lab | undefined;
let disk: LoopDisk | undefined;
let monitor: ExclusivityMonitor | undefined;
let fo: Failover | undefined;

function F(): Failover {
  if (fo === undefined) throw new Error('cluster not set up');
  return fo;
}

function configure(l: Lab, d: LoopDisk, autoFailback: boolean): void {
  const vip = `${l.subnet}.100`;
  for (const i of l.ids()) {
    writeHaConfig(l, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10, autoFailback }),
      authkeys: authKeys('sha1'),
      haresources:
        `# shared disk ${d.device} (${d.image})\n` +
        `node1 IPaddr::${vip}/24/eth0 Filesystem::${d.device}::${MOUNT_DIR}::ext4 \\\n` +
        `      hostmark::${MOUNT_DIR} httpd::${MOUNT_DIR}::${PORT}\n`,
    });
  }
}

async function startBoth(f: Failover): Promise<void> {
  await Promise.all(f.members.map((m) => m.start()));
}

beforeAll(async () => {
  disk = createLoopDisk({ 'index.html': `shared disk ${token}\n` });
  lab = await Lab.up({ nodes: 2, private: ['/srv:empty'], privateInitD: true });
  const l = lab;
  for (const i of l.ids()) {
    await l.exec(i, ['mkdir', '-p', MOUNT_DIR]);
    installRepoScripts(l, i, ['IPaddr', 'Filesystem']);
    l.writeFile(i, '/etc/ha.d/resource.d/hostmark', '', 0o755);
    copyFileSync(join(FIXTURES, 'hostmark.sh'), l.path(i, '/etc/ha.d/resource.d/hostmark'));
    l.writeFile(i, '/etc/init.d/httpd', '', 0o755);
    copyFileSync(join(FIXTURES, 'httpd-init.sh'), l.path(i, '/etc/init.d/httpd'));
  }
  monitor = new ExclusivityMonitor(l, { vip: `${l.subnet}.100`, device: disk.device, mountDir: MOUNT_DIR });
  monitor.start();
  fo = new Failover(l, [new Member(l, 1, 'ours'), new Member(l, 2, 'ours')], monitor, {
    vip: `${l.subnet}.100`,
    port: PORT,
    device: disk.device,
    mountDir: MOUNT_DIR,
  });
}, 120_000);

afterAll(async () => {
  monitor?.stop();
  if (fo !== undefined) console.log(`[failover] measured:\n  ${fo.measurements.join('\n  ')}`);
  await teardownDiskLab(lab, disk, MOUNT_DIR, 'failover');
}, 120_000);

async function expectHistoryEndsWith(f: Failover, nodes: string[]): Promise<void> {
  const r = await httpGet(f.lab, 'c', `http://${f.o.vip}:${PORT}/history.txt`);
  expect(r.status).toBe(200);
  const holders = r.body.trim().split('\n').map((l) => l.split(' ')[1]);
  expect(holders.slice(-nodes.length)).toEqual(nodes);
}

describe.sequential('two heartbeat-ts nodes, auto_failback on', () => {
  it('node1 takes the group: HTTP on the VIP is answered by node1 from the shared disk', async () => {
    const f = F();
    const l = f.lab;
    configure(l, disk as LoopDisk, true);
    await startBoth(f);
    f.note(`auto_failback on: group up on node1 ${(await f.waitServedBy(1, 90_000)) / 1000} s after the start`);
    await f.expectSoleHolder(1);
    // the monitor's view (kernel tables read from /proc) agrees with `ip addr` and the mount table
    await new Promise((r) => setTimeout(r, 300));
    expect(f.monitor.last()).toMatchObject({ vip: [1], mount: [1] });
    expect((await httpGet(l, 'c', `http://${f.o.vip}:${PORT}/index.html`)).body).toBe(`shared disk ${token}\n`);
    const log = readLog(l, 1);
    expect(log).toContain(`Running /etc/ha.d/resource.d/IPaddr ${f.o.vip}/24/eth0 start`);
    expect(log).toContain(`Running /etc/ha.d/resource.d/Filesystem ${f.o.device} ${MOUNT_DIR} ext4 start`);
    // no resource.d/httpd: the LSB script is found in /etc/init.d
    expect(log).toContain(`Running /etc/init.d/httpd ${MOUNT_DIR} ${PORT} start`);
    expect(readLog(l, 2)).not.toMatch(/Running .* start/);
    f.expectNoDoubleHolding();
  });

  it('kill -9 of node1 with its link cut: node2 takes over, the disk is mounted on node2 only', async () => {
    const f = F();
    const l = f.lab;
    const size2 = logSize(l, 2);
    const killedAt = await f.crashAndCut(1);
    await f.waitServedBy(2, 60_000);
    f.note(`auto_failback on: kill -9 + cut of node1 -> first HTTP answer from node2 after ${(Date.now() - killedAt) / 1000} s (deadtime 5 s)`);
    // node1 is frozen with its leftovers (a crashed machine, unreachable): that is why the
    // monitor does not count it while it is cut; among live nodes only node2 holds
    await f.expectSoleHolder(2, [1]);
    await new Promise((r) => setTimeout(r, 300));
    expect(f.monitor.last()).toMatchObject({ vip: [1, 2], mount: [1, 2] });
    await waitForLog(l, 2, /node node1: is dead/, { timeoutMs: 1000, after: size2 });
    await waitForLog(l, 2, new RegExp(`Taking over resource group IPaddr::${f.o.vip.replace(/\./g, '\\.')}/24/eth0`), { timeoutMs: 1000, after: size2 });
    await expectHistoryEndsWith(f, ['node1', 'node2']);
    f.expectNoDoubleHolding();
  });

  it('node1 returns (rebooted): auto_failback on moves the group back to node1', async () => {
    const f = F();
    const l = f.lab;
    const size2 = logSize(l, 2);
    const t0 = Date.now();
    await f.rebootAndRejoin(1);
    await f.waitServedBy(1, 90_000);
    f.note(`auto_failback on: node1 restarted -> serving again after ${(Date.now() - t0) / 1000} s`);
    await f.expectSoleHolder(1);
    // node2 gave the group back through the standby handshake
    await waitForLog(l, 2, /standby: node1 can take our foreign resources/, { timeoutMs: 1000, after: size2 });
    await expectHistoryEndsWith(f, ['node1', 'node2', 'node1']);
    f.expectNoDoubleHolding();
  });

  it('hb_standby on node1 hands the group to node2', async () => {
    const f = F();
    await f.waitStable();
    const t0 = Date.now();
    await f.member(1).standby();
    await f.waitServedBy(2, 60_000);
    f.note(`hb_standby on node1 -> node2 serving after ${(Date.now() - t0) / 1000} s`);
    await f.expectSoleHolder(2);
    f.expectNoDoubleHolding();
  });

  it('hb_takeover on node1 takes it back', async () => {
    const f = F();
    await f.waitStable();
    const t0 = Date.now();
    await f.member(1).takeover();
    await f.waitServedBy(1, 60_000);
    f.note(`hb_takeover on node1 -> node1 serving after ${(Date.now() - t0) / 1000} s`);
    await f.expectSoleHolder(1);
    await expectHistoryEndsWith(f, ['node1', 'node2', 'node1', 'node2', 'node1']);
    f.expectNoDoubleHolding();
  });
});

describe.sequential('two heartbeat-ts nodes, auto_failback off', () => {
  it('both restart with auto_failback off: node1 takes its group', async () => {
    const f = F();
    await f.stopAll();
    configure(f.lab, disk as LoopDisk, false);
    await startBoth(f);
    f.note(`auto_failback off: group up on node1 ${(await f.waitServedBy(1, 90_000)) / 1000} s after the start`);
    await f.expectSoleHolder(1);
    f.expectNoDoubleHolding();
  });

  it('kill -9 of node1 with its link cut: node2 takes over', async () => {
    const f = F();
    const killedAt = await f.crashAndCut(1);
    await f.waitServedBy(2, 60_000);
    f.note(`auto_failback off: kill -9 + cut of node1 -> first HTTP answer from node2 after ${(Date.now() - killedAt) / 1000} s`);
    await f.expectSoleHolder(2, [1]);
    f.expectNoDoubleHolding();
  });

  it('node1 returns (rebooted): the group stays on node2', async () => {
    const f = F();
    const l = f.lab;
    const size1 = logSize(l, 1);
    await f.rebootAndRejoin(1);
    // node1 sees node2 stable and holding everything, and takes nothing
    await waitForLog(l, 1, /Local Resource acquisition completed\. \(none\)/, { timeoutMs: 60_000, after: size1 });
    await f.keepsServing(2, 12_000);
    await f.expectSoleHolder(2);
    expect(readLog(l, 1).slice(size1)).not.toMatch(/Running .* start/);
    f.expectNoDoubleHolding();
  });

  it('hb_takeover on node1 moves the group to node1', async () => {
    const f = F();
    await f.waitStable();
    await f.member(1).takeover();
    await f.waitServedBy(1, 60_000);
    await f.expectSoleHolder(1);
    f.expectNoDoubleHolding();
  });

  it('hb_standby on node1 moves it back to node2', async () => {
    const f = F();
    await f.waitStable();
    await f.member(1).standby();
    await f.waitServedBy(2, 60_000);
    await f.expectSoleHolder(2);
    f.expectNoDoubleHolding();
  });

  it('a graceful stop of both leaves nothing held; the VIP and the disk were never on both nodes', async () => {
    const f = F();
    await f.stopAll();
    const m = f.monitor;
    m.stop();
    expect(m.samples.length).toBeGreaterThan(300);
    expect(m.sawVipOn(1) && m.sawVipOn(2) && m.sawMountOn(1) && m.sawMountOn(2)).toBe(true);
    f.expectNoDoubleHolding();
  });
});
