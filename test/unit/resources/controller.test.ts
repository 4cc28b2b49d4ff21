/**
 * Two nodes' membership cores on an in-process segment, each with the real
 * resource controller and real resource scripts (a shell script that keeps
 * its state in a per-node directory), on the system clock with short
 * timings. Checks the nice_failback negotiation, takeover on death,
 * auto_failback through the standby protocol, hb_standby, and shutdown.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAuthKeys } from '../../../lib/config/authkeys.js';
import { parseHaCf } from '../../../lib/config/hacf.js';
import { parseHaResources } from '../../../lib/config/haresources.js';
import type { Cluster } from '../../../lib/membership/cluster.js';
import { MemoryStateStore } from '../../../lib/membership/state-files.js';
import { assembleNode } from '../../../lib/node/assemble.js';
import type { ResourceController } from '../../../lib/resources/controller.js';
import { ScriptRunner } from '../../../lib/resources/script-runner.js';
import { RSC } from '../../../lib/resources/sets.js';
import { systemClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { SimNetwork } from '../../sim/network.js';

const SCRIPT = `#!/bin/sh
# test resource: state file per node and resource name
f="$STATE_DIR/$1"
case "$2" in
  start) [ -n "$FAIL_START" ] && exit 1; touch "$f";;
  stop) rm -f "$f";;
  status) if [ -e "$f" ]; then echo "running"; else echo "stopped"; fi;;
esac
exit 0
`;

interface TNode {
  name: string;
  cluster: Cluster;
  ctl: ResourceController;
  lines: string[];
  state: string;
}

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('resource controller with two nodes (nice_failback)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function setup(autoFailback: 'on' | 'off') {
    const root = mkdtempSync(join(tmpdir(), 'hbrsc-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const rdir = join(root, 'resource.d');
    mkdirSync(rdir);
    writeFileSync(join(rdir, 'dummy'), SCRIPT);
    chmodSync(join(rdir, 'dummy'), 0o755);
    const hub = new SimNetwork(systemClock);
    const hacf = `keepalive 100ms\ndeadtime 600ms\nwarntime 400ms\ninitdead 1200ms\nbcast eth0\nnode node1 node2\nauto_failback ${autoFailback}\n`;
    const groups = parseHaResources('node1 dummy::web\n', { file: 'haresources', nodes: ['node1', 'node2'] }).value ?? [];
    const keys = parseAuthKeys('auth 1\n1 sha1 k\n', { file: 'authkeys', mode: 0o600 }).value;
    if (!keys) throw new Error('keys');

    const start = async (name: string, gen: number): Promise<TNode> => {
      const state = join(root, name);
      mkdirSync(state, { recursive: true });
      const log = memoryLogger();
      const config = parseHaCf(hacf, { file: 'ha.cf', nodename: name }).value;
      if (!config) throw new Error('config');
      const node = assembleNode({
        config, keys, groups, nodename: name, media: () => [hub.medium(name)],
        clock: systemClock, log, store: new MemoryStateStore(Buffer.alloc(16, gen), gen),
        scripts: new ScriptRunner({ resourceDirs: [rdir], clock: systemClock, env: { STATE_DIR: state }, timeoutMs: { start: 5000, stop: 5000, status: 5000 }, killGraceMs: 500 }),
        stopRetryMax: 1, onUnstoppable: () => { throw new Error('unstoppable'); }, requestDelayMs: 1000,
      });
      const cluster = node.messaging.cluster;
      const ctl = node.resources?.controller;
      if (!ctl) throw new Error('no resources');
      await node.messaging.start();
      const t: TNode = { name, cluster, ctl, lines: log.lines, state };
      cleanups.push(async () => { ctl.stop(); await node.messaging.stop(); });
      return t;
    };
    const holds = (t: TNode): boolean => existsSync(join(t.state, 'web'));
    return { start, holds };
  }

  it('the preferred node takes its group, the survivor takes it over, auto_failback returns it', async () => {
    const { start, holds } = setup('on');
    const n1 = await start('node1', 1);
    const n2 = await start('node2', 2);
    // Like heartbeat 3.0.6, a node that ran its (empty) local acquisition
    // reports `local` even when it owns no group (spec 11.3, seen in the lab).
    await until('node1 holds web', () => holds(n1) && n1.ctl.rscstatus() === 'local' && n2.ctl.rscstatus() === 'local');
    expect(holds(n2)).toBe(false);
    expect(n1.lines.some((l) => l.includes('Initial resource acquisition complete'))).toBe(true);

    // node1 falls silent (crash): node2 declares it dead and runs mach_down.
    n1.ctl.stop();
    await n1.cluster.stop();
    await until('node2 takes over', () => holds(n2));
    expect(n2.lines).toContain('WARN: node node1: is dead');
    expect(n2.lines).toContain('info: Resources being acquired from node1.');
    await until('mach_down completion', () => n2.lines.includes('info: mach_down takeover complete.'));
    await until('node2 holds all', () => n2.ctl.rscstatus() === 'all');

    // node1 restarts (its node-local resource is gone, as after a reboot).
    rmSync(join(n1.state, 'web'), { force: true });
    const n1b = await start('node1', 3);
    await until('failback to node1', () => holds(n1b) && !holds(n2), 20_000);
    expect(n2.lines).toContain('info: node2 wants to go standby [foreign]');
    await until('standby protocol completion', () =>
      n2.lines.includes('info: Local standby process completed [foreign].')
      && n1b.lines.includes('info: Standby resource acquisition done [foreign].'));
    await until('both stable', () => n1b.ctl.rscstatus() === 'local' && n2.ctl.rscstatus() === 'local');
    expect([...n1b.lines, ...n2.lines].filter((l) => l.includes('Both machines own'))).toEqual([]);
  }, 60_000);

  it('with auto_failback off the group stays where it is; hb_standby moves it', async () => {
    const { start, holds } = setup('off');
    const n1 = await start('node1', 1);
    const n2 = await start('node2', 2);
    await until('node1 holds web', () => holds(n1) && n1.ctl.isStable() && n2.ctl.isStable());
    n1.ctl.stop();
    await n1.cluster.stop();
    await until('node2 takes over', () => holds(n2) && n2.ctl.isStable());
    rmSync(join(n1.state, 'web'), { force: true });
    const n1b = await start('node1', 3);
    await until('node1 back and stable', () => n1b.ctl.isStable() && n2.ctl.isStable() && n1b.cluster.view('node2')?.status === 'active', 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(holds(n2)).toBe(true);
    expect(holds(n1b)).toBe(false);
    expect(n1b.lines).toContain('info: Local Resource acquisition completed. (none)');

    // hb_standby on node2: give everything to node1.
    n2.ctl.requestStandby(RSC.ALL);
    await until('standby moved the group', () => holds(n1b) && !holds(n2), 20_000);
    await until('stable again', () => n1b.ctl.rscstatus() === 'all' && n2.ctl.rscstatus() === 'none');
  }, 60_000);

  it('graceful shutdown gives up every group and the peer takes them at once', async () => {
    const { start, holds } = setup('on');
    const n1 = await start('node1', 1);
    const n2 = await start('node2', 2);
    await until('node1 holds web', () => holds(n1) && n1.ctl.isStable() && n2.ctl.isStable());
    await n1.ctl.giveUpAll();
    n1.cluster.sendShutdone();
    expect(holds(n1)).toBe(false);
    expect(n1.lines).toContain('info: All HA resources relinquished.');
    await until('node2 takes over after shutdone', () => holds(n2), 5000);
    expect(n2.lines).toContain("info: Received shutdown notice from 'node1'.");
  }, 60_000);

  it('a shutdown delayed by a departing peer goes on when that peer is declared dead (its shutdone lost)', async () => {
    const { start, holds } = setup('off');
    const n1 = await start('node1', 1);
    const n2 = await start('node2', 2);
    await until('node1 holds web', () => holds(n1) && n1.ctl.isStable() && n2.ctl.isStable());
    // node1 holds `all` (node2 went standby), so node2's death needs no takeover message
    n2.ctl.requestStandby(RSC.ALL);
    await until('node1 holds all', () => n1.ctl.rscstatus() === 'all' && n2.ctl.rscstatus() === 'none');
    // node2 shuts down: `resource … isstable=0 info=shutdown` reaches node1, its shutdone does not
    await n2.ctl.giveUpAll();
    await until('node1 sees node2 unstable', () => !n1.ctl.otherIsStable);
    n2.ctl.stop();
    await n2.cluster.stop();
    let released = false;
    void n1.ctl.giveUpAll().then(() => { released = true; });
    expect(n1.lines).toContain('WARN: Shutdown delayed until current resource activity finishes.');
    await until('node1 declares node2 dead', () => n1.lines.includes('WARN: node node2: is dead'));
    await until('node1 finishes its shutdown', () => released && !holds(n1), 5000);
    expect(n1.lines).toContain('info: All HA resources relinquished.');
  }, 60_000);
});
