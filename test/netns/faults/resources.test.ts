/**
 * Resource faults (issue 8), heartbeat-ts on two lab nodes: node1 prefers
 * group `FaultRes::a`, node2 `FaultRes::b` (test/netns/fixtures/FaultRes: a
 * tmpfs mount in the node while it runs, faults switched on by files). Each
 * scenario has its own lab and they run concurrently.
 *
 * - a start that fails: the group is released, and after heartbeat's 30 s
 *   delay a standby hands it to the peer;
 * - a stop that fails: retries (HA_STOPRETRYMAX), then the unstoppable path;
 *   with HA_STOPFAIL_ACTION=exit the daemon kills itself and the resource
 *   stays where it is (the peer then takes it over: both hold it — why the
 *   default is reboot); with the default `reboot -nf` in a lab node only
 *   that node's PID namespace ends, its mounts go, the peer takes over;
 * - a status that hangs: killed after HA_STATUS_TIMEOUT, treated as stopped;
 * - a missing script: a config error with haresources:LINE at `heartbeat -t`;
 *   removed at run time, the failed takeover is logged and handled, and the
 *   group comes back once the script does.
 */
import { readlinkSync, rmSync } from 'node:fs';
import { afterAll, describe, it } from 'vitest';
import { OURS, waitFor } from '../harness/heartbeat.js';
import { FaultCluster, faultResProbe, HoldingMonitor, nodeInitPid, waitHolding } from './support.js';

const ENV = {
  HA_START_TIMEOUT: '5',
  HA_STOP_TIMEOUT: '5',
  HA_STATUS_TIMEOUT: '3',
  HA_STOPRETRYMAX: '2',
  HA_STOPFAIL_ACTION: 'exit',
};
const clusters: FaultCluster[] = [];

afterAll(async () => {
  const problems = (await Promise.all(clusters.map((c) => c.teardown()))).flat();
  if (problems.length > 0) throw new Error(problems.join('; '));
}, 120_000);

async function pair(env: Record<string, string> = ENV): Promise<{ c: FaultCluster; m: HoldingMonitor }> {
  const c = await FaultCluster.create({
    impl: 'ours', nodes: 2, env, hacf: { deadtime: 5, initdead: 10 },
    haresources: () => 'node1 FaultRes::a\nnode2 FaultRes::b\n',
  });
  clusters.push(c);
  const m = new HoldingMonitor(c.lab, { a: faultResProbe('a'), b: faultResProbe('b') }).start();
  return { c, m };
}

const is = (h: Record<string, number[]>, want: Record<string, string>): boolean =>
  Object.entries(want).every(([k, v]) => (h[k] ?? []).join(',') === v);

async function stable(c: FaultCluster, m: HoldingMonitor): Promise<void> {
  await c.startAll();
  await waitHolding(m, 'a on node1 and b on node2', (h) => is(h, { a: '1', b: '2' }), 60_000);
}

describe.concurrent('resource faults', () => {
  it('a start that fails: group released, standby asked after the delay, the peer runs it', async ({ expect }) => {
    const { c, m } = await pair();
    c.setFault(1, 'a', 'fail-start');
    await c.startAll();
    await c.waitLog(1, /CRIT: Giving up resources due to failure of FaultRes::a/, 60_000);
    const log1 = c.log(1);
    expect(log1).toMatch(/ERROR: Return code 1 from \/etc\/ha\.d\/resource\.d\/FaultRes/);
    expect(log1).toMatch(/Releasing resource group: node1 FaultRes::a/);
    const failedAt = m.now();
    await c.waitLog(1, /hb_standby\(default\)\[\d+\]:\s+info: Going standby \[local\]\./, 60_000);
    const askedAfter = m.now() - failedAt;
    expect(askedAfter).toBeGreaterThan(20_000); // heartbeat waits 30 s before asking
    await c.waitLog(2, /standby: acquire \[local\] resources from node1/, 30_000);
    await waitHolding(m, 'a and b on node2', (h) => is(h, { a: '2', b: '2' }), 30_000);
    m.stop();
    expect(m.doubles(), m.timeline()).toEqual([]);
    c.note(`start failure: standby asked ${(askedAfter / 1000).toFixed(1)} s after the failure\n${m.timeline()}`);
  }, 150_000);

  it('a stop that fails: retried, then the unstoppable path (HA_STOPFAIL_ACTION=exit: the daemon kills itself)', async ({ expect }) => {
    const { c, m } = await pair();
    await stable(c, m);
    c.setFault(2, 'b', 'fail-stop');
    const at = c.logSize(2);
    const pids = await c.signal(2, 'SIGTERM');
    expect(pids.length).toBeGreaterThan(0);
    await c.waitLog(2, /CRIT: Resource FaultRes::b could not be stopped; action: exit\./, 60_000, at);
    const log2 = c.log(2).slice(at);
    expect(log2.match(/Retrying failed stop operation \[FaultRes::b\]/g)?.length).toBe(2);
    expect(log2).toMatch(/CRIT: Resource STOP failure\. Reboot required!/);
    expect(log2).toMatch(/CRIT: Killing heartbeat ungracefully!/);
    expect(log2).not.toMatch(/Heartbeat shutdown complete/);
    await waitFor(() => c.running(2), { timeoutMs: 10_000, what: 'node2 daemon gone', until: (r) => !r });
    expect(c.log(1)).not.toMatch(/Received shutdown notice from 'node2'/);
    // without a reboot the resource stays on node2; node1 sees node2 die and takes b over:
    // both hold it — which is exactly what the default action (reboot) prevents
    await c.waitLog(1, /node node2: is dead/, 30_000);
    await waitHolding(m, 'b on both nodes', (h) => is(h, { a: '1', b: '1,2' }), 30_000);
    m.stop();
    c.note(`stop failure (exit):\n${m.timeline()}`);
  }, 150_000);

  it('a stop that fails with the default action: `reboot -nf` ends only that node, its mounts go, the peer takes over', async ({ expect }) => {
    const { c, m } = await pair({ ...ENV, HA_STOPFAIL_ACTION: 'reboot' });
    await stable(c, m);
    // guard: the daemon must live in the node's own PID namespace, never the host's
    const [pid] = await c.pids(2);
    expect(pid).toBeDefined();
    const own = readlinkSync('/proc/self/ns/pid');
    const its = readlinkSync(`/proc/${pid}/ns/pid`);
    expect(its).not.toBe(own);
    expect(readlinkSync(`/proc/${nodeInitPid(c.lab, 2)}/ns/pid`)).toBe(its);
    c.setFault(2, 'b', 'fail-stop');
    const at = c.logSize(2);
    await c.signal(2, 'SIGTERM');
    await c.waitLog(2, /CRIT: Resource FaultRes::b could not be stopped; action: reboot\./, 60_000, at);
    await waitFor(() => nodeInitPid(c.lab, 2), { timeoutMs: 15_000, what: "node2's init to end", until: (p) => p === undefined });
    const gone = m.now();
    // node2 fell silent: node1 waits out deadtime instead of taking b over at once
    await c.waitLog(1, /node node2: is dead/, 30_000);
    await waitHolding(m, 'a and b on node1 only', (h) => is(h, { a: '1', b: '1' }), 30_000);
    m.stop();
    expect(c.log(2).slice(at)).not.toMatch(/Heartbeat shutdown complete/);
    expect(c.log(1)).not.toMatch(/Received shutdown notice from 'node2'/);
    expect(m.doubles(), m.timeline()).toEqual([]);
    const takenAt = m.samples.find((s) => s.t >= gone && (s.held['b'] ?? []).includes(1))?.t ?? Infinity;
    expect(takenAt - gone).toBeGreaterThan(2000);
    c.note(`stop failure (reboot):\n${m.timeline()}`);
  }, 150_000);

  it('a status that hangs is killed after HA_STATUS_TIMEOUT and the takeover goes on', async ({ expect }) => {
    const { c, m } = await pair();
    await stable(c, m);
    c.setFault(2, 'a', 'hang-status');
    const at = c.logSize(2);
    await c.stop(1);
    await c.waitLog(2, /status timed out after \d+ ms \(killed\); treating FaultRes::a as not running/, 30_000, at);
    await waitHolding(m, 'a and b on node2', (h) => is(h, { a: '2', b: '2' }), 30_000);
    // the hung status (a sleep in its own process group) was killed with it
    await waitFor(() => c.lab.pids(2, 'sleep'), { timeoutMs: 15_000, what: 'no hung status left in node2', until: (p) => p.length === 0 });
    expect(await c.running(2)).toBe(true);
    m.stop();
    expect(m.doubles(), m.timeline()).toEqual([]);
  }, 150_000);

  it('a missing script: `heartbeat -t` names haresources:LINE; removed at run time, the takeover failure is handled', async ({ expect }) => {
    const { c, m } = await pair();
    const l = c.lab;
    const good = l.readFile(1, '/etc/ha.d/haresources') ?? '';
    l.writeFile(1, '/etc/ha.d/haresources', `${good}node1 NoSuchScript::x\n`);
    const t = await l.exec(1, [process.execPath, OURS, '-t']);
    expect(t.code).toBe(6);
    expect(t.stderr).toMatch(/\/etc\/ha\.d\/haresources:3: error: Cannot locate resource script NoSuchScript/);
    l.writeFile(1, '/etc/ha.d/haresources', good);

    await stable(c, m);
    rmSync(l.path(2, '/etc/ha.d/resource.d/FaultRes'));
    const at = c.logSize(2);
    await c.stop(1);
    await c.waitLog(2, /CRIT: Giving up resources due to failure of FaultRes::a/, 30_000, at);
    const log2 = c.log(2).slice(at);
    expect(log2).toMatch(/ERROR: Cannot locate resource script FaultRes/);
    expect(await c.running(2)).toBe(true);
    expect(c.faultResRunning(2, 'b')).toBe(true); // b (already running) was not disturbed
    // the script comes back and node1 returns: the delayed standby hands a back to node1
    c.configure(2);
    const at1 = c.logSize(1);
    await c.start(1);
    await c.waitActive(1, 60_000, at1);
    await waitHolding(m, 'a on node1, b on node2', (h) => is(h, { a: '1', b: '2' }), 60_000);
    m.stop();
    expect(m.doubles(), m.timeline()).toEqual([]);
    c.note(`missing script:\n${m.timeline()}`);
  }, 180_000);
});
