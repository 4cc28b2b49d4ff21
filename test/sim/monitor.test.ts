/**
 * Resource monitoring (heartbeat-ts.cf `monitor`) in whole simulated
 * clusters: the service dies (the node stays up) again and again; the
 * holder restarts it in place, then moves the group through the standby
 * protocol after max-failures; never on both nodes (checked at every 50 ms
 * step); the other node refuses to give it back while it failed there
 * within the window (no ping-pong); a hung status is killed at its timeout;
 * counts expire. Without monitors a dead service stays dead (3.0.6).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MONITOR_DEFAULTS, type MonitorSpec } from '../../lib/config/hbts-cf.js';
import { SimCluster, type SimOptions } from './cluster.js';

const WEB = 'IPaddr::10.0.0.100/24/eth0';
const HTTPD: MonitorSpec = { ...MONITOR_DEFAULTS, resource: 'httpd', intervalMs: 2000, timeoutMs: 1000, maxFailures: 3, failureWindowMs: 120_000, line: 1 };
const TWO: SimOptions = { nodes: ['node1', 'node2'], haresources: `node1 ${WEB} httpd\n`, monitors: [HTTPD] };

const clusters: SimCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stopAll();
});

/** Both started, node1 holds its group, both stable; every later step checks exclusivity. */
async function settled(o: SimOptions): Promise<{ s: SimCluster; until: (what: string, cond: () => boolean, maxMs?: number) => Promise<number> }> {
  const s = new SimCluster(o);
  clusters.push(s);
  await s.start('node1');
  await s.start('node2');
  const until = (what: string, cond: () => boolean, maxMs = 60_000): Promise<number> => s.until(what, () => {
    expect(s.holders('httpd').length, `httpd on ${s.holders('httpd').join(' and ')}`).toBeLessThanOrEqual(1);
    expect(s.holders(WEB).length).toBeLessThanOrEqual(1);
    return cond();
  }, maxMs);
  await until('node1 holds the group, both stable', () => s.holders('httpd').join() === 'node1'
    && s.controller('node1').isStable() && s.controller('node2').isStable());
  return { s, until };
}

const starts = (s: SimCluster, node: string): number => s.machine(node).journal.filter((j) => j === 'start httpd').length;
const failures = (s: SimCluster, node: string): number | undefined =>
  s.runtime(node)?.current?.resources?.monitors().find((m) => m.resource === 'httpd')?.failures;

describe('resource monitoring (simulated clusters)', () => {
  it('restarts in place, then moves the group after max-failures, never on both nodes', async () => {
    const { s, until } = await settled(TWO);
    for (let i = 1; i <= 2; i++) {
      s.machine('node1').kill('httpd');
      const took = await until(`restart ${i} on node1`, () => starts(s, 'node1') === i + 1 && s.machine('node1').holds('httpd'), 10_000);
      expect(took).toBeLessThanOrEqual(HTTPD.intervalMs + 100);
      expect(failures(s, 'node1')).toBe(i);
    }
    // Only the failed resource and those after it: the address stayed up.
    expect(s.machine('node1').journal.filter((j) => j.includes(WEB))).toEqual([`start ${WEB}`]);
    s.machine('node1').kill('httpd');
    await until('the group moved to node2', () => s.holders('httpd').join() === 'node2' && s.holders(WEB).join() === 'node2'
      && s.controller('node2').rscstatus() === 'all' && s.controller('node1').rscstatus() === 'none', 30_000);
    expect(s.lines('node1')).toContain('WARN: Monitor: moving resource group IPaddr::10.0.0.100/24/eth0 to another node (standby).');
    expect(s.lines('node1')).toContain('info: node1 wants to go standby [local]');
    expect(failures(s, 'node1')).toBe(3);
    // node2 now monitors it: a failure there is restarted in place.
    s.machine('node2').kill('httpd');
    await until('restart on node2', () => starts(s, 'node2') === 2 && s.machine('node2').holds('httpd'), 10_000);
    expect(failures(s, 'node2')).toBe(1);
  });

  it('no ping-pong: the node where it failed refuses it back within the window; after it, it may move back', async () => {
    const { s, until } = await settled(TWO);
    for (let i = 0; i < 3; i++) {
      s.machine('node1').kill('httpd');
      await until('failure handled', () => failures(s, 'node1') === i + 1 && s.holders('httpd').length === 1 && s.controller('node1').isStable(), 30_000);
    }
    await until('on node2', () => s.holders('httpd').join() === 'node2' && s.controller('node2').isStable(), 30_000);
    // Three failures on node2 too: node1 refuses, node2 keeps serving it.
    for (let i = 0; i < 3; i++) {
      s.machine('node2').kill('httpd');
      await until('node2 handled it', () => failures(s, 'node2') === i + 1 && s.controller('node2').isStable(), 40_000);
    }
    // The third asked node1, which does not answer; at the next check node2 restarts it itself.
    await until('node2 serves it again', () => s.machine('node2').holds('httpd') && s.controller('node2').isStable(), 40_000);
    expect(s.holders('httpd')).toEqual(['node2']);
    expect(s.lines('node1').some((l) => /^WARN: standby message \[me\] from node2 refused: resource httpd of group .* failed here/.test(l))).toBe(true);
    expect(s.lines('node2')).toContain('WARN: No reply to standby request.  Standby request cancelled.');
    expect(s.lines('node2')).toContain(`WARN: Monitor: resource group ${WEB} was not taken by another node; restarting it here.`);
    // After the window node1's count has expired: the next failures on node2 move it back.
    await s.run(HTTPD.failureWindowMs);
    expect(failures(s, 'node1')).toBe(0);
    for (let i = 0; i < 3; i++) {
      s.machine('node2').kill('httpd');
      await until('failure on node2 handled', () => s.holders('httpd').length === 1 && s.controller('node2').isStable() && s.controller('node1').isStable(), 40_000);
    }
    await until('back on node1', () => s.holders('httpd').join() === 'node1', 30_000);
  });

  it('a hung status is killed at its timeout and counted; the service is restarted', async () => {
    const { s, until } = await settled(TWO);
    const t0 = s.clock.nowMs();
    s.machine('node1').hangStatus.add('httpd');
    await until('counted', () => failures(s, 'node1') === 1, 10_000);
    const at = s.when('node1', 'status timed out after 1000 ms (killed)', t0);
    expect(at).toBeDefined();
    s.machine('node1').hangStatus.delete('httpd');
    await until('restarted', () => starts(s, 'node1') === 2 && s.machine('node1').holds('httpd'), 10_000);
  });

  it('counts expire after the window: failures spread wider than it never move the group', async () => {
    const { s, until } = await settled({ ...TWO, monitors: [{ ...HTTPD, failureWindowMs: 10_000 }] });
    for (let i = 0; i < 5; i++) {
      s.machine('node1').kill('httpd');
      await until('restarted', () => starts(s, 'node1') === i + 2 && s.machine('node1').holds('httpd'), 10_000);
      await s.run(11_000);
    }
    expect(s.holders('httpd')).toEqual(['node1']);
    expect(failures(s, 'node1')).toBe(0);
  });

  it('without heartbeat-ts.cf a dead service stays dead (3.0.6)', async () => {
    const { s } = await settled({ nodes: TWO.nodes, haresources: TWO.haresources });
    s.machine('node1').kill('httpd');
    await s.run(60_000);
    expect(s.holders('httpd')).toEqual([]);
    // Only the takeover's check ran.
    expect(s.machine('node1').statusCalls.get('httpd')).toBe(1);
    expect(s.timeline.some((e) => e.line.includes('Monitor'))).toBe(false);
  });
});
