/**
 * The monitor engine (lib/resources/monitor.ts) on a manual clock, over the
 * real GroupManager and the simulator's scripts: checks only where the group
 * is held, restart in place of the failed resource and those after it, the
 * move after max-failures, standby / ignore, a hung status killed at the
 * timeout, counts that expire, the refusal to take back a group that failed
 * here, and a reload that keeps counts.
 */
import { describe, expect, it } from 'vitest';
import { MONITOR_DEFAULTS, type MonitorSpec } from '../../../lib/config/hbts-cf.js';
import { parseHaResources } from '../../../lib/config/haresources.js';
import { GroupManager } from '../../../lib/resources/group-manager.js';
import { ResourceMonitor } from '../../../lib/resources/monitor.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { SimMachine, SimScripts } from '../../sim/scripts.js';

const IP = 'IPaddr::10.0.0.100/24/eth0';
const HARES = `node1 ${IP} fs httpd\nnode2 db\n`;

function spec(resource: string, o: Partial<MonitorSpec> = {}): MonitorSpec {
  return { resource, intervalMs: 5000, ...MONITOR_DEFAULTS, timeoutMs: 2000, maxFailures: 3, failureWindowMs: 60_000, line: 1, ...o };
}

function setup(specs: MonitorSpec[], held: string[] = [IP]) {
  const clock = new ManualClock();
  const log = memoryLogger();
  const machine = new SimMachine('node1');
  const groups = parseHaResources(HARES, { file: 'haresources', nodes: ['node1', 'node2'] }).value ?? [];
  const gm = new GroupManager({
    groups, myName: 'node1', runner: new SimScripts(machine, clock), clock, log, stopRetryMax: 1, onUnstoppable: () => undefined,
  });
  for (const r of groups[0]?.resources ?? []) machine.running.add(r.spec);
  const moves: string[] = [];
  const state = { held, moveRefusal: undefined as string | undefined };
  const monitor = new ResourceMonitor({
    specs, groups: gm, clock, log,
    host: { heldKeys: () => state.held, moveAway: (key) => { moves.push(key); return state.moveRefusal; } },
  });
  const run = (ms: number): Promise<void> => clock.advanceAsync(ms);
  return { clock, log, machine, monitor, moves, state, run };
}

describe('resource monitor (simulated time)', () => {
  it('checks every interval on the holder only, and does nothing while the service runs', async () => {
    const t = setup([spec('httpd')]);
    await t.run(20_000);
    expect(t.machine.statusCalls.get('httpd')).toBe(4);
    t.state.held = [];
    await t.run(20_000);
    expect(t.machine.statusCalls.get('httpd')).toBe(4);
    expect(t.machine.journal).toEqual([]);
    expect(t.monitor.report()[0]).toMatchObject({ resource: 'httpd', group: IP, failures: 0, lastFailure: null });
  });

  it('restarts the failed resource and those after it, in place, with a takeover\'s log lines', async () => {
    const t = setup([spec('fs')]);
    t.machine.kill('fs');
    await t.run(5000);
    expect(t.machine.journal).toEqual(['stop httpd', 'stop fs', 'start fs', 'start httpd']);
    expect(t.log.lines).toContain('WARN: Monitor: resource fs failed: status says not running (failure 1 of 3 within 60 s, on-fail=restart)');
    expect(t.log.lines).toContain('info: Monitor: restarting fs httpd in place.');
    expect(t.log.lines).toContain('info: Running /sim/resource.d/fs  start');
    expect(t.monitor.report()[0]?.failures).toBe(1);
    expect(t.monitor.report()[0]?.lastFailure?.reason).toBe('status says not running');
    expect(t.moves).toEqual([]);
  });

  it('moves the group on the failure that reaches max-failures within the window', async () => {
    const t = setup([spec('httpd')]);
    for (let i = 0; i < 2; i++) {
      t.machine.kill('httpd');
      await t.run(5000);
    }
    expect(t.moves).toEqual([]);
    expect(t.machine.journal.filter((j) => j === 'start httpd')).toHaveLength(2);
    t.machine.kill('httpd');
    await t.run(5000);
    expect(t.moves).toEqual([IP]);
    expect(t.log.lines).toContain(`WARN: Monitor: moving resource group ${IP} to another node (standby).`);
    // Moved: not restarted here a third time.
    expect(t.machine.journal.filter((j) => j === 'start httpd')).toHaveLength(2);
    expect(t.monitor.veto([IP])).toMatch(/httpd of group .* failed here within the last 60 s/);
    expect(t.monitor.veto(['db'])).toBeUndefined();
  });

  it('counts expire after the window: spaced failures only ever restart', async () => {
    const t = setup([spec('httpd', { failureWindowMs: 20_000 })]);
    for (let i = 0; i < 5; i++) {
      t.machine.kill('httpd');
      await t.run(25_000);
    }
    expect(t.moves).toEqual([]);
    expect(t.machine.journal.filter((j) => j === 'start httpd')).toHaveLength(5);
    await t.run(25_000);
    expect(t.monitor.report()[0]?.failures).toBe(0);
    expect(t.monitor.veto([IP])).toBeUndefined();
  });

  it('a hung status is killed at the timeout and counted as a failure', async () => {
    const t = setup([spec('httpd', { timeoutMs: 3000 })]);
    t.machine.hangStatus.add('httpd');
    await t.run(5000);
    expect(t.monitor.report()[0]?.failures).toBe(0);
    await t.run(3000);
    expect(t.monitor.report()[0]?.failures).toBe(1);
    expect(t.log.lines).toContain('WARN: Monitor: resource httpd failed: status timed out after 3000 ms (killed) (failure 1 of 3 within 60 s, on-fail=restart)');
    expect(t.machine.journal).toEqual(['stop httpd', 'start httpd']);
  });

  it('on-fail=standby moves at once; ignore only logs and counts', async () => {
    const s = setup([spec('httpd', { onFail: 'standby' })]);
    s.machine.kill('httpd');
    await s.run(5000);
    expect(s.moves).toEqual([IP]);
    expect(s.machine.journal).toEqual([]);
    const i = setup([spec('httpd', { onFail: 'ignore' })]);
    i.machine.kill('httpd');
    await i.run(20_000);
    expect(i.moves).toEqual([]);
    expect(i.machine.journal).toEqual([]);
    expect(i.monitor.report()[0]?.failures).toBe(4);
  });

  it('restarts in place when no other node can take the group', async () => {
    const t = setup([spec('httpd', { onFail: 'standby' })]);
    t.state.moveRefusal = 'no other node is up';
    t.machine.kill('httpd');
    await t.run(5000);
    expect(t.log.lines).toContain(`ERROR: Monitor: cannot move resource group ${IP}: no other node is up; restarting it here.`);
    expect(t.machine.journal).toEqual(['stop httpd', 'start httpd']);
  });

  it('a reload keeps the counts of resources still monitored and stops the others', async () => {
    const t = setup([spec('httpd'), spec('fs')]);
    t.machine.kill('httpd');
    await t.run(5000);
    t.monitor.configure([spec('httpd', { intervalMs: 1000 })]);
    expect(t.monitor.report().map((m) => [m.resource, m.failures, m.intervalMs])).toEqual([['httpd', 1, 1000]]);
    t.monitor.configure([spec('nosuch')]);
    expect(t.log.lines).toContain('ERROR: Monitor: nosuch is not a resource of haresources; not monitored');
    t.monitor.stop();
    const calls = t.machine.statusCalls.get('httpd');
    await t.run(20_000);
    expect(t.machine.statusCalls.get('httpd')).toBe(calls);
  });
});
