/**
 * heartbeat-ts.cf `fast_start` with real daemons (issue 14): a heartbeat-ts
 * pair with the file starting together runs its groups right after comm-up;
 * next to a real Heartbeat 3.0.6 node the same heartbeat-ts node keeps
 * RQSTDELAY, and 3.0.6 takes the extra field in `starting`/`resource`
 * without a complaint (its ha_msg parser ignores unknown fields).
 */
import { afterAll, describe, it } from 'vitest';
import { FaultCluster, faultResProbe, HoldingMonitor, type Impl, waitHolding } from './faults/support.js';

const clusters: FaultCluster[] = [];
afterAll(async () => {
  const problems = (await Promise.all(clusters.map((c) => c.teardown()))).flat();
  if (problems.length > 0) throw new Error(problems.join('; '));
}, 120_000);

/** ms from node i's comm-up (`Local status now set to: 'active'`) to its first group start. */
function commUpToStart(c: FaultCluster, i: number): number {
  const lines = c.log(i).split('\n');
  const stamp = (re: RegExp): number => {
    const l = lines.find((x) => re.test(x));
    const m = l === undefined ? null : /(\d\d):(\d\d):(\d\d)/.exec(l);
    return m === null ? NaN : ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000;
  };
  return stamp(/Running \S*FaultRes \S+ start/) - stamp(/Local status now set to: 'active'/);
}

describe.concurrent('fast_start', () => {
  const cases: Array<{ impl: readonly Impl[]; fast: boolean }> = [{ impl: ['ours', 'ours'], fast: true }, { impl: ['ours', 'real'], fast: false }];
  for (const { impl, fast } of cases) {
    it(`${impl.join('+')} starting together, heartbeat-ts.cf on the heartbeat-ts nodes: ${fast ? 'no RQSTDELAY' : 'RQSTDELAY kept'}`, async ({ expect }) => {
      const c = await FaultCluster.create({ impl, nodes: 2, hacf: { deadtime: 5, initdead: 10, autoFailback: true }, haresources: () => 'node1 FaultRes::a\nnode2 FaultRes::b\n' });
      clusters.push(c);
      for (const i of c.lab.ids()) if (c.implOf(i) === 'ours') c.lab.writeFile(i, '/etc/ha.d/heartbeat-ts.cf', '# fast_start is on by default\n');
      const m = new HoldingMonitor(c.lab, { a: faultResProbe('a'), b: faultResProbe('b') }).start();
      await c.startAll();
      await waitHolding(m, 'a on node1, b on node2', (h) => h['a']?.join() === '1' && h['b']?.join() === '2', 90_000);
      m.stop();
      const waited = commUpToStart(c, 1);
      c.note(`fast_start ${impl.join('+')}: node1 comm-up -> its group's start ${waited} ms (1 s log resolution)`);
      if (fast) expect(waited).toBeLessThan(8000);
      else expect(waited).toBeGreaterThanOrEqual(9000);
      // 3.0.6's own start-up complaint about mlock in a lab node is not about the messages
      const complaints = (i: number): string[] => c.log(i).split('\n').filter((l) => /ERROR|bad field|malformed/i.test(l) && !/Cannot lock ourselves into memory/.test(l));
      for (const i of c.lab.ids()) expect(complaints(i)).toEqual([]);
    }, 240_000);
  }
});
