import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHaCf } from '../../../lib/config/hacf.js';
import type { Cluster } from '../../../lib/membership/cluster.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { applyRealtime, RT_RUN_LIMIT_US, type SchedAddon } from '../../../daemon/realtime.js';
import { WatchdogAttachment } from '../../../daemon/watchdog.js';

const config = (extra: string): ReturnType<typeof parseHaCf>['value'] =>
  parseHaCf(`node node1 node2\nbcast eth0\n${extra}`, { file: 'ha.cf', nodename: 'node1' }).value;

/** A stand-in addon that records the calls and answers with the given errnos. */
function fakeAddon(errnos: Partial<Record<keyof SchedAddon, number>> = {}): SchedAddon & { calls: string[] } {
  const calls: string[] = [];
  const call = (name: keyof SchedAddon, arg?: number): number => {
    calls.push(arg === undefined ? name : `${name}(${arg})`);
    return errnos[name] ?? 0;
  };
  return {
    calls,
    makeRealtime: (p) => call('makeRealtime', p),
    priorityMin: () => 1,
    limitRealtimeRun: (us) => call('limitRealtimeRun', us),
    lockCode: () => call('lockCode'),
  };
}

describe('realtime (ha.cf realtime, rtprio, memreserve; -l)', () => {
  it('by default: SCHED_RR at the lowest priority and the run bound', () => {
    const a = fakeAddon();
    const log = memoryLogger();
    expect(applyRealtime(config('')!, false, log, () => a)).toEqual({ realtime: true, priority: 1 });
    expect(a.calls).toEqual(['makeRealtime(1)', `limitRealtimeRun(${RT_RUN_LIMIT_US})`, 'lockCode']);
    expect(log.lines).toEqual([]);
  });

  it('takes rtprio; does nothing with realtime off or -l', () => {
    const a = fakeAddon();
    expect(applyRealtime(config('rtprio 7\n')!, false, memoryLogger(), () => a).priority).toBe(7);
    expect(a.calls).toContain('makeRealtime(7)');
    const b = fakeAddon();
    expect(applyRealtime(config('realtime off\n')!, false, memoryLogger(), () => b)).toEqual({ realtime: false });
    expect(applyRealtime(config('')!, true, memoryLogger(), () => b)).toEqual({ realtime: false });
    expect(b.calls).toEqual([]);
  });

  it('warns when the code cannot be locked, and stays realtime', () => {
    const log = memoryLogger();
    expect(applyRealtime(config('')!, false, log, () => fakeAddon({ lockCode: 12 }))).toEqual({ realtime: true, priority: 1 });
    expect(log.lines).toEqual(["WARN: Cannot lock the program's code in memory: ENOMEM"]);
  });

  it('locks the code of a real process: resident pages locked, RSS not grown', async () => {
    const { loadAddon } = await import('../../../lib/util/addon.js');
    const real = loadAddon<SchedAddon>('hb_sched', 'SCHED', 'realtime scheduling');
    const status = (): string => readFileSync('/proc/self/status', 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status())?.[1] ?? NaN);
    const rssBefore = kib('VmRSS');
    // a child process would be cleaner, but the lock is harmless here: only read-only file pages
    expect(real.lockCode()).toBe(0);
    expect(kib('VmLck')).toBeGreaterThan(0);
    expect(kib('VmRSS') - rssBefore).toBeLessThan(8 * 1024);
  });

  it('logs a refusal and runs on as a normal process (3.0.6 does too)', () => {
    const log = memoryLogger();
    expect(applyRealtime(config('')!, false, log, () => fakeAddon({ makeRealtime: 1 }))).toEqual({ realtime: false });
    expect(log.lines).toEqual(['ERROR: Unable to set scheduler parameters. (SCHED_RR priority 1: EPERM)']);
  });
});

describe('watchdog device', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const device = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'hbts-wd-'));
    dirs.push(d);
    const f = join(d, 'watchdog');
    writeFileSync(f, '');
    return f;
  };
  const node = (): { cluster: Cluster; emitter: EventEmitter } => {
    const emitter = new EventEmitter();
    return { emitter, cluster: emitter as unknown as Cluster };
  };

  it('a byte at start and per status sent, none after a rebind to another core, "V" after the last status', () => {
    const dev = device();
    const log = memoryLogger();
    const wd = new WatchdogAttachment(dev, log);
    const first = node();
    wd.start(first);
    first.emitter.emit('statusSent');
    first.emitter.emit('statusSent');
    const second = node();
    wd.rebind(second);
    first.emitter.emit('statusSent'); // the old core no longer feeds it
    second.emitter.emit('statusSent');
    wd.silenced();
    second.emitter.emit('statusSent');
    expect(readFileSync(dev, 'latin1')).toBe('\0\0\0\0V');
    expect(log.lines).toEqual([`info: Using watchdog device: ${dev}`, "debug: Successful watchdog 'V' write", 'debug: Successful watchdog close']);
  });

  it('a device that cannot be opened: an error, and the node runs on', () => {
    const log = memoryLogger();
    const wd = new WatchdogAttachment('/nonexistent/watchdog', log);
    const n = node();
    wd.start(n);
    n.emitter.emit('statusSent');
    wd.silenced();
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^ERROR: Cannot open watchdog device: \/nonexistent\/watchdog: .*ENOENT/);
  });
});
