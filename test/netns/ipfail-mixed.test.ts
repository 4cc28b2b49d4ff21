import { join } from 'node:path';
import { existsSync } from 'node:fs';
/**
 * ipfail in a mixed cluster (issue 4, "Must show"): one node runs Debian's
 * real Heartbeat 3.0.6 with its own ipfail (/usr/libexec/heartbeat/ipfail),
 * the other heartbeat-ts with ours; the two ipfails talk through their
 * daemons (hbapi-clstat join, num_ping_nodes, you_are_dead, abort_giveup:
 * spec 4.4 and 12) and give up through the standby protocol. Both roles:
 * first the real node loses the gateway, then the heartbeat-ts node does.
 * Same ha.cf on both nodes of a case but for the respawn line (each node runs
 * its own implementation's ipfail); each case has its own lab. A third case
 * (issue 12) runs Debian's C ipfail on two heartbeat-ts nodes: it signs on
 * through Heartbeat's API on register and moves the group as under 3.0.6; a
 * fourth runs it on both nodes of a mixed cluster (a rolling upgrade).
 *
 * The log checks are the same for both implementations (IpfailScenario):
 * heartbeat's ipfail and ours write the same lines in the same layout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kind } from './failover-cluster.js';
import { keepLogsAndDown } from './failover-support.js';
import { logSize, readLog } from './harness/heartbeat.js';
import { REPO_ROOT, type Lab } from './harness/lab.js';
import { IPFAIL_LIBEXEC, IpfailScenario, OUR_IPFAIL, configure, esc, ipfailLab, ipfailProcs, linesSince } from './ipfail-support.js';

beforeAll(async () => {
  // Our daemon and its ipfail run from dist/, built once by `npm test` (a rebuild here
  // would rewrite files under the feet of tests running in parallel).
  if (!existsSync(join(REPO_ROOT, 'dist', 'daemon', 'ipfail.js'))) throw new Error('dist/daemon/ipfail.js missing: run `npm run build` first');
});

/** ipfail programs of the two nodes: each node's own implementation's (heartbeat-ts's named explicitly in ha.cf). */
const OWN: Record<Kind, string> = { real: IPFAIL_LIBEXEC, ours: OUR_IPFAIL };

const CASES: Array<{ kinds: [Kind, Kind]; ipfail: [string, string]; name: string }> = [
  { kinds: ['real', 'ours'], ipfail: [OWN.real, OWN.ours], name: 'real heartbeat loses the gateway, heartbeat-ts takes over' },
  { kinds: ['ours', 'real'], ipfail: [OWN.ours, OWN.real], name: 'heartbeat-ts loses the gateway, real heartbeat takes over' },
  // issue 12: Debian's C ipfail (libhbclient, Heartbeat's API on register) under heartbeat-ts on both nodes
  { kinds: ['ours', 'ours'], ipfail: [IPFAIL_LIBEXEC, IPFAIL_LIBEXEC], name: "Debian's C ipfail on two heartbeat-ts nodes" },
  // a rolling upgrade: Debian's C ipfail on both nodes, one of which already runs heartbeat-ts
  { kinds: ['real', 'ours'], ipfail: [IPFAIL_LIBEXEC, IPFAIL_LIBEXEC], name: "Debian's C ipfail on both, real heartbeat loses the gateway" },
];

describe.sequential.each(CASES)('mixed ipfail: $name', ({ kinds, ipfail }) => {
  const tag = `${kinds.join('+')}${ipfail.every((p) => p === IPFAIL_LIBEXEC) ? ' (C ipfail)' : ''}`;
  let lab: Lab | undefined;
  let sc: IpfailScenario | undefined;
  const S = (): IpfailScenario => {
    if (sc === undefined) throw new Error('lab not up');
    return sc;
  };

  beforeAll(async () => {
    lab = await ipfailLab(kinds);
    configure(lab, ipfail);
    sc = new IpfailScenario(lab, kinds, `ipfail-mixed ${tag}`);
  }, 120_000);

  afterAll(async () => {
    sc?.monitor.stop();
    if (sc !== undefined) console.log(`[ipfail-mixed ${tag}] measured:\n  ${sc.measurements.join('\n  ')}`);
    await keepLogsAndDown(lab, `ipfail-mixed-${kinds.join('-')}`);
  }, 120_000);

  it('both start; node1 serves; each node runs the configured ipfail as hacluster, and they compare counts', async () => {
    const s = S();
    await s.start();
    for (const i of [1, 2]) {
      const [p] = await ipfailProcs(s.lab, i);
      const program = ipfail[i - 1] ?? '';
      expect(p?.argv).toEqual(program === OUR_IPFAIL ? [process.execPath, `${REPO_ROOT}/dist/daemon/ipfail.js`] : [program]);
      // signed on at the first start (the API sockets listen before respawn starts its clients)
      expect(readLog(s.lab, i)).not.toMatch(/Cannot sign ?on with heartbeat/);
    }
  });

  it('node1 loses the gateway: the group moves to node2, with the decisions in both logs', async () => {
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

  it('a graceful stop ends both ipfails (each daemon signals its client)', async () => {
    const s = S();
    const sizes = [logSize(s.lab, 1), logSize(s.lab, 2)];
    await s.stop();
    for (const i of [1, 2]) {
      const killed = new RegExp(`info: killing ${esc(ipfail[i - 1] ?? '')} process group \\d+ with signal 15`);
      expect(linesSince(s.lab, i, sizes[i - 1] ?? 0, killed)).toHaveLength(1);
      expect(await ipfailProcs(s.lab, i)).toEqual([]);
    }
    s.fo.expectNoDoubleHolding();
  });
});
