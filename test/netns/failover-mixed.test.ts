/**
 * Resource failover in a mixed cluster (issue 3, "Must show"): node1 runs
 * Debian's real Heartbeat 3.0.6, node2 runs heartbeat-ts, and the group
 *
 *   <owner> IPaddr::<vip>/24/eth0 httpd::/srv/www::80
 *
 * is owned first by the real node (ours takes over and gives back), then by
 * ours (the real node takes over and gives back), for auto_failback on, off
 * and legacy: six cases in one lab, each starting from a clean slate.
 *
 * Each side uses its own suite's tools: the real node Debian's IPaddr
 * (ifconfig alias + send_arp) and hb_standby/hb_takeover, heartbeat-ts the
 * repository's IPaddr and bin/hb_standby, bin/hb_takeover. httpd is the LSB
 * fixture in each node's /etc/init.d; each node's /srv/www holds a host.txt
 * naming the node, so the client can tell who answers on the VIP.
 *
 * The crash, the reboot cleanup before a node returns and the exclusivity
 * monitor (VIP never on two counted nodes) are the same as in
 * failover.test.ts. Timings: keepalive 1, deadtime 5, initdead 10.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, installRepoScripts, Member } from './failover-cluster.js';
import { Failover } from './failover-scenario.js';
import { ExclusivityMonitor, keepLogsAndDown } from './failover-support.js';
import { authKeys, haCf, logSize, readLog, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';

const PORT = 80;
const DOCROOT = '/srv/www';
type Mode = 'on' | 'off' | 'legacy';

let lab: Lab | undefined;
let monitor: ExclusivityMonitor | undefined;
let fo: Failover | undefined;

function F(): Failover {
  if (fo === undefined) throw new Error('cluster not set up');
  return fo;
}

function configure(l: Lab, mode: Mode, owner: number): void {
  const autoFailback = mode === 'legacy' ? 'legacy' : mode === 'on';
  for (const i of l.ids()) {
    writeHaConfig(l, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10, autoFailback }),
      authkeys: authKeys('sha1'),
      haresources: `node${owner} IPaddr::${l.subnet}.100/24/eth0 httpd::${DOCROOT}::${PORT}\n`,
    });
  }
}

beforeAll(async () => {
  lab = await Lab.up({ nodes: 2, private: ['/srv:empty'], privateInitD: true });
  const l = lab;
  for (const i of l.ids()) {
    l.writeFile(i, `${DOCROOT}/host.txt`, `served by node${i}\n`);
    l.writeFile(i, '/etc/init.d/httpd', '', 0o755);
    copyFileSync(join(FIXTURES, 'httpd-init.sh'), l.path(i, '/etc/init.d/httpd'));
  }
  // heartbeat-ts on node2 uses the repository's IPaddr; node1 keeps Debian's
  installRepoScripts(l, 2, ['IPaddr']);
  monitor = new ExclusivityMonitor(l, { vip: `${l.subnet}.100` });
  monitor.start();
  fo = new Failover(l, [new Member(l, 1, 'real'), new Member(l, 2, 'ours')], monitor, { vip: `${l.subnet}.100`, port: PORT });
}, 120_000);

afterAll(async () => {
  monitor?.stop();
  if (fo !== undefined) console.log(`[failover-mixed] measured:\n  ${fo.measurements.join('\n  ')}`);
  await keepLogsAndDown(lab, 'failover-mixed');
}, 120_000);

const CASES: Array<{ mode: Mode; owner: number }> = [
  { mode: 'on', owner: 1 },
  { mode: 'on', owner: 2 },
  { mode: 'off', owner: 1 },
  { mode: 'off', owner: 2 },
  { mode: 'legacy', owner: 1 },
  { mode: 'legacy', owner: 2 },
];

const kindOf = (i: number): string => (i === 1 ? 'real heartbeat' : 'heartbeat-ts');

describe.sequential.each(CASES)('mixed cluster, auto_failback $mode, group owned by node$owner', ({ mode, owner }) => {
  const other = owner === 1 ? 2 : 1;
  const tag = `${mode}, owner ${kindOf(owner)}`;

  it(`the owner (${kindOf(owner)}) takes the group; nobody else holds the VIP`, async () => {
    const f = F();
    await f.resetAll();
    configure(f.lab, mode, owner);
    await Promise.all(f.members.map((m) => m.start()));
    f.note(`${tag}: owner serving ${(await f.waitServedBy(owner, 90_000)) / 1000} s after the start`);
    await f.expectSoleHolder(owner);
    f.expectNoDoubleHolding();
  });

  it(`kill -9 of the owner with its link cut: ${kindOf(other)} takes over`, async () => {
    const f = F();
    const size = logSize(f.lab, other);
    const killedAt = await f.crashAndCut(owner);
    await f.waitServedBy(other, 60_000);
    f.note(`${tag}: kill -9 + cut -> first HTTP answer from ${kindOf(other)} after ${(Date.now() - killedAt) / 1000} s`);
    await f.expectSoleHolder(other, [owner]);
    await waitForLog(f.lab, other, /node node\d: is dead/, { timeoutMs: 1000, after: size });
    await waitForLog(f.lab, other, /Taking over resource group IPaddr::/, { timeoutMs: 1000, after: size });
    f.expectNoDoubleHolding();
  });

  if (mode === 'off') {
    it('the owner returns (rebooted): the group stays where it is', async () => {
      const f = F();
      const size = logSize(f.lab, owner);
      await f.rebootAndRejoin(owner);
      await waitForLog(f.lab, owner, /Local Resource acquisition completed\. \(none\)/, { timeoutMs: 60_000, after: size });
      await f.keepsServing(other, 12_000);
      await f.expectSoleHolder(other);
      expect(readLog(f.lab, owner).slice(size)).not.toMatch(/Running \S+ \S+ start/);
      f.expectNoDoubleHolding();
    });

    it('hb_takeover on the owner moves the group back; hb_standby on it moves it away again', async () => {
      const f = F();
      await f.waitStable();
      await f.member(owner).takeover();
      await f.waitServedBy(owner, 60_000);
      await f.expectSoleHolder(owner);
      await f.waitStable();
      await f.member(owner).standby();
      await f.waitServedBy(other, 60_000);
      await f.expectSoleHolder(other);
      f.expectNoDoubleHolding();
    });
  } else {
    it(`the owner returns (rebooted): ${mode === 'on' ? 'auto_failback' : 'legacy ip-request'} gives the group back`, async () => {
      const f = F();
      const size = logSize(f.lab, other);
      const t0 = Date.now();
      await f.rebootAndRejoin(owner);
      await f.waitServedBy(owner, 90_000);
      f.note(`${tag}: owner restarted -> serving again after ${(Date.now() - t0) / 1000} s`);
      await f.expectSoleHolder(owner);
      // how it was given back: the standby handshake, or legacy's ip-request
      const how = mode === 'on' ? /standby: node\d can take our foreign resources/ : /Releasing resource group/;
      await waitForLog(f.lab, other, how, { timeoutMs: 1000, after: size });
      f.expectNoDoubleHolding();
    });
  }

  if (mode === 'on') {
    it('hb_standby on the owner hands the group over; hb_takeover on it takes it back', async () => {
      const f = F();
      await f.waitStable();
      await f.member(owner).standby();
      await f.waitServedBy(other, 60_000);
      await f.expectSoleHolder(other);
      await f.waitStable();
      await f.member(owner).takeover();
      await f.waitServedBy(owner, 60_000);
      await f.expectSoleHolder(owner);
      f.expectNoDoubleHolding();
    });
  }

  if (mode === 'legacy') {
    it('legacy has no standby: hb_standby is refused and the group stays', async () => {
      const f = F();
      const size = logSize(f.lab, owner);
      await f.waitStable();
      await f.member(owner).standby();
      await waitForLog(f.lab, owner, /Standby mode only implemented when nice_failback on/, { timeoutMs: 15_000, after: size });
      await f.keepsServing(owner, 5000);
      await f.expectSoleHolder(owner);
    });
  }

  it('a graceful stop of both releases everything; the VIP was never on both nodes', async () => {
    const f = F();
    await f.stopAll();
    f.expectNoDoubleHolding();
  });
});

describe('mixed cluster: the monitor saw the whole run', () => {
  it('sampled throughout and saw the VIP on both nodes at different times, never together', () => {
    const f = F();
    f.monitor.stop();
    expect(f.monitor.samples.length).toBeGreaterThan(1000);
    expect(f.monitor.sawVipOn(1) && f.monitor.sawVipOn(2)).toBe(true);
    f.expectNoDoubleHolding();
  });
});
