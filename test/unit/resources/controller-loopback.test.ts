/**
 * The controller's nice_failback start-up when its own replies loop back
 * on the next turn (as Cluster.send does, through the clock): the state a
 * looped-back reply sets follows the message that caused it, and the
 * RQSTDELAY deadline must survive passing in another state. Found over a serial link
 * in the netns suite: a node whose peer died in its first 10 s never became
 * stable, so its shutdown waited forever.
 */
import { describe, expect, it } from 'vitest';
import { GroupManager } from '../../../lib/resources/group-manager.js';
import { ResourceController } from '../../../lib/resources/controller.js';
import { ScriptRunner } from '../../../lib/resources/script-runner.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { F, T } from '../../../lib/wire/fields.js';
import { HaMsg } from '../../../lib/wire/message.js';

function node1() {
  const log = memoryLogger();
  const clock = new ManualClock();
  currentClock = clock;
  const sent: HaMsg[] = [];
  const statuses = new Map([['node1', 'active'], ['node2', 'active']]);
  const groups = new GroupManager({
    groups: [],
    myName: 'node1',
    log,
    clock, runner: new ScriptRunner({ clock, resourceDirs: ['/nonexistent'], env: {}, timeoutMs: { start: 1000, stop: 1000, status: 1000 }, killGraceMs: 100 }),
    stopRetryMax: 1,
    onUnstoppable: () => undefined,
  });
  let ctl: ResourceController;
  const send = (m: HaMsg): number => {
    m.mod(F.ORIG, 'node1');
    sent.push(m);
    clock.defer(() => ctl.message(m, 'node1', true)); // loopback on the next turn, as Cluster.send does
    return 1;
  };
  ctl = new ResourceController({
    cluster: {
      myName: 'node1',
      send,
      normalNodes: () => [...statuses].map(([name, status]) => ({ name, status: status as 'active', anyPacketsYet: true })),
    },
    groups,
    autoFailback: 'off',
    clock,
    log,
    scriptLog: () => log,
    requestDelayMs: 10_000,
  });
  // Each network message is its own turn: our replies to it loop back before the next one.
  const fromNode2 = (m: HaMsg): void => {
    ctl.message(m.add(F.ORIG, 'node2'), 'node2', false);
    clock.flush();
  };
  return { ctl, clock, log, sent, fromNode2, statuses };
}

let currentClock: ManualClock | undefined;
const flush = async (): Promise<void> => {
  await new Promise((r) => setTimeout(r, 20));
  currentClock?.flush();
};

describe('resource controller start-up with loopback on the next turn', () => {
  it("the peer's `starting` leads to rscrcvd (our reply looped back), then stable after RQSTDELAY", async () => {
    const { ctl, clock, log, fromNode2 } = node1();
    ctl.commUp();
    clock.flush();
    expect(ctl.state).toBe('starting');
    fromNode2(new HaMsg().add(F.TYPE, T.STARTING));
    // heartbeat: starting -> bothstarting, then its own queued reply -> rscrcvd
    expect(ctl.state).toBe('rscrcvd');
    fromNode2(new HaMsg().add(F.TYPE, T.RESOURCE).add(F.RSC_HOLD, 'none').add(F.RTYPE, 'full').add(F.ISSTABLE, '0'));
    clock.advance(10_001);
    await flush();
    expect(ctl.state).toBe('stable');
    expect(log.lines).toContain('info: local resource transition completed.');
  });

  it('a peer that never answers our `starting` and dies after RQSTDELAY leaves us able to shut down', async () => {
    const { ctl, clock, log, fromNode2, statuses } = node1();
    ctl.commUp();
    clock.flush();
    // node2's `starting` reaches us, ours reached node2 before its comm was
    // up (it ignored it): no resource message from node2 ever comes.
    fromNode2(new HaMsg().add(F.TYPE, T.STARTING));
    clock.advance(10_500);
    await flush();
    expect(log.lines).toContain('info: local resource transition completed.');
    clock.advance(3000);
    statuses.set('node2', 'dead');
    ctl.nodeDead('node2', true);
    await flush();
    let released = false;
    void ctl.giveUpAll().then(() => {
      released = true;
    });
    for (let k = 0; k < 50 && !released; k++) await flush();
    expect(released).toBe(true);
    expect(ctl.state).toBe('shutdown');
  });

  it('a standby with nothing for us to acquire completes (our `done` may loop back before the acquisition returns)', async () => {
    const { ctl, clock, log, fromNode2 } = node1();
    ctl.commUp();
    clock.flush();
    fromNode2(new HaMsg().add(F.TYPE, T.STARTING));
    fromNode2(new HaMsg().add(F.TYPE, T.RESOURCE).add(F.RSC_HOLD, 'none').add(F.RTYPE, 'full').add(F.ISSTABLE, '0'));
    clock.advance(10_001);
    await flush();
    fromNode2(new HaMsg().add(F.TYPE, T.RESOURCE).add(F.RSC_HOLD, 'none').add(F.RTYPE, 'full').add(F.ISSTABLE, '1'));
    await flush();
    expect(ctl.state).toBe('stable');
    // node2 (auto_failback) hands back its foreign set: for us, no group at all
    fromNode2(new HaMsg().add(F.TYPE, T.ASK_RESOURCES).add(F.RSC_HOLD, 'foreign').add(F.INFO, 'me'));
    fromNode2(new HaMsg().add(F.TYPE, T.ASK_RESOURCES).add(F.RSC_HOLD, 'foreign').add(F.INFO, 'done'));
    await flush();
    expect(log.lines.filter((l) => l.includes('Ignored standby message'))).toEqual([]);
    expect(log.lines).toContain('info: Standby resource acquisition done [foreign].');
    // node2, done as well, says it is stable again; then nothing holds our shutdown
    fromNode2(new HaMsg().add(F.TYPE, T.RESOURCE).add(F.RSC_HOLD, 'none').add(F.RTYPE, 'full').add(F.ISSTABLE, '1'));
    let released = false;
    void ctl.giveUpAll().then(() => {
      released = true;
    });
    for (let k = 0; k < 50 && !released; k++) await flush();
    expect(released).toBe(true);
  });
});
