/**
 * heartbeat-ts's init script (daemon/init.d/heartbeat, running the checkout's
 * daemon) against Debian's /etc/init.d/heartbeat running Heartbeat 3.0.6:
 * the same action in the same state on each side, same output and exit
 * status. node1 runs ours, node2 the real one; they form one cluster.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { authKeys, haCf, oursPids, readLog, realPids, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { OUR_INIT_ENV, OUR_TOOLS, REAL_TOOLS, run, mixedLab, type ToolRun } from './ops-support.js';

const OURS = 1;
const REAL = 2;
const theLab = mixedLab(REAL, OURS);

/** Runs `action` with each node's init script; node names, pids and script paths normalised. */
async function both(action: string[]): Promise<{ ours: ToolRun; real: ToolRun }> {
  const norm = (r: ToolRun, i: number, script: string): ToolRun => {
    const fix = (t: string): string => t.split(script).join('<INIT>').split(`node${i}`).join('<NODE>').replace(/pid \d+/g, 'pid <PID>');
    return { code: r.code, stdout: fix(r.stdout), stderr: '' };
  };
  const [ours, real] = await Promise.all([
    run(theLab(), OURS, [OUR_TOOLS.init, ...action], OUR_INIT_ENV),
    run(theLab(), REAL, [REAL_TOOLS.init, ...action]),
  ]);
  return { ours: norm(ours, OURS, OUR_TOOLS.init), real: norm(real, REAL, REAL_TOOLS.init) };
}

async function expectSame(action: string[], expected?: ToolRun): Promise<ToolRun> {
  const { ours, real } = await both(action);
  expect(ours, `init script ${action.join(' ')}`).toEqual(real);
  if (expected) expect(ours).toEqual(expected);
  return ours;
}

function configure(hacfExtra: string[] = []): void {
  for (const i of theLab().ids()) {
    writeHaConfig(theLab(), i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 3, warntime: 2, initdead: 6, autoFailback: false, extra: hacfExtra }),
      authkeys: authKeys('sha1'),
      haresources: '',
    });
  }
}


describe('init script: heartbeat-ts vs Heartbeat 3.0.6', () => {
  it('says heartbeat is not configured (exit 0) without ha.cf, and rejects unknown actions', async () => {
    for (const i of theLab().ids()) rmSync(theLab().path(i, '/etc/ha.d/ha.cf'), { force: true });
    for (const action of ['start', 'status', 'stop', 'bogus']) {
      await expectSame([action], { code: 0, stdout: 'Heartbeat not configured: /etc/ha.d/ha.cf not found. Heartbeat failure [rc=1]. Failed.\n', stderr: '' });
    }
    configure();
    await expectSame(['bogus'], { code: 1, stdout: 'Usage: <INIT> {start|stop|status|restart|reload|force-reload}\n', stderr: '' });
    await expectSame([], { code: 1, stdout: 'Usage: <INIT> {start|stop|status|restart|reload|force-reload}\n', stderr: '' });
  }, 120_000);

  it('start, status, start again, reload, restart, standby refused, stop, stop again', async () => {
    const l = theLab();
    configure();
    await expectSame(['status'], { code: 3, stdout: 'heartbeat is stopped. No process\n', stderr: '' });
    await expectSame(['start'], { code: 0, stdout: 'Starting High-Availability services: Done.\n\n', stderr: '' });
    await waitFor(async () => (await oursPids(l, OURS)).length > 0 && (await realPids(l, REAL)).length > 0, { timeoutMs: 10_000, what: 'both daemons' });
    await expectSame(['status'], { code: 0, stdout: 'heartbeat OK [pid <PID> et al] is running on <NODE> [<NODE>]...\n', stderr: '' });
    expect(l.readFile(OURS, '/var/lock/subsys/heartbeat')).toBe('');
    // a second start leaves the running daemon alone
    const before = await oursPids(l, OURS);
    await expectSame(['start'], { code: 0, stdout: 'Starting High-Availability services: Done.\n\n', stderr: '' });
    expect(await oursPids(l, OURS)).toEqual(before);

    await expectSame(['reload'], { code: 0, stdout: 'Reloading High-Availability services: Done.\n\n', stderr: '' });
    await expectSame(['force-reload'], { code: 0, stdout: 'Reloading High-Availability services: Done.\n\n', stderr: '' });
    await waitFor(() => readLog(l, OURS), { timeoutMs: 10_000, what: 'the reload in the log', until: (t) => t.includes('info: Configuration unchanged.') });

    // restart waits deadtime (3 s) + 10 s for a takeover between stop and start
    const t0 = Date.now();
    await expectSame(['restart'], {
      code: 0,
      stdout: 'Stopping High-Availability services: Done.\n\nWaiting to allow resource takeover to complete:Done.\n\nStarting High-Availability services: Done.\n\n',
      stderr: '',
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(13_000);
    const after = await waitFor(() => oursPids(l, OURS), { timeoutMs: 10_000, what: 'heartbeat-ts after restart', until: (p) => p.length > 0 });
    expect(after).not.toEqual(before);

    // standby is refused in legacy mode (before anything else is checked)
    configure(['auto_failback legacy']);
    await expectSame(['standby'], { code: 1, stdout: 'auto_failback is set to legacy.  Cannot enter standby.\n', stderr: '' });
    configure(['nice_failback off']);
    await expectSame(['standby'], { code: 1, stdout: 'nice_failback is disabled.  Cannot enter standby.\n', stderr: '' });
    configure();

    await expectSame(['stop'], { code: 0, stdout: 'Stopping High-Availability services: Done.\n\n', stderr: '' });
    await waitFor(async () => (await oursPids(l, OURS)).length + (await realPids(l, REAL)).length, { timeoutMs: 20_000, what: 'both daemons gone', until: (n) => n === 0 });
    expect(l.readFile(OURS, '/var/lock/subsys/heartbeat')).toBeUndefined();
    await expectSame(['stop'], { code: 0, stdout: 'Stopping High-Availability services: Done.\n\n', stderr: '' });
    await expectSame(['standby'], { code: 1, stdout: 'auto_failback: off\nHeartbeat is not currently running.\n', stderr: '' });
    // The text is the same; heartbeat leaves its pid file behind (exit 1),
    // heartbeat-ts removes it on a clean stop (exit 3, LSB "not running").
    const { ours, real } = await both(['status']);
    expect(ours.stdout).toBe(real.stdout);
    expect([real.code, ours.code]).toEqual([1, 3]);
  }, 180_000);

  it('reports a configuration error as the real script does (same first line and status)', async () => {
    configure(['deadtime nonsense']);
    const { ours, real } = await both(['start']);
    expect(ours.code).toBe(real.code);
    expect(ours.stdout.split('\n')[0]).toBe(real.stdout.split('\n')[0]);
    expect(ours.stdout.split('\n')[0]).toBe(`Starting High-Availability services:  Heartbeat failure [rc=${real.code}]. Failed.`);
    expect(await oursPids(theLab(), OURS)).toEqual([]);
  }, 120_000);
});
