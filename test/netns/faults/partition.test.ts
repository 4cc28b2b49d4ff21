/**
 * Partition and heal (issue 8), two nodes, heartbeat-ts and Debian's
 * heartbeat 3.0.6 side by side (same ha.cf: keepalive 1, deadtime 5,
 * auto_failback off). node1's group is a floating address and an ext4 file
 * system on one loop device that both nodes' mount namespaces can mount
 * (the shared disk). The link between the nodes is cut: both declare the
 * other dead and both run the group (the split brain no heartbeat can avoid
 * without fencing — asserted, so that a change in it is noticed). On heal
 * both log `returning after partition`, give everything up and restart with
 * a new generation; then exactly one node holds the group again, within a
 * bounded time, and the file system is never again mounted on both once the
 * first node has let it go.
 */
import { afterAll, describe, it } from 'vitest';
import {
  createLoopDisk, FaultCluster, HoldingMonitor, type Impl, type LoopDisk, mountProbe, unmountEverywhere, vipProbe, waitHolding,
} from './support.js';

const MNT = '/srv/shared';
const clusters: FaultCluster[] = [];
const disks: LoopDisk[] = [];

afterAll(async () => {
  const problems = (await Promise.all(clusters.map((c) => c.teardown(() => unmountEverywhere(c.lab, MNT))))).flat();
  for (const d of disks) problems.push(...d.release());
  if (problems.length > 0) throw new Error(problems.join('; '));
}, 120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.concurrent('partition and heal, two nodes, shared disk', () => {
  for (const impl of ['ours', 'real'] as Impl[]) {
    it(`${impl}: both take the group while cut; after the heal one node holds it again and the disk is never mounted twice`, async ({ expect }) => {
      const disk = createLoopDisk();
      disks.push(disk);
      const c = await FaultCluster.create({
        impl, nodes: 2, hacf: { deadtime: 5, initdead: 10 }, lab: { private: ['/srv:empty'] },
        haresources: (lab) => `node1 IPaddr::${lab.subnet}.100/24/eth0 Filesystem::${disk.device}::${MNT}::ext4\n`,
      });
      clusters.push(c);
      for (const i of c.lab.ids()) await c.lab.exec(i, ['mkdir', '-p', MNT]);
      const m = new HoldingMonitor(c.lab, { vip: vipProbe(`${c.lab.subnet}.100`), fs: mountProbe(MNT) }).start();
      await c.startAll();
      await waitHolding(m, 'node1 holds VIP and disk', (h) => h['vip']?.join() === '1' && h['fs']?.join() === '1', 60_000);
      const gens = [c.generation(1), c.generation(2)];
      const at = [c.logSize(1), c.logSize(2)];

      await c.lab.partition([[1], [2]]);
      await Promise.all([c.waitLog(1, /node node2: is dead/, 30_000, at[0]), c.waitLog(2, /node node1: is dead/, 30_000, at[1])]);
      // the split brain: both run the group
      await waitHolding(m, 'both hold the group', (h) => h['vip']?.length === 2 && h['fs']?.length === 2, 30_000);
      await sleep(3000);

      await c.lab.heal();
      const healed = m.now();
      for (const [n, i] of [[1, 2], [2, 1]] as const) {
        await c.waitLog(n, new RegExp(`CRIT: Cluster node node${i} returning after partition\\.`), 30_000, at[n - 1]);
      }
      // settle: one holder of each for 10 s
      let since = 0;
      await waitHolding(m, 'one holder of VIP and disk for 10 s', (h) => {
        const ok = h['vip']?.length === 1 && h['fs']?.length === 1 && h['vip']?.[0] === h['fs']?.[0];
        if (!ok) since = 0;
        else if (since === 0) since = m.now();
        return ok && m.now() - since >= 10_000;
      }, 120_000);
      m.stop();
      const fsSingle = m.samples.find((s) => s.t >= healed && (s.held['fs'] ?? []).length <= 1)?.t ?? Infinity;
      const resolvedIn = since - healed;
      const logs = [c.log(1).slice(at[0]), c.log(2).slice(at[1])];
      c.note(`partition: disk on one node or none ${((fsSingle - healed) / 1000).toFixed(1)} s after the heal, `
        + `one holder from ${(resolvedIn / 1000).toFixed(1)} s; generations ${gens.join(',')} -> ${c.generation(1)},${c.generation(2)}\n${m.timeline()}`);

      expect(fsSingle - healed).toBeLessThan(15_000);
      expect(m.doubles(fsSingle).filter((s) => (s.held['fs'] ?? []).length > 1), m.timeline()).toEqual([]);
      expect(resolvedIn).toBeLessThan(60_000);
      for (const log of logs) {
        expect(log).toMatch(/WARN: Deadtime value may be too small\./);
        expect(log).toMatch(/Split_Brain/);
        expect(log).toMatch(/Giving up all HA resources\./);
      }
      // both restarted: a new generation each
      expect(c.generation(1)).toBeGreaterThan(gens[0] as number);
      expect(c.generation(2)).toBeGreaterThan(gens[1] as number);
      // node1, the group's preferred node, holds it again (both restart, both start, RQSTDELAY)
      expect(m.current()['fs']).toEqual([1]);
    }, 240_000);
  }
});
