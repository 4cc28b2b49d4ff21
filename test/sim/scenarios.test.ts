/**
 * Whole-cluster behaviour on simulated time (test/sim): nodes assembled by
 * lib/node/assemble.ts, a simulated segment, scripts that record what runs
 * where. Each scenario covers minutes of cluster life in milliseconds. The
 * netns suite proves the same on real sockets, real scripts and next to
 * Heartbeat 3.0.6; here the cluster logic is checked exhaustively and
 * deterministically (keepalive 1 s, deadtime 5 s, initdead 10 s).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RSC } from '../../lib/resources/sets.js';
import { SimCluster, type SimOptions } from './cluster.js';

const WEB = 'IPaddr::10.0.0.100/24/eth0';
const TWO: SimOptions = { nodes: ['node1', 'node2'], haresources: `node1 ${WEB} httpd\n` };

const clusters: SimCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stopAll();
});

function sim(o: SimOptions): SimCluster {
  const c = new SimCluster(o);
  clusters.push(c);
  return c;
}

/** Both started at once, settled: node1 holds its group and both are stable. */
async function settled(o: SimOptions): Promise<SimCluster> {
  const s = sim(o);
  await s.start('node1');
  await s.start('node2');
  await s.until('node1 holds the group, both stable', () =>
    s.holders(WEB).join() === 'node1' && s.holders('httpd').join() === 'node1'
    && s.controller('node1').isStable() && s.controller('node2').isStable());
  return s;
}

describe('simulated clusters (assembled nodes, simulated time)', () => {
  it('nice_failback at start: both start together, the preferred node takes its group, both report stable', async () => {
    const s = await settled(TWO);
    expect(s.controller('node1').rscstatus()).toBe('local');
    expect(s.controller('node2').rscstatus()).toBe('local');
    expect(s.lines('node1').some((l) => l.startsWith('info: Initial resource acquisition complete'))).toBe(true);
    expect(s.lines('node2').some((l) => l.startsWith('info: Initial resource acquisition complete'))).toBe(true);
    expect(s.machine('node1').journal).toEqual([`start ${WEB}`, 'start httpd']);
    expect(s.machine('node2').journal).toEqual([]);
    expect(s.timeline.filter((e) => /Both machines own|No one owns/.test(e.line))).toEqual([]);
  });

  it('crash detection: a silent peer is dead after its dead time, not before; its link too', async () => {
    const s = await settled(TWO);
    const t0 = s.clock.nowMs();
    await s.crash('node1');
    await s.until('node2 declares node1 dead', () => s.cluster('node2').view('node1')?.status === 'dead', 20_000);
    const dead = (s.when('node2', 'node node1: is dead', t0) ?? 0) - t0;
    expect(dead).toBeGreaterThan(4000);
    expect(dead).toBeLessThan(6500);
    expect(s.cluster('node2').view('node1')?.links[0]?.status).toBe('dead');
    expect(s.cluster('node2').members()).toEqual(['node2']);
  });

  it('crash + takeover: the survivor runs mach_down and holds everything', async () => {
    const s = await settled(TWO);
    await s.crash('node1');
    s.machine('node1').reboot();
    await s.until('node2 holds the group', () => s.holders(WEB).join() === 'node2' && s.controller('node2').rscstatus() === 'all', 30_000);
    expect(s.lines('node2')).toContain('info: Resources being acquired from node1.');
    expect(s.lines('node2')).toContain('info: mach_down takeover complete.');
    expect(s.lines('node2')).toContain('WARN: No STONITH device configured.');
  });

  it('auto_failback on: the rebooted preferred node gets its group back through the standby protocol', async () => {
    const s = await settled(TWO);
    await s.crash('node1');
    s.machine('node1').reboot();
    await s.until('takeover', () => s.controller('node2').rscstatus() === 'all', 30_000);
    await s.start('node1');
    await s.until('failback to node1', () => s.holders(WEB).join() === 'node1'
      && s.controller('node1').rscstatus() === 'local' && s.controller('node2').rscstatus() === 'local', 60_000);
    expect(s.lines('node2')).toContain('info: node2 wants to go standby [foreign]');
    expect(s.lines('node1')).toContain('info: Standby resource acquisition done [foreign].');
    expect(s.machine('node2').journal).toEqual([`start ${WEB}`, 'start httpd', 'stop httpd', `stop ${WEB}`]);
  });

  it('auto_failback off: the group stays on the survivor; hb_standby there moves it back', async () => {
    const s = await settled({ ...TWO, autoFailback: 'off' });
    await s.crash('node1');
    s.machine('node1').reboot();
    await s.until('takeover', () => s.controller('node2').rscstatus() === 'all', 30_000);
    await s.start('node1');
    await s.until('node1 back and stable', () => s.controller('node1').isStable() && s.controller('node2').isStable()
      && s.cluster('node1').view('node2')?.status === 'active', 60_000);
    await s.run(20_000);
    expect(s.holders(WEB)).toEqual(['node2']);
    expect(s.lines('node1')).toContain('info: Local Resource acquisition completed. (none)');
    s.controller('node2').requestStandby(RSC.ALL);
    await s.until('standby moved the group', () => s.holders(WEB).join() === 'node1'
      && s.controller('node1').rscstatus() === 'all' && s.controller('node2').rscstatus() === 'none', 30_000);
  });

  it('hb_standby on the holder hands everything over and the holdings are reported through the exchange', async () => {
    const s = await settled(TWO);
    s.controller('node1').requestStandby(RSC.ALL);
    await s.until('node2 holds all', () => s.holders(WEB).join() === 'node2'
      && s.controller('node2').rscstatus() === 'all' && s.controller('node1').rscstatus() === 'none', 30_000);
    expect(s.lines('node1')).toContain('info: node1 wants to go standby [all]');
    expect(s.lines('node1')).toContain('info: Local standby process completed [all].');
    expect(s.lines('node2')).toContain('info: standby: acquire [all] resources from node1');
    expect(s.timeline.filter((e) => e.line.startsWith('ERROR: Ignored standby message'))).toEqual([]);
  });

  it('graceful shutdown hands over at once (shutdone), long before a dead time', async () => {
    const s = await settled(TWO);
    const t0 = s.clock.nowMs();
    await s.shutdown('node1');
    await s.until('node2 holds the group', () => s.holders(WEB).join() === 'node2', 10_000);
    expect(s.clock.nowMs() - t0).toBeLessThan(4000);
    expect(s.lines('node1')).toContain('info: All HA resources relinquished.');
    expect(s.lines('node1')).toContain('info: node1 Heartbeat shutdown complete.');
    expect(s.lines('node2')).toContain("info: Received shutdown notice from 'node1'.");
    expect(s.lines('node2').some((l) => l.includes('node node1: is dead'))).toBe(false);
  });

  it('restarts: each start is a new generation; the peer sees the restart and the group comes back', async () => {
    const s = await settled(TWO);
    const gen = s.generation('node1');
    await s.shutdown('node1');
    await s.until('node2 took over', () => s.holders(WEB).join() === 'node2', 10_000);
    await s.start('node1');
    expect(s.generation('node1')).toBe(gen + 1);
    await s.until('node1 has its group again', () => s.holders(WEB).join() === 'node1'
      && s.controller('node1').isStable() && s.controller('node2').isStable(), 60_000);
    expect(s.lines('node2')).toContain('info: Heartbeat restart on node node1');
  });

  it('partition and heal: both take everything while apart; the heal restarts them and one holder remains', async () => {
    const s = await settled(TWO);
    s.net.partition(['node1'], ['node2']);
    await s.until('both hold the group (split brain)', () => s.holders(WEB).length === 2, 30_000);
    s.net.heal();
    await s.until('the heal is seen', () => s.when('node1', 'Cluster node node2 returning after partition.') !== undefined
      || s.when('node2', 'Cluster node node1 returning after partition.') !== undefined, 30_000);
    await s.until('one holder after the restarts', () => s.holders(WEB).join() === 'node1'
      && s.runtime('node1')?.phase === 'running' && s.runtime('node2')?.phase === 'running'
      && s.controller('node1').isStable() && s.controller('node2').isStable(), 120_000);
    expect(s.timeline.some((e) => e.line === 'info: Restarting heartbeat: cluster partition healed; giving up resources')).toBe(true);
  });

  it('three nodes: each sees the others active; a crash is seen by both survivors; membership follows', async () => {
    const s = sim({ nodes: ['node1', 'node2', 'node3'], haresources: `node1 ${WEB}\n` });
    for (const n of ['node1', 'node2', 'node3']) await s.start(n);
    await s.until('all active', () => ['node1', 'node2', 'node3'].every((n) =>
      s.cluster(n).views().every((v) => v.status === 'active')), 30_000);
    expect(s.cluster('node2').members()).toEqual(['node1', 'node2', 'node3']);
    await s.crash('node3');
    await s.until('node3 dead for both', () => s.cluster('node1').view('node3')?.status === 'dead'
      && s.cluster('node2').view('node3')?.status === 'dead', 20_000);
    expect(s.cluster('node1').members()).toEqual(['node1', 'node2']);
    expect(s.holders(WEB)).toEqual(['node1']);
  });

  it('loss: with 20% of datagrams lost the cluster comes up, retransmits, and nobody is declared dead', async () => {
    const s = sim({ ...TWO, seed: 7 });
    s.net.setLoss(0.2);
    await s.start('node1');
    await s.start('node2');
    await s.until('node1 holds the group, both stable', () => s.holders(WEB).join() === 'node1'
      && s.controller('node1').isStable() && s.controller('node2').isStable(), 60_000);
    await s.run(60_000);
    expect(s.net.counters.lost).toBeGreaterThan(10);
    expect(s.cluster('node1').stats().rexmitRequested + s.cluster('node2').stats().rexmitRequested).toBeGreaterThan(0);
    expect(s.timeline.filter((e) => e.line.includes('is dead'))).toEqual([]);
    expect(s.holders(WEB)).toEqual(['node1']);
  });

  it('a peer that starts late joins a running cluster: no takeover of what is held, one holder', async () => {
    const s = sim(TWO);
    await s.start('node1');
    await s.until('node1 alone holds its group', () => s.holders(WEB).join() === 'node1' && s.controller('node1').isStable(), 30_000);
    await s.run(30_000);
    await s.start('node2');
    await s.until('node2 active and stable', () => s.cluster('node2').isCommUp && s.controller('node2').isStable()
      && s.controller('node1').isStable(), 60_000);
    expect(s.holders(WEB)).toEqual(['node1']);
    expect(s.machine('node2').journal).toEqual([]);
  });

  it('a failing start gives the group up and asks the peer to take it (standby after 30 s)', async () => {
    const s = sim(TWO);
    s.machine('node1').failStart.add('httpd');
    await s.start('node1');
    await s.start('node2');
    await s.until('node2 runs the group', () => s.holders('httpd').join() === 'node2' && s.holders(WEB).join() === 'node2', 120_000);
    expect(s.lines('node1')).toContain('CRIT: Giving up resources due to failure of httpd');
    expect(s.holders(WEB)).toEqual(['node2']);
  });

  it('a shutdown delayed by a departing peer goes on when that peer is declared dead (its shutdone lost)', async () => {
    const s = await settled({ ...TWO, autoFailback: 'off' });
    s.controller('node2').requestStandby(RSC.ALL);
    await s.until('node1 holds all', () => s.controller('node1').rscstatus() === 'all' && s.controller('node2').rscstatus() === 'none', 30_000);
    // node2 shuts down: its `resource … isstable=0 info=shutdown` reaches node1, its shutdone does not.
    s.net.dropFilter = (data, from) => from === 'node2' && data.includes('shutdone');
    await s.shutdown('node2');
    expect(s.controller('node1').otherIsStable).toBe(false);
    await s.shutdown('node1', 30_000);
    expect(s.lines('node1')).toContain('WARN: Shutdown delayed until current resource activity finishes.');
    expect(s.lines('node1')).toContain('WARN: node node2: is dead');
    expect(s.lines('node1')).toContain('info: All HA resources relinquished.');
    expect(s.holders(WEB)).toEqual([]);
  });

  it('auto_failback legacy: the survivor takes over; the restarted owner asks for its group back (ip-request)', async () => {
    const s = await settled({ ...TWO, autoFailback: 'legacy' });
    await s.crash('node1');
    s.machine('node1').reboot();
    await s.until('node2 takes over', () => s.holders(WEB).join() === 'node2', 30_000);
    await s.start('node1');
    await s.until('node1 has its group again', () => s.holders(WEB).join() === 'node1', 60_000);
    expect(s.lines('node1')).toContain(`info: received ip-request-resp ${WEB} OK yes`);
    expect(s.machine('node2').journal.slice(-2)).toEqual(['stop httpd', `stop ${WEB}`]);
  });
});
