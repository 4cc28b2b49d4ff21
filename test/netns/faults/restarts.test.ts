/**
 * Restarts (issue 8): heartbeat-ts killed with SIGKILL and started again,
 * repeatedly, also in the middle of a takeover and of a standby. Every start
 * stores a higher generation (/var/lib/heartbeat/hb_generation); the peer
 * logs `Heartbeat restart on node X` and never takes a restart for a
 * partition heal (`returning after partition`); no group ends up on both
 * nodes or on none. node1 prefers `FaultRes::a`, node2 `FaultRes::b`; a
 * SIGKILL leaves resources as they are (a crash without the reboot), which
 * the restarted daemon finds running and keeps.
 */
import { afterAll, describe, it } from 'vitest';
import { waitFor } from '../harness/heartbeat.js';
import { FaultCluster, faultResProbe, HoldingMonitor, waitHolding } from './support.js';

const clusters: FaultCluster[] = [];
afterAll(async () => {
  const problems = (await Promise.all(clusters.map((c) => c.teardown()))).flat();
  if (problems.length > 0) throw new Error(problems.join('; '));
}, 120_000);

async function pair(): Promise<{ c: FaultCluster; m: HoldingMonitor; stableAt: number }> {
  const c = await FaultCluster.create({
    impl: 'ours', nodes: 2, hacf: { deadtime: 5, initdead: 10 },
    haresources: () => 'node1 FaultRes::a\nnode2 FaultRes::b\n',
  });
  clusters.push(c);
  const m = new HoldingMonitor(c.lab, { a: faultResProbe('a'), b: faultResProbe('b') }).start();
  await c.startAll();
  await waitHolding(m, 'a on node1 and b on node2', (h) => is(h, { a: '1', b: '2' }), 60_000);
  return { c, m, stableAt: m.now() };
}

const is = (h: Record<string, number[]>, want: Record<string, string>): boolean =>
  Object.entries(want).every(([k, v]) => (h[k] ?? []).join(',') === v);
const one = (h: Record<string, number[]>): boolean => (h['a'] ?? []).length === 1 && (h['b'] ?? []).length === 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** kill -9 node i and start it again at once; returns the generations before and after. */
async function crashRestart(c: FaultCluster, i: number): Promise<[number, number]> {
  const before = c.generation(i);
  const at = c.logSize(i);
  await c.kill9(i);
  await c.start(i);
  await c.waitLog(i, /Heartbeat generation: \d+/, 20_000, at);
  await c.waitActive(i, 30_000, at);
  return [before, c.generation(i)];
}

/** Waits until each group has exactly one holder and keeps it for holdMs. */
async function settle(m: HoldingMonitor, holdMs: number, timeoutMs: number): Promise<number> {
  let since = 0;
  await waitFor(() => {
    const ok = one(m.current());
    if (!ok) since = 0;
    else if (since === 0) since = m.now();
    return ok && m.now() - since >= holdMs;
  }, { timeoutMs, what: `one holder per group for ${holdMs} ms`, intervalMs: 250 });
  return since;
}

describe.concurrent('kill -9 and restart', () => {
  it('three crashes and restarts in a row: generation up each time, the peer sees restarts, groups stay put', async ({ expect }) => {
    const { c, m, stableAt } = await pair();
    const at1 = c.logSize(1);
    const gens: number[] = [c.generation(2)];
    for (let k = 1; k <= 3; k++) {
      const [before, after] = await crashRestart(c, 2);
      expect(after).toBe(before + 1);
      gens.push(after);
      await waitFor(() => c.count(1, /info: Heartbeat restart on node node2$/, at1), {
        timeoutMs: 20_000, what: `node1 noticing restart ${k}`, until: (n) => n >= k,
      });
      await sleep(2000);
    }
    await settle(m, 5000, 60_000);
    m.stop();
    const log1 = c.log(1).slice(at1);
    c.note(`restarts: generations ${gens.join(' -> ')}\n${m.timeline()}`);
    expect(log1).not.toMatch(/returning after partition/);
    expect(log1).not.toMatch(/node node2: is dead/);
    expect(c.count(1, /Heartbeat restart on node node2/, at1)).toBe(3);
    // node2 found b still running after each crash and kept it; nothing ever moved
    expect(m.doubles(), m.timeline()).toEqual([]);
    expect(m.orphans(stableAt), m.timeline()).toEqual([]);
    expect(is(m.current(), { a: '1', b: '2' })).toBe(true);
  }, 180_000);

  it('a crash in the middle of a takeover (and a second one after it): one holder per group in the end', async ({ expect }) => {
    const { c, m } = await pair();
    // node2's takeover of a will take 4 s
    c.setFault(2, 'a', 'slow-start', '4');
    const at2 = c.logSize(2);
    await c.stop(1);
    await c.waitLog(2, /Running \/etc\/ha\.d\/resource\.d\/FaultRes a start/, 20_000, at2);
    await sleep(1500);
    const [g0, g1] = await crashRestart(c, 2);
    expect(g1).toBe(g0 + 1);
    // node2 is alone: it takes a over (or finds the interrupted start finished) and keeps b
    await waitHolding(m, 'a and b on node2', (h) => is(h, { a: '2', b: '2' }), 60_000);
    c.clearFault(2, 'a', 'slow-start');
    // node1 comes back and a second crash of node2 follows at once
    const at1 = c.logSize(1);
    await c.start(1);
    await c.waitActive(1, 30_000, at1);
    // node1 must have heard node2's current generation before node2 crashes again,
    // otherwise the restarted node2 is simply its first contact (no restart to log).
    await c.waitLog(1, /Status update for node node2: status active/, 20_000, at1);
    const [g2, g3] = await crashRestart(c, 2);
    expect(g3).toBe(g2 + 1);
    await c.waitLog(1, /Heartbeat restart on node node2/, 20_000, at1);
    const from = await settle(m, 10_000, 90_000);
    m.stop();
    c.note(`takeover crash:\n${m.timeline()}`);
    expect(c.log(1).slice(at1)).not.toMatch(/returning after partition/);
    expect(m.doubles(from), m.timeline()).toEqual([]);
  }, 240_000);

  it('a crash in the middle of a standby: one holder per group in the end, no partition heal', async ({ expect }) => {
    const { c, m } = await pair();
    // node2 goes standby (hands b to node1); node1's start of b takes 4 s and node1 dies in it
    c.setFault(1, 'b', 'slow-start', '4');
    const at1 = c.logSize(1);
    const at2 = c.logSize(2);
    const r = await c.lab.exec(2, ['/usr/share/heartbeat/hb_standby', 'all']);
    expect(r.code, r.stderr).toBe(0);
    await c.waitLog(1, /standby: acquire \[\w+\] resources from node2/, 20_000, at1);
    await sleep(1500);
    const [g0, g1] = await crashRestart(c, 1);
    expect(g1).toBe(g0 + 1);
    c.clearFault(1, 'b', 'slow-start');
    await c.waitLog(2, /Heartbeat restart on node node1/, 20_000, at2);
    const from = await settle(m, 10_000, 90_000);
    m.stop();
    c.note(`standby crash:\n${m.timeline()}\n--- node1\n${c.log(1).slice(at1)}\n--- node2\n${c.log(2).slice(at2)}`);
    expect(c.log(2).slice(at2)).not.toMatch(/returning after partition/);
    expect(m.doubles(from), m.timeline()).toEqual([]);
    // the standby node1 never finished is not left pending on node2: it stops promptly
    const t0 = Date.now();
    await c.stop(2, 60_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 240_000);
});
