/**
 * `quorum majority` (heartbeat-ts.cf) in whole simulated clusters of three
 * and five nodes, next to the same partitions without quorum (3.0.6's
 * behaviour): holders sampled every 50 ms of simulated time.
 *
 * With quorum: the minority gives its groups up and rejoins as a new
 * generation; one member of the majority takes the lost nodes' groups
 * after the grace; never a group on two nodes; after the heal one holder
 * each and no restart of the majority (no storm). Two nodes: a split
 * leaves neither side with quorum, both release.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Fencer } from '../../lib/resources/fencing.js';
import { SimCluster, type SimOptions } from './cluster.js';

const clusters: SimCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stopAll();
});

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `node${i + 1}`);

async function started(o: SimOptions, groups: string[]): Promise<{ s: SimCluster; worst: () => number; sample: (what: string, cond: () => boolean, maxMs?: number) => Promise<number> }> {
  const s = new SimCluster(o);
  clusters.push(s);
  for (const n of o.nodes) await s.start(n);
  let worst = 0;
  const sample = (what: string, cond: () => boolean, maxMs = 120_000): Promise<number> => s.until(what, () => {
    for (const g of groups) worst = Math.max(worst, s.holders(g).length);
    return cond();
  }, maxMs);
  await sample('every group on its home node, all stable', () => groups.every((g, i) => s.holders(g).join() === `node${i + 1}`)
    && o.nodes.every((n) => s.controller(n).isStable()));
  return { s, worst: () => worst, sample };
}

const restarts = (s: SimCluster, node: string): number => s.lines(node).filter((l) => l.startsWith('info: Restarting heartbeat:')).length;

describe('quorum majority, three nodes, partition {node1} / {node2, node3}', () => {
  const o: SimOptions = { nodes: names(3), haresources: 'node1 ra\nnode2 rb\n', autoFailback: 'off', quorum: 'majority' };

  it('node1 releases and rejoins; node2 alone takes ra; never on two nodes; heal without a restart of the majority', async () => {
    const { s, worst, sample } = await started(o, ['ra', 'rb']);
    const apart = s.clock.nowMs();
    s.net.partition(['node1'], ['node2', 'node3']);
    await sample('ra on node2 only, rb on node2', () => s.holders('ra').join() === 'node2' && s.holders('rb').join() === 'node2', 60_000);
    expect(s.lines('node1')).toContain('CRIT: Quorum lost: 1 of 3 nodes (node1) seen.');
    expect(s.lines('node3')).toContain('info: Quorum: 2 of 3 nodes (node2, node3); node2 takes the groups of dead node node1.');
    await s.run(20_000);
    expect(s.holders('ra')).toEqual(['node2']);
    expect(s.runtime('node1')?.phase).toBe('running');
    const gen = s.generation('node1');
    s.net.heal();
    await sample('node1 back, every node stable, one holder each', () => o.nodes.every((n) => s.cluster(n).view('node1')?.status === 'active')
      && o.nodes.every((n) => s.controller(n).isStable()) && s.holders('ra').length === 1 && s.holders('rb').length === 1, 60_000);
    await s.run(20_000);
    expect(worst()).toBe(1);
    expect(s.holders('ra')).toEqual(['node2']);
    expect(s.generation('node1')).toBe(gen);
    expect(restarts(s, 'node2') + restarts(s, 'node3')).toBe(0);
    expect(s.timeline.filter((e) => e.line.includes('returning after partition'))).toEqual([]);
    // the v1 audits stay quiet: peers' holdings are merged for the 2-node negotiation
    expect(s.timeline.filter((e) => e.t >= apart && e.line.startsWith('ERROR'))).toEqual([]);
  });

  it('without quorum (3.0.6): ra on all three nodes while apart, and every node restarts on heal', async () => {
    const { s, sample } = await started({ ...o, quorum: 'off' }, ['ra', 'rb']);
    s.net.partition(['node1'], ['node2', 'node3']);
    await sample('ra on three nodes', () => s.holders('ra').length === 3, 60_000);
    s.net.heal();
    await sample('one holder each after the restarts', () => s.holders('ra').length === 1 && s.holders('rb').length === 1
      && o.nodes.every((n) => s.runtime(n)?.phase === 'running' && s.controller(n).isStable()), 120_000);
    expect(restarts(s, 'node2') + restarts(s, 'node3')).toBeGreaterThan(0);
  });

  it('the only survivor of a crash keeps nothing; a crash of one node of three moves its group to one survivor', async () => {
    const { s, worst, sample } = await started(o, ['ra', 'rb']);
    await s.crash('node1');
    s.machine('node1').reboot();
    await sample('ra on node2', () => s.holders('ra').join() === 'node2', 60_000);
    await s.run(10_000);
    expect(worst()).toBe(1);
    await s.crash('node2');
    s.machine('node2').reboot();
    await sample('node3 alone holds nothing', () => s.holders('ra').length === 0 && s.holders('rb').length === 0 && s.machine('node3').running.size === 0, 60_000);
  });
});

describe('quorum majority, five nodes, partition {node1, node2} / {node3, node4, node5}', () => {
  const o: SimOptions = { nodes: names(5), haresources: 'node1 ra\nnode2 rb\nnode3 rc\n', autoFailback: 'off', quorum: 'majority' };

  it('the minority releases both groups; node3 alone takes them; heal with one holder each, no storm', async () => {
    const { s, worst, sample } = await started(o, ['ra', 'rb', 'rc']);
    const apart = s.clock.nowMs();
    s.net.partition(['node1', 'node2'], ['node3', 'node4', 'node5']);
    await sample('ra, rb, rc on node3', () => ['ra', 'rb', 'rc'].every((g) => s.holders(g).join() === 'node3'), 60_000);
    await s.run(20_000);
    s.net.heal();
    await sample('everyone active and stable, one holder each', () => o.nodes.every((n) => o.nodes.every((m) => s.cluster(n).view(m)?.status === 'active'))
      && o.nodes.every((n) => s.controller(n).isStable()), 90_000);
    await s.run(20_000);
    expect(worst()).toBe(1);
    expect(['ra', 'rb', 'rc'].map((g) => s.holders(g).join())).toEqual(['node3', 'node3', 'node3']);
    expect(['node3', 'node4', 'node5'].map((n) => restarts(s, n))).toEqual([0, 0, 0]);
    expect(s.timeline.filter((e) => e.t >= apart && e.line.startsWith('ERROR'))).toEqual([]);
  });

  it('without quorum (3.0.6): the minority\'s groups run on every node of the majority', async () => {
    const { s, sample } = await started({ ...o, quorum: 'off' }, ['ra', 'rb', 'rc']);
    s.net.partition(['node1', 'node2'], ['node3', 'node4', 'node5']);
    await sample('ra on node1 and the three of the majority', () => s.holders('ra').length >= 4, 60_000);
  });
});

describe('quorum majority, two nodes', () => {
  it('a split leaves neither side with quorum: both release, nothing runs until they meet again', async () => {
    const o: SimOptions = { nodes: names(2), haresources: 'node1 ra\n', autoFailback: 'off', quorum: 'majority' };
    const { s, worst, sample } = await started(o, ['ra']);
    s.net.partition(['node1'], ['node2']);
    await sample('nobody holds ra', () => s.holders('ra').length === 0, 60_000);
    await s.run(20_000);
    expect(s.holders('ra')).toEqual([]);
    s.net.heal();
    await sample('ra runs again, once', () => s.holders('ra').length === 1 && o.nodes.every((n) => s.controller(n).isStable()), 90_000);
    expect(worst()).toBe(1);
  });
});

describe('quorum majority: every node with a group of its own, seeds, fencing, shutdown', () => {
  const own = (n: number, extra: Partial<SimOptions> = {}): SimOptions => ({
    nodes: names(n), haresources: names(n).map((x) => `${x} svc${x.slice(4)}\n`).join(''), autoFailback: 'off', quorum: 'majority', ...extra,
  });
  const groups = (n: number): string[] => names(n).map((x) => `svc${x.slice(4)}`);

  for (const [n, minority] of [[3, ['node1']], [5, ['node1', 'node2']]] as Array<[number, string[]]>) {
    for (const seed of [2, 3]) {
      it(`${n} nodes {${minority.join(',')}} (seed ${seed}): lost groups on the first majority node only; heal keeps one holder each`, async () => {
        const { s, worst, sample } = await started(own(n, { seed }), groups(n));
        const majority = names(n).filter((x) => !minority.includes(x));
        const taker = majority[0] as string;
        s.net.partition(minority, majority);
        await sample(`the minority's groups on ${taker}`, () => minority.every((m) => s.holders(`svc${m.slice(4)}`).join() === taker), 60_000);
        s.net.heal();
        await sample('all active and stable, one holder each', () => names(n).every((x) => s.runtime(x)?.phase === 'running')
          && names(n).every((x) => names(n).every((y) => s.cluster(x).view(y)?.status === 'active'))
          && names(n).every((x) => s.controller(x).isStable()) && groups(n).every((g) => s.holders(g).length === 1), 90_000);
        await s.run(20_000);
        expect(worst()).toBe(1);
        expect(majority.map((x) => restarts(s, x))).toEqual(majority.map(() => 0));
      });
    }
  }

  it('with STONITH: only the taker fences the minority, and takes its group after the reset', async () => {
    const resets: string[] = [];
    const fencer = (by: string): Fencer => ({ description: 'sim', reset: async (node: string) => { resets.push(`${by}->${node}`); return 'OK'; } } as unknown as Fencer);
    const { s, worst, sample } = await started(own(3, { fencer }), groups(3));
    s.net.partition(['node1'], ['node2', 'node3']);
    await sample('node2 took svc1', () => s.holders('svc1').join() === 'node2', 60_000);
    await s.run(20_000);
    expect(resets).toEqual(['node2->node1']);
    const reset = s.when('node2', 'info: node node1 now reset.');
    expect(reset).toBeDefined();
    expect(s.when('node2', /Taking over resource group svc1/)).toBeGreaterThanOrEqual(reset as number);
    expect(worst()).toBe(1);
  });

  it('a graceful shutdown of a holder: exactly one node takes its group', async () => {
    const { s, worst, sample } = await started(own(3), groups(3));
    await s.shutdown('node1');
    await sample('node2 took svc1', () => s.holders('svc1').join() === 'node2', 60_000);
    await s.run(30_000);
    expect(s.holders('svc1')).toEqual(['node2']);
    expect(worst()).toBe(1);
    expect(s.controller('node2').isStable() && s.controller('node3').isStable()).toBe(true);
  });
});
