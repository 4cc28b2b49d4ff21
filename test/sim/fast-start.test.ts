/**
 * heartbeat-ts.cf `fast_start` (issue 14): two nodes starting together wait
 * RQSTDELAY (10 s) before taking their own groups, as 3.0.6 does — unless
 * every node says it skips it (a `starting`/`resource` field 3.0.6 ignores).
 * One node without it (a 3.0.6 node, or no heartbeat-ts.cf) keeps the wait.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimCluster, type SimOptions } from './cluster.js';

const clusters: SimCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stopAll();
});

const BASE: SimOptions = { nodes: ['node1', 'node2'], haresources: 'node1 ra\nnode2 rb\n', autoFailback: 'on' };

/** Both started at the same instant, until each runs its own group. */
async function coldStart(o: SimOptions): Promise<{ s: SimCluster }> {
  const s = new SimCluster(o);
  clusters.push(s);
  await Promise.all(o.nodes.map((n) => s.start(n)));
  await s.until('each node runs its own group', () => s.holders('ra').join() === 'node1' && s.holders('rb').join() === 'node2'
    && o.nodes.every((n) => s.controller(n).isStable()), 60_000);
  return { s };
}

const fromCommUp = (s: SimCluster, node: string, spec: string): number =>
  (s.when(node, `info: Running /sim/resource.d/${spec}  start`) ?? NaN) - (s.when(node, "info: Local status now set to: 'active'") ?? NaN);

describe('fast start (simulated)', () => {
  it('every node fast: each takes its own group at once after comm-up, no RQSTDELAY', async () => {
    const { s } = await coldStart({ ...BASE, fastStart: () => true });
    expect(fromCommUp(s, 'node1', 'ra')).toBeLessThan(1000);
    expect(fromCommUp(s, 'node2', 'rb')).toBeLessThan(1000);
    expect(s.holders('ra')).toEqual(['node1']);
  });

  it('one node without it: both keep 3.0.6\'s wait', async () => {
    const { s } = await coldStart({ ...BASE, fastStart: (n) => n === 'node1' });
    expect(fromCommUp(s, 'node1', 'ra')).toBeGreaterThanOrEqual(10_000);
    expect(fromCommUp(s, 'node2', 'rb')).toBeGreaterThanOrEqual(10_000);
  });

  it('without heartbeat-ts.cf (3.0.6): the wait', async () => {
    const { s } = await coldStart(BASE);
    expect(fromCommUp(s, 'node1', 'ra')).toBeGreaterThanOrEqual(10_000);
  });
});
