/**
 * Debian's C ipfail (heartbeat 3.0.6's /usr/libexec/heartbeat/ipfail, linked
 * against libhbclient) on two heartbeat-ts nodes (issue 12, "Must show"):
 * `respawn hacluster /usr/libexec/heartbeat/ipfail` runs that program, which
 * signs on through Heartbeat's API on /var/run/heartbeat/register, gets the
 * ping node's and the links' status changes, talks to its partner through
 * the daemons (num_ping_nodes, you_are_dead, abort_giveup) and gives up
 * through the standby protocol. The scenario and its log checks are the
 * ones of the heartbeat-ts ipfail tests (ipfail-support.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preserveLogs } from './failover-support.js';
import { logSize, readLog } from './harness/heartbeat.js';
import type { Lab } from './harness/lab.js';
import { IPFAIL_LIBEXEC, IpfailScenario, configure, esc, ipfailLab, ipfailProcs, linesSince } from './ipfail-support.js';

let lab: Lab | undefined;
let sc: IpfailScenario | undefined;
const S = (): IpfailScenario => {
  if (sc === undefined) throw new Error('lab not up');
  return sc;
};

beforeAll(async () => {
  lab = await ipfailLab(['ours', 'ours']);
  configure(lab, IPFAIL_LIBEXEC);
  sc = new IpfailScenario(lab, ['ours', 'ours'], 'ipfail-c');
}, 300_000);

afterAll(async () => {
  sc?.monitor.stop();
  if (sc !== undefined) console.log(`[ipfail-c] measured:\n  ${sc.measurements.join('\n  ')}`);
  if (lab?.isUp === true) preserveLogs(lab, 'ipfail-c');
  await lab?.down();
}, 120_000);

describe("Debian's C ipfail on two heartbeat-ts nodes", () => {
  it('both start; node1 serves; each node runs the configured C ipfail as hacluster, signed on through register', async () => {
    const s = S();
    await s.start();
    for (const i of [1, 2]) {
      const [p] = await ipfailProcs(s.lab, i);
      expect(p?.argv).toEqual([IPFAIL_LIBEXEC]);
      // The daemon announced the named client to the cluster (hbapi-clstat join) and the peer's ipfail heard it.
      expect(readLog(s.lab, i)).toMatch(new RegExp(`heartbeat: \\[\\d+\\]: info: Starting "${esc(IPFAIL_LIBEXEC)}" as uid \\d+  gid \\d+ \\(pid \\d+\\)`));
      expect(readLog(s.lab, i)).not.toMatch(/Cannot sign ?on with heartbeat/);
    }
  });

  it('node1 loses the gateway: the group moves to node2', async () => {
    const s = S();
    await s.expectCutLogs(await s.cutNode1FromGateway());
    await s.fo.keepsServing(2, 4000);
    s.fo.expectNoDoubleHolding();
  });

  it('the path heals: counts balance and auto_failback brings the group back to node1', async () => {
    const s = S();
    await s.expectHealLogs(await s.healGateway());
    await s.fo.keepsServing(1, 3000);
    s.fo.expectNoDoubleHolding();
  });

  it('a graceful stop ends both ipfails', async () => {
    const s = S();
    const sizes = [logSize(s.lab, 1), logSize(s.lab, 2)];
    await s.stop();
    for (const i of [1, 2]) {
      const killed = new RegExp(`info: killing ${esc(IPFAIL_LIBEXEC)} process group \\d+ with signal 15`);
      expect(linesSince(s.lab, i, sizes[i - 1] ?? 0, killed)).toHaveLength(1);
      expect(await ipfailProcs(s.lab, i)).toEqual([]);
    }
    s.fo.expectNoDoubleHolding();
  });
});
