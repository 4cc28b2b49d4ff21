/**
 * Legacy (auto_failback legacy) acquisition at comm-up: the ask-or-take
 * decision waits until every heard, live peer has told its status, so a
 * peer heard only through an ack of our first packets is not mistaken for
 * a node that is not up (which would make us take our groups while it
 * holds them). Real resource script, fake cluster access.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHaResources } from '../../../lib/config/haresources.js';
import { ResourceController } from '../../../lib/resources/controller.js';
import { GroupManager } from '../../../lib/resources/group-manager.js';
import { ScriptRunner } from '../../../lib/resources/script-runner.js';
import { systemClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { F, T } from '../../../lib/wire/fields.js';
import type { HaMsg } from '../../../lib/wire/message.js';
import { until } from '../until.js';

const SCRIPT = `#!/bin/sh
f="$STATE_DIR/$1"
case "$2" in
  start) touch "$f";;
  stop) rm -f "$f";;
  status) if [ -e "$f" ]; then echo "running"; else echo "stopped"; fi;;
esac
exit 0
`;

interface Peer { name: string; status: string; anyPacketsYet: boolean; statusKnown: boolean }

const roots: string[] = [];
const controllers: ResourceController[] = [];
afterEach(() => {
  for (const c of controllers.splice(0)) c.stop();
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function setup(peerStatusWaitMs: number) {
  const root = mkdtempSync(join(tmpdir(), 'hbrsc-legacy-'));
  roots.push(root);
  const rdir = join(root, 'resource.d');
  mkdirSync(rdir);
  writeFileSync(join(rdir, 'dummy'), SCRIPT);
  chmodSync(join(rdir, 'dummy'), 0o755);
  const log = memoryLogger();
  const groups = parseHaResources('node1 dummy::web\n', { file: 'haresources', nodes: ['node1', 'node2'] }).value ?? [];
  const gm = new GroupManager({
    groups, myName: 'node1', log, stopRetryMax: 1, onUnstoppable: () => { throw new Error('unstoppable'); },
    clock: systemClock, runner: new ScriptRunner({ clock: systemClock, resourceDirs: [rdir], env: { STATE_DIR: root }, timeoutMs: { start: 5000, stop: 5000, status: 5000 }, killGraceMs: 500 }),
  });
  const sent: HaMsg[] = [];
  const nodes: Peer[] = [
    { name: 'node1', status: 'active', anyPacketsYet: true, statusKnown: true },
    // heard (an ack), but no status message yet: still our default `init`
    { name: 'node2', status: 'init', anyPacketsYet: true, statusKnown: false },
  ];
  const ctl = new ResourceController({
    cluster: { myName: 'node1', send: (m) => { sent.push(m); return 1; }, normalNodes: () => nodes },
    groups: gm, autoFailback: 'legacy', clock: systemClock, log, scriptLog: () => log, peerStatusWaitMs,
  });
  controllers.push(ctl);
  const holds = (): boolean => existsSync(join(root, 'web'));
  const types = (): string[] => sent.map((m) => m.get(F.TYPE) ?? '');
  return { ctl, nodes, holds, types, sent };
}

describe('legacy acquisition at comm-up', () => {
  it('waits for a heard peer to tell its status, then asks it (ip-request) instead of taking the group', async () => {
    const { ctl, nodes, holds, types, sent } = setup(5000);
    ctl.commUp();
    await new Promise((r) => setTimeout(r, 400));
    expect(types()).toEqual([]);
    expect(holds()).toBe(false);
    const peer = nodes[1];
    if (peer === undefined) throw new Error('peer');
    peer.status = 'active';
    peer.statusKnown = true;
    await until('ip-request sent', () => types().includes(T.IP_REQUEST));
    expect(sent.find((m) => m.get(F.TYPE) === T.IP_REQUEST)?.get(F.IPADDR)).toBe('dummy::web');
    await new Promise((r) => setTimeout(r, 300));
    expect(holds()).toBe(false);
  });

  it('gives up waiting after peerStatusWaitMs: a peer that never tells its status does not block us', async () => {
    const { ctl, holds, types } = setup(600);
    const t0 = Date.now();
    ctl.commUp();
    await until('group taken without asking', () => holds());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(types()).not.toContain(T.IP_REQUEST);
  });
});
