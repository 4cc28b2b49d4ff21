/**
 * Packet loss (issue 8): 20 % then 40 % of node2's frames dropped at the
 * switch (both directions), three minutes in all, at keepalive 500 ms /
 * deadtime 10 s; heartbeat-ts and Debian's heartbeat 3.0.6 in two labs side
 * by side. No node is declared dead, no resource moves, and the
 * retransmission protocol fills the gaps: `N lost packet(s) for [X]` is
 * followed by `No pkts missing from X!`.
 *
 * Odds: a false `dead` needs every heartbeat of one deadtime lost (a
 * retransmitted status never counts for liveness, in 3.0.6 either). At
 * keepalive 1 s that is ten in a row, ~10⁻⁴ per second at 40 %: a run of
 * this length then failed a few percent of the time in both implementations
 * (seen in CI). At 500 ms it is twenty in a row, ~10⁻⁸, so a `dead` here is a
 * regression, not bad luck. The test prints every late heartbeat.
 */
import { afterAll, describe, it } from 'vitest';
import { FaultCluster, faultResProbe, HoldingMonitor, type Impl, waitHolding } from './support.js';

const PHASES: ReadonlyArray<readonly [number, number]> = [[20, 100_000], [40, 80_000]];
const clusters: FaultCluster[] = [];
afterAll(async () => {
  const problems = (await Promise.all(clusters.map((c) => c.teardown()))).flat();
  if (problems.length > 0) throw new Error(problems.join('; '));
}, 120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.concurrent('packet loss on one node link', () => {
  for (const impl of ['ours', 'real'] as Impl[]) {
    it(`${impl}: 20 % then 40 % loss for 3 minutes: no false dead, nothing moves, retransmissions fill the gaps`, async ({ expect }) => {
      const c = await FaultCluster.create({
        impl, nodes: 2, hacf: { keepalive: '500ms', deadtime: 10, initdead: 20 },
        haresources: () => 'node1 FaultRes::a\nnode2 FaultRes::b\n',
      });
      clusters.push(c);
      const m = new HoldingMonitor(c.lab, { a: faultResProbe('a'), b: faultResProbe('b') }, 250).start();
      await c.startAll();
      await waitHolding(m, 'a on node1, b on node2', (h) => h['a']?.join() === '1' && h['b']?.join() === '2', 60_000);
      await sleep(2000);
      const from = m.now();
      const at = [c.logSize(1), c.logSize(2)];
      const counts: string[] = [];
      for (const [pct, ms] of PHASES) {
        const before = [c.logSize(1), c.logSize(2)];
        await c.lab.loss(2, pct);
        await sleep(ms);
        const lost = [1, 2].map((i, n) => c.count(i, /lost packet\(s\) for \[/, before[n]));
        const filled = [1, 2].map((i, n) => c.count(i, /No pkts missing from/, before[n]));
        const late = [1, 2].map((i, n) => c.count(i, /Late heartbeat/, before[n]));
        counts.push(`${pct} %: lost-packet lines ${lost.join('/')}, gaps closed ${filled.join('/')}, late heartbeats ${late.join('/')}`);
      }
      await c.lab.heal(2);
      await sleep(5000);
      m.stop();
      const logs = [c.log(1).slice(at[0]), c.log(2).slice(at[1])];
      const lateLines = logs.flatMap((l) => l.split('\n').filter((x) => /Late heartbeat/.test(x)));
      c.note(`loss (node1/node2): ${counts.join('; ')}\nlate heartbeats:\n${lateLines.join('\n')}`);
      for (const [n, log] of logs.entries()) {
        const peer = n === 0 ? 'node2' : 'node1';
        expect(log, `node${n + 1}`).not.toMatch(/is dead|returning after partition|Heartbeat restart on node|No local heartbeat/);
        expect(log).toMatch(new RegExp(`\\d+ lost packet\\(s\\) for \\[${peer}\\]`));
        expect(log).toMatch(new RegExp(`No pkts missing from ${peer}!`));
        expect(log).not.toMatch(/Acquiring resource group|Releasing resource group/);
      }
      const moved = m.samples.filter((s) => s.t >= from && (s.held['a']?.join() !== '1' || s.held['b']?.join() !== '2'));
      expect(moved, m.timeline(from)).toEqual([]);
    }, 300_000);
  }
});
