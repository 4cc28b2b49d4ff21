/**
 * What keeps an idle daemon cheap: the holder polls ride on our own
 * heartbeats (no timer of their own), about once a second whatever the
 * keepalive; /proc/loadavg is read through one descriptor kept open.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadavgReader } from '../../../daemon/node.js';
import { HeartbeatPoll } from '../../../daemon/overview.js';
import type { Cluster } from '../../../lib/membership/cluster.js';
import { ManualClock } from '../../../lib/util/clock.js';

describe('HeartbeatPoll', () => {
  const heartbeats = (poll: HeartbeatPoll, clock: ManualClock, everyMs: number, count: number): void => {
    const c = new EventEmitter();
    poll.bind(c as unknown as Cluster);
    for (let i = 0; i < count; i++) {
      clock.advance(everyMs);
      c.emit('statusSent');
    }
    poll.bind(null);
    c.emit('statusSent');
  };

  // keepalive 1 s with timer jitter: every heartbeat; longer ones: every heartbeat; shorter: the one nearest a second
  it.each([[999, 10, 10], [2000, 5, 5], [100, 50, 5], [300, 10, 4]])('heartbeats every %i ms, %i of them: %i polls', (beatMs, count, polls) => {
    const clock = new ManualClock();
    let n = 0;
    heartbeats(new HeartbeatPoll(clock, () => n++), clock, beatMs, count);
    expect(n).toBe(polls);
  });
});

describe('loadavgReader', () => {
  it('reads what the file says now, each time, and n/a when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-loadavg-'));
    try {
      const file = join(dir, 'loadavg');
      writeFileSync(file, '0.10 0.20 0.30 1/100 4242\n');
      const read = loadavgReader(file);
      expect(read()).toBe('0.10 0.20 0.30 1/100 4242');
      writeFileSync(file, '1.00 2.00 3.00 2/200 99\n');
      expect(read()).toBe('1.00 2.00 3.00 2/200 99');
      expect(loadavgReader(join(dir, 'missing'))()).toBe('n/a');
      expect(loadavgReader()()).toMatch(/^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
