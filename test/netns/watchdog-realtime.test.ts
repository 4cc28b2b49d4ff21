/**
 * Issue 18, watchdog and realtime: heartbeat-ts next to Heartbeat 3.0.6 with
 * the same ha.cf in a two-node lab.
 * - realtime (the default): the daemon's scheduling policy and priority as
 *   `chrt -p` shows them equal 3.0.6's (SCHED_RR, priority 1); memory is not
 *   locked (V8 cannot run with locked pages: README); `rtprio 7` gives 7; `realtime off` and `-l` leave it a
 *   normal process. Ours adds SCHED_RESET_ON_FORK (children run normally).
 * - watchdog: this kernel has no softdog, so the device is a FIFO the test
 *   reads. A byte per heartbeat while the daemon runs, none while it is
 *   stopped (SIGSTOP), the magic 'V' last after a clean stop.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authKeys, haCf, killOurs, logSize, oursPids, realPids, startOurs, startReal, waitFor, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab, labUp, type NodeProcess } from './harness/lab.js';
import { signalAll } from './harness/proc.js';
import { teardownMixed } from './ops-support.js';

const OURS = 1;
const REAL = 2;
const WD = '/run/hb-watchdog';
const WD_OUT = '/var/log/watchdog.bytes';

let lab: Lab | undefined;
const readers: NodeProcess[] = [];
beforeAll(async () => {
  lab = await Lab.up({ nodes: 2 });
}, 120_000);
afterAll(async () => {
  for (const r of readers) r.kill('SIGKILL');
  await teardownMixed(lab, REAL, OURS);
}, 120_000);

function configure(l: Lab, extra: string[]): void {
  for (const i of l.ids()) {
    writeHaConfig(l, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: '500ms', deadtime: 10, initdead: 20, extra }),
      authkeys: authKeys('sha1'),
    });
  }
}

/** `chrt -p` of a host PID: policy (with flags) and priority. */
function sched(pid: number): { policy: string; priority: number } {
  const out = spawnSync('chrt', ['-p', String(pid)], { encoding: 'utf8' }).stdout;
  return {
    policy: /policy: (\S+)/.exec(out)?.[1] ?? `? ${out}`,
    priority: Number(/priority: (\d+)/.exec(out)?.[1] ?? -1),
  };
}

const lockedKb = (pid: number): number => Number(/VmLck:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? -1);

/** Starts ours with these ha.cf lines (and daemon flags); returns its host PID once it is up. */
async function runOurs(l: Lab, extra: string[], args: string[] = []): Promise<number> {
  await killOurs(l, OURS, 'SIGTERM', 60_000);
  configure(l, extra);
  const after = logSize(l, OURS);
  await startOurs(l, OURS, { args });
  // realtime is applied right after the banner, before the node starts
  await waitForLog(l, OURS, /Local status now set to: 'up'/, { timeoutMs: 30_000, after });
  const pids = await waitFor(() => oursPids(l, OURS), { timeoutMs: 30_000, what: 'heartbeat-ts running', until: (p) => p.length === 1 });
  return pids[0] as number;
}

describe('realtime and watchdog, heartbeat-ts next to Heartbeat 3.0.6', () => {
  it('realtime: SCHED_RR at 3.0.6\'s priority; rtprio, realtime off and -l honoured', async () => {
    const l = labUp(lab);
    configure(l, []);
    await startReal(l, REAL);
    const ours = await runOurs(l, []);
    const real = await waitFor(() => realPids(l, REAL), { timeoutMs: 30_000, what: '3.0.6 running', until: (p) => p.length > 0 });
    const realSched = real.map(sched);
    console.log(`[realtime] 3.0.6: ${JSON.stringify(realSched)} VmLck ${real.map(lockedKb).join('/')} kB; ours: ${JSON.stringify(sched(ours))} VmLck ${lockedKb(ours)} kB`);
    const master = realSched[0] as { policy: string; priority: number };
    expect(master.policy).toBe('SCHED_RR');
    expect(sched(ours)).toEqual({ policy: 'SCHED_RR|SCHED_RESET_ON_FORK', priority: master.priority });

    expect(sched(await runOurs(l, ['rtprio 7']))).toEqual({ policy: 'SCHED_RR|SCHED_RESET_ON_FORK', priority: 7 });
    const off = await runOurs(l, ['realtime off']);
    expect(sched(off)).toEqual({ policy: 'SCHED_OTHER', priority: 0 });
    expect(sched(await runOurs(l, [], ['-l']))).toEqual({ policy: 'SCHED_OTHER', priority: 0 });
  }, 240_000);

  it('watchdog: fed with every heartbeat, starved while the daemon is stopped, magic close on a clean stop', async () => {
    const l = labUp(lab);
    await killOurs(l, OURS, 'SIGTERM', 60_000);
    const made = await l.sh(OURS, `rm -f ${WD} ${WD_OUT} && mkfifo -m 600 ${WD}`);
    expect(made.code, made.stderr).toBe(0);
    // the "device": a reader must hold the FIFO open before heartbeat opens it
    // read-write open: the reader never waits for a writer, and holds the FIFO open throughout
    readers.push(await l.spawn(OURS, ['sh', '-c', `exec cat <> ${WD} > ${WD_OUT}`]));
    const bytes = (): Buffer => l.readFile(OURS, WD_OUT) === undefined ? Buffer.alloc(0) : readFileSync(l.path(OURS, WD_OUT));
    await waitFor(async () => (await l.sh(OURS, `ls /proc/*/fd -l 2>/dev/null | grep -c ${WD}`)).stdout.trim(), {
      timeoutMs: 10_000, what: 'the FIFO reader', until: (n) => Number(n) >= 1,
    });
    const pid = await runOurs(l, [`watchdog ${WD}`]);
    await waitForLog(l, OURS, new RegExp(`info: Using watchdog device: ${WD}`), { timeoutMs: 20_000 });
    await waitFor(() => bytes().length, { timeoutMs: 20_000, what: 'watchdog feeds', until: (n) => n >= 4 });

    signalAll([pid], 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 500));
    const stalled = bytes().length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(bytes().length, 'no feed while the daemon is stopped').toBe(stalled);
    signalAll([pid], 'SIGCONT');
    await waitFor(() => bytes().length, { timeoutMs: 20_000, what: 'feeds again after SIGCONT', until: (n) => n >= stalled + 2 });

    await killOurs(l, OURS, 'SIGTERM', 60_000);
    const all = bytes();
    console.log(`[watchdog] ${all.length - 1} feeds, then ${JSON.stringify(all.subarray(-1).toString('latin1'))}`);
    expect(all.subarray(-1).toString('latin1')).toBe('V');
    expect([...all.subarray(0, -1)].every((b) => b === 0)).toBe(true);
  }, 180_000);
});
