/**
 * The systemd notify protocol: real datagrams over real AF_UNIX sockets
 * (abstract and path) through the hb_notify addon; the notifier's parsing of
 * systemd's variables and its watchdog on a manual clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { MAX_STATUS, SdNotifier, watchdogIntervalMs } from '../../../daemon/systemd.js';
import { until } from '../until.js';
import { notifyAddon, NotifyListener } from './notify-socket.js';

const unique = (): string => `hbts-notify-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

describe('hb_notify addon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-sd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sends one datagram to an abstract and to a path socket', async () => {
    for (const address of [`@${unique()}`, join(dir, 'notify')]) {
      const l = NotifyListener.bind(address);
      try {
        expect(notifyAddon().notifySend(address, Buffer.from('READY=1\nSTATUS=x'))).toBe(0);
        await until(`datagram on ${address}`, () => l.received.length === 1);
        expect(l.lines()).toEqual(['READY=1', 'STATUS=x']);
      } finally {
        l.close();
      }
    }
  });

  it('answers errno values for bad or absent addresses, throws on misuse', () => {
    const a = notifyAddon();
    expect(a.notifySend('relative', Buffer.from('x'))).toBe(22); // EINVAL
    expect(a.notifySend('@', Buffer.from('x'))).toBe(22);
    expect(a.notifySend(`/${'x'.repeat(200)}`, Buffer.from('x'))).toBe(22);
    expect(a.notifySend(join(dir, 'nobody'), Buffer.from('x'))).toBe(2); // ENOENT
    expect(a.notifySend(`@${unique()}`, Buffer.from('x'))).toBe(111); // ECONNREFUSED
    expect(() => a.notifySend('/x', 'text' as unknown as Buffer)).toThrow(/notifySend/);
  });
});

describe('SdNotifier', () => {
  it('is off without NOTIFY_SOCKET, and takes systemd variables out of the environment', () => {
    const log = memoryLogger();
    expect(SdNotifier.fromEnv({}, log)).toBeUndefined();
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '4000000', PATH: '/bin' };
    const n = SdNotifier.fromEnv(env, log, () => 0);
    expect(n?.watchdogMs).toBe(2000);
    expect(env).toEqual({ PATH: '/bin' });
    expect(SdNotifier.fromEnv({ NOTIFY_SOCKET: 'relative/path' }, log)).toBeUndefined();
    expect(log.lines.join('\n')).toContain('NOTIFY_SOCKET="relative/path": not a socket path or @abstract name');
  });

  it('reads WATCHDOG_USEC and honours WATCHDOG_PID', () => {
    expect(watchdogIntervalMs({}, 10)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '1000000' }, 10)).toBe(500);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '1000000', WATCHDOG_PID: '10' }, 10)).toBe(500);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '1000000', WATCHDOG_PID: '11' }, 10)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 10)).toBeInstanceOf(Error);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 10)).toBeInstanceOf(Error);
  });

  it('READY=1, STATUS= on change only (one bounded line), watchdog pings on the clock, STOPPING=1 once', () => {
    const sent: string[] = [];
    const log = memoryLogger();
    const clock = new ManualClock();
    const n = SdNotifier.fromEnv({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '2000000' }, log, (_a, d) => (sent.push(d.toString()), 0))!;
    n.ready(clock, 'node1 active');
    expect(sent).toEqual(['READY=1\nSTATUS=node1 active', 'WATCHDOG=1']);
    clock.advance(3500);
    expect(sent.filter((s) => s === 'WATCHDOG=1')).toHaveLength(4);
    n.status('node1 active');
    n.status('node1 active; node2 dead\nX=1');
    expect(sent.at(-1)).toBe('STATUS=node1 active; node2 dead X=1');
    n.status('y'.repeat(1000));
    expect(sent.at(-1)).toHaveLength('STATUS='.length + MAX_STATUS);
    n.stopping('bye');
    n.stopping('bye');
    expect(sent.filter((s) => s.startsWith('STOPPING=1'))).toEqual(['STOPPING=1\nSTATUS=bye']);
    n.close();
    const before = sent.length;
    clock.advance(10_000);
    expect(sent).toHaveLength(before);
  });

  it('logs a failed send once, and goes on', () => {
    const log = memoryLogger();
    const n = SdNotifier.fromEnv({ NOTIFY_SOCKET: '/run/x' }, log, () => 111)!;
    n.notify('READY=1');
    n.notify('STATUS=x');
    expect(log.lines.filter((l) => l.includes('systemd notify: cannot send to /run/x: ECONNREFUSED'))).toHaveLength(1);
  });
});
