import { describe, expect, it } from 'vitest';
import { RateGate } from '../../../lib/util/rate-gate.js';

describe('RateGate', () => {
  it('lets a key through once per interval and counts what it held back', () => {
    const g = new RateGate(10_000, 8);
    expect(g.pass('a', 0)).toEqual({ suppressed: 0 });
    expect(g.pass('a', 5_000)).toBe(false);
    expect(g.pass('a', 9_999)).toBe(false);
    expect(g.pass('a', 10_000)).toEqual({ suppressed: 2 });
  });

  it('never holds more than maxKeys keys, however many names arrive', () => {
    const g = new RateGate(10_000, 64);
    for (let i = 0; i < 50_000; i++) g.pass(`made-up-${i}`, i / 100);
    expect(g.size).toBeLessThanOrEqual(64);
  });

  it('forgets expired keys before evicting live ones', () => {
    const g = new RateGate(100, 2);
    g.pass('old', 0);
    g.pass('live', 150);
    g.pass('new', 160); // 'old' expired: evicted, 'live' kept
    expect(g.pass('live', 170)).toBe(false);
  });
});
