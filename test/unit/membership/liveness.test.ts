import { describe, expect, it } from 'vitest';
import { Liveness, type LivenessPort } from '../../../lib/membership/liveness.js';
import { newNode, type NodeInfo } from '../../../lib/membership/nodes.js';
import { ManualClock } from '../../../lib/util/clock.js';

/** A manual clock whose "after input" work waits until the test says the input was read. */
class PollingClock extends ManualClock {
  readonly afterRead: (() => void)[] = [];
  afterInput(fn: () => void): void {
    this.afterRead.push(fn);
  }
  inputRead(): void {
    for (let fn = this.afterRead.shift(); fn; fn = this.afterRead.shift()) fn();
  }
}

function pair(clock: ManualClock, keepaliveMs = 250, deadtimeMs = 1000): { liveness: Liveness; silent: string[] } {
  const nodes: NodeInfo[] = [newNode('node1', 'normal', ['eth0'], deadtimeMs), newNode('node2', 'normal', ['eth0'], deadtimeMs)]
    .map((n) => ({ ...n, status: 'active' as const }));
  const silent: string[] = [];
  const port: LivenessPort = {
    nodes: () => nodes,
    myName: 'node1',
    keepaliveMs,
    deadtimeMs,
    limitFor: () => deadtimeMs,
    silent: (name) => silent.push(name),
    linkSilent: () => undefined,
    afterCheck: () => undefined,
    stalled: () => undefined,
  };
  const liveness = new Liveness(port, clock, clock.nowMs());
  return { liveness, silent };
}

describe('Liveness deadlines', () => {
  it('reads the heartbeats queued while the process was busy before it judges', () => {
    const clock = new PollingClock();
    const { liveness, silent } = pair(clock);
    liveness.statusHeard('node1');
    liveness.statusHeard('node2');
    liveness.schedule(clock.nowMs() + 1001);
    // Busy for 1.2 s: the deadline passed meanwhile; node2's heartbeats wait in the socket.
    clock.advance(1200);
    expect(clock.afterRead.length).toBe(1);
    liveness.statusHeard('node1'); // the poll phase reads them first
    liveness.statusHeard('node2');
    clock.inputRead();
    expect(silent).toEqual([]);
    liveness.stop();
  });

  it('still finds a silent node silent once the input is read', () => {
    const clock = new PollingClock();
    const { liveness, silent } = pair(clock);
    liveness.statusHeard('node1');
    liveness.statusHeard('node2');
    liveness.schedule(clock.nowMs() + 1001);
    clock.advance(1010); // busy 9 ms: within timer jitter, no stall of ours
    liveness.statusHeard('node1');
    clock.inputRead();
    expect(silent).toEqual(['node2']);
    liveness.stop();
  });

  it('judges at once on a clock without the hook (the simulator)', () => {
    const clock = new ManualClock();
    const { liveness, silent } = pair(clock);
    liveness.statusHeard('node2');
    liveness.schedule(clock.nowMs() + 1001);
    clock.advance(1002);
    expect(silent).toContain('node2');
    liveness.stop();
  });

  it('excuses a short stall of its own: the peer gets two keepalives from then', () => {
    const clock = new ManualClock();
    const { liveness, silent } = pair(clock, 25, 100);
    liveness.statusHeard('node1');
    liveness.statusHeard('node2');
    liveness.schedule(clock.nowMs() + 101);
    // the whole host paused 70 ms around the deadline: no timer ran, nothing was sent
    clock.jumpWithoutTimers(170);
    clock.advance(1);
    expect(silent).toEqual([]);
    liveness.statusHeard('node1');
    liveness.statusHeard('node2');
    clock.advance(60);
    expect(silent).toEqual([]);
    liveness.stop();
  });

  it('finds a dead peer dead at most one dead time later, however often it stalls', () => {
    const clock = new ManualClock();
    const { liveness, silent } = pair(clock, 25, 100);
    liveness.statusHeard('node2');
    liveness.schedule(clock.nowMs() + 101);
    const t0 = clock.nowMs();
    // every timer 30 ms late, for ever; node2 never heard again
    while (!silent.includes('node2') && clock.nowMs() - t0 < 1000) {
      liveness.statusHeard('node1');
      clock.jumpWithoutTimers(30);
      clock.advance(5);
    }
    expect(silent).toContain('node2');
    expect(clock.nowMs() - t0).toBeLessThanOrEqual(2 * 100 + 2 * 35);
    liveness.stop();
  });
});
