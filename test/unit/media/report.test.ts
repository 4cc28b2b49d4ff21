import { describe, expect, it } from 'vitest';
import { ErrorReporter } from '../../../lib/media/report.js';
import { HbError } from '../../../lib/util/errors.js';

describe('ErrorReporter', () => {
  it('passes the first error, swallows repeats for the interval, then says how many it swallowed', () => {
    let now = 0;
    const seen: Error[] = [];
    const r = new ErrorReporter(10_000, () => now);
    r.setSink((e) => seen.push(e));
    for (let i = 0; i < 5; i++) r.report('MEDIA_SEND_FAILED', 'bcast eth0: cannot send: ENETUNREACH', 'send:ENETUNREACH');
    r.report('MEDIA_SEND_FAILED', 'bcast eth0: cannot send: EPERM', 'send:EPERM'); // a new kind gets through
    now = 10_001;
    r.report('MEDIA_SEND_FAILED', 'bcast eth0: cannot send: ENETUNREACH', 'send:ENETUNREACH');
    expect(seen.map((e) => e.message)).toEqual([
      'bcast eth0: cannot send: ENETUNREACH',
      'bcast eth0: cannot send: EPERM',
      'bcast eth0: cannot send: ENETUNREACH (4 similar error(s) suppressed)',
    ]);
    expect(seen.every((e) => e instanceof HbError && e.code === 'MEDIA_SEND_FAILED')).toBe(true);
  });

  it('survives a throwing sink and stays silent without one', () => {
    const r = new ErrorReporter();
    expect(() => r.report('X', 'no sink yet')).not.toThrow();
    r.setSink(() => {
      throw new Error('boom');
    });
    expect(() => r.report('X', 'sink throws')).not.toThrow();
  });
});
