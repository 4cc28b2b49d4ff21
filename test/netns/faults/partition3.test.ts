/**
 * Partition and heal with three nodes (issue 8), heartbeat-ts and Debian's
 * heartbeat 3.0.6 side by side. node1 prefers `FaultRes::a`, node2
 * `FaultRes::b`, node3 nothing; the LAN is split into {node1} and
 * {node2, node3}.
 *
 * heartbeat-ts has no quorum option (neither has heartbeat's v1 resource
 * manager; haresources clusters are meant for two nodes). What happens, in
 * both implementations: every node of the majority side declares node1 dead
 * and runs mach_down for it, so node1's group runs on all three nodes while
 * the partition lasts. On heal every node sees the others `returning after
 * partition`, gives everything up and restarts; then the groups are back on
 * their preferred nodes, one holder each.
 */
import { afterAll, describe, it } from 'vitest';
import { FaultCluster, faultResProbe, HoldingMonitor, type Impl, waitHolding } from './support.js';

const clusters: FaultCluster[] = [];
afterAll(async () => {
  const problems = (await Promise.all(clusters.map((c) => c.teardown()))).flat();
  if (problems.length > 0) throw new Error(problems.join('; '));
}, 120_000);

describe.concurrent('partition and heal, three nodes, no quorum', () => {
  for (const impl of ['ours', 'real'] as Impl[]) {
    it(`${impl}: both majority nodes take the minority's group; after the heal all restart and one node holds each group`, async ({ expect }) => {
      const c = await FaultCluster.create({
        impl, nodes: 3, hacf: { deadtime: 5, initdead: 10 },
        haresources: () => 'node1 FaultRes::a\nnode2 FaultRes::b\n',
      });
      clusters.push(c);
      const m = new HoldingMonitor(c.lab, { a: faultResProbe('a'), b: faultResProbe('b') }).start();
      await c.startAll();
      await waitHolding(m, 'a on node1, b on node2', (h) => h['a']?.join() === '1' && h['b']?.join() === '2', 60_000);
      const at = c.lab.ids().map((i) => c.logSize(i));

      await c.lab.partition([[1], [2, 3]]);
      // no quorum: node2 AND node3 take a (mach_down for node1 on every survivor)
      await waitHolding(m, 'a on node1, node2 and node3', (h) => h['a']?.join() === '1,2,3', 30_000);
      await new Promise((r) => setTimeout(r, 3000));
      expect(m.current()['b']).toContain(2);

      await c.lab.heal();
      const healed = m.now();
      for (const i of c.lab.ids()) await c.waitLog(i, /CRIT: Cluster node node\d returning after partition\./, 30_000, at[i - 1]);
      let since = 0;
      await waitHolding(m, 'a on node1 and b on node2 for 10 s', (h) => {
        const ok = h['a']?.join() === '1' && h['b']?.join() === '2';
        if (!ok) since = 0;
        else if (since === 0) since = m.now();
        return ok && m.now() - since >= 10_000;
      }, 120_000);
      m.stop();
      c.note(`3-node partition: settled ${((since - healed) / 1000).toFixed(1)} s after the heal\n${m.timeline()}`);
      expect(since - healed).toBeLessThan(60_000);
      expect(m.doubles(since), m.timeline()).toEqual([]);
      for (const i of c.lab.ids()) expect(c.log(i).slice(at[i - 1])).toMatch(/Giving up all HA resources\./);
    }, 240_000);
  }
});
