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

  it('polls on every heartbeat at keepalive 1 s, timer jitter included, and at every one of longer keepalives', () => {
    const clock = new ManualClock();
    let n = 0;
    heartbeats(new HeartbeatPoll(clock, () => n++), clock, 999, 10);
    expect(n).toBe(10);
    heartbeats(new HeartbeatPoll(clock, () => n++), clock, 2000, 5);
    expect(n).toBe(15);
  });

  it('polls about once a second with short keepalives, and not once unbound', () => {
    const clock = new ManualClock();
    let n = 0;
    heartbeats(new HeartbeatPoll(clock, () => n++), clock, 100, 50);
    expect(n).toBe(5);
    heartbeats(new HeartbeatPoll(clock, () => n++), clock, 300, 10);
    expect(n).toBe(9);
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
