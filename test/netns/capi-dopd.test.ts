/**
 * DRBD's outdate-peer daemon (Debian 12 ships it in the heartbeat package:
 * /usr/libexec/heartbeat/dopd and drbd-peer-outdater) through heartbeat-ts
 * (issue 12): a mixed cluster, node1 real Heartbeat 3.0.6, node2
 * heartbeat-ts, both with `respawn hacluster /usr/libexec/heartbeat/dopd`
 * and `apiauth dopd gid=haclient uid=hacluster`. drbd-peer-outdater, driven
 * by hand on one node, asks its dopd to outdate the resource on the peer;
 * the peer's dopd runs `drbdadm outdate <res>` and sends the result back
 * through both daemons (messages between two nodes' API clients). No DRBD
 * device is needed: each node has a stand-in drbdadm in its private copy
 * of /usr/sbin whose exit status depends on the resource name. Both
 * directions, and an unknown peer, give the same answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preserveLogs } from './failover-support.js';
import { authKeys, haCf, logSize, readLog, startOurs, startReal, waitFor, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { linesSince } from './ipfail-support.js';
import { Lab, labUp } from './harness/lab.js';
import { run, teardownMixed, type ToolRun } from './ops-support.js';

const REAL = 1;
const OURS = 2;
const DOPD = '/usr/libexec/heartbeat/dopd';
const OUTDATER = '/usr/libexec/heartbeat/drbd-peer-outdater';
/** Where dopd listens for drbd-peer-outdater (compiled into Debian's dopd). */
const OUTDATER_SOCKET = '/run/heartbeat/dopd/outdater';
/** drbdadm's exit status per resource: dopd maps 0 -> 4 (outdated), 5 -> 3 (inconsistent), 17 -> 6 (primary). */
const FAKE_DRBDADM = `#!/bin/sh
# stand-in for drbdadm: "outdate <res>" exits as the resource name says
case "$2" in
  r0) exit 0 ;;
  inconsistent) exit 5 ;;
  primary) exit 17 ;;
  *) exit 10 ;;
esac
`;

let lab: Lab | undefined;
const theLab = (): Lab => labUp(lab);

async function outdate(i: number, peer: string, res: string): Promise<ToolRun> {
  const r = await run(theLab(), i, [OUTDATER, '-p', peer, '-r', res, '-t', '15']);
  return { code: r.code, stdout: r.stdout, stderr: '' };
}

/**
 * A request to a live peer. Debian's dopd crashes (SIGSEGV, under 3.0.6 as
 * under heartbeat-ts) each time an outdater connection closes and is
 * respawned; until it is back the outdater cannot connect and says 5
 * (unreachable), so a 5 is retried for a while.
 */
async function outdateLive(i: number, peer: string, res: string): Promise<ToolRun> {
  return waitFor(() => outdate(i, peer, res), { timeoutMs: 90_000, intervalMs: 1000, what: `node${i}'s dopd to carry a request to ${peer}`, until: (r) => r.code !== 5 });
}

beforeAll(async () => {
  // drbdadm is replaced in a private copy of /usr/sbin (heartbeat's PATH starts there).
  lab = await Lab.up({ nodes: 2, private: ['/usr/sbin:copy'] });
  for (const i of lab.ids()) {
    writeHaConfig(lab, i, {
      hacf: haCf({
        media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10, autoFailback: false,
        extra: [`respawn hacluster ${DOPD}`, 'apiauth dopd gid=haclient uid=hacluster'],
      }),
      authkeys: authKeys('sha1'),
      haresources: '',
    });
    lab.writeFile(i, '/usr/sbin/drbdadm', FAKE_DRBDADM, 0o755);
  }
  // dopd's socket directory, as Debian's init script and tmpfiles.d make it for heartbeat.
  const mk = await lab.exec(OURS, ['sh', '-c', 'mkdir -p /run/heartbeat/dopd && chown hacluster:haclient /run/heartbeat/dopd && chmod 750 /run/heartbeat/dopd']);
  if (mk.code !== 0) throw new Error(`cannot make /run/heartbeat/dopd: ${mk.stderr}`);
  await startReal(lab, REAL);
  await startOurs(lab, OURS);
  for (const i of [REAL, OURS]) {
    await waitForLog(lab, i, /Status update for node node[12]: status active/, { timeoutMs: 60_000 });
  }
}, 180_000);

afterAll(async () => {
  if (lab?.isUp === true) preserveLogs(lab, 'capi-dopd');
  await teardownMixed(lab, REAL, OURS);
}, 180_000);

describe('dopd on heartbeat-ts next to Heartbeat 3.0.6', () => {
  it('dopd signs on at both nodes (its outdater socket is up)', async () => {
    for (const i of [REAL, OURS]) {
      await waitFor(() => theLab().exec(i, ['test', '-S', OUTDATER_SOCKET]), { timeoutMs: 60_000, what: `dopd's socket on node${i}`, until: (r) => r.code === 0 });
      await waitForLog(theLab(), i, /dopd: \[\d+\]: debug: Waiting for messages\.\.\./, { timeoutMs: 30_000, file: '/var/log/ha-debug' });
      expect(readLog(theLab(), i)).not.toMatch(/dopd: \[\d+\]: ERROR: Cannot sign ?on/);
    }
  }, 120_000);

  it('a request from the 3.0.6 node is carried out by the heartbeat-ts node\'s dopd, and the reverse', async () => {
    const l = theLab();
    const cases: Array<[string, number]> = [['r0', 4], ['inconsistent', 3], ['primary', 6], ['other', 20]];
    for (const [from, to, peer] of [[REAL, OURS, 'node2'], [OURS, REAL, 'node1']] as const) {
      for (const [res, code] of cases) {
        expect(await outdateLive(from, peer, res), `node${from} -> ${peer} ${res}`).toMatchObject({ code });
        await waitForLog(l, to, new RegExp(`dopd: \\[\\d+\\]: info: sending return code: ${code}, node${to} -> node${from}`), { timeoutMs: 10_000 });
      }
    }
  }, 180_000);

  it('an unknown peer is answered by the local dopd alone (5, unreachable) on both', async () => {
    for (const i of [REAL, OURS]) {
      const size = logSize(theLab(), i);
      await waitFor(async () => {
        await outdate(i, 'nosuchnode', 'r0');
        return linesSince(theLab(), i, size, /dopd: \[\d+\]: WARN: drbd peer nosuchnode was not found/).length;
      }, { timeoutMs: 60_000, intervalMs: 1000, what: `node${i}'s dopd to refuse an unknown peer`, until: (n) => n > 0 });
    }
  }, 120_000);
});
