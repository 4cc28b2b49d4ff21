/**
 * Issue 15, commands and systemd, against real daemons in a lab: node1 runs
 * heartbeat-ts under a real notify socket (this test plays systemd: an
 * AF_UNIX datagram socket bound through the hb_notify addon, its path given
 * as NOTIFY_SOCKET, WATCHDOG_USEC set), node2 runs heartbeat-ts too. We see
 * READY=1, STATUS= lines following the cluster, WATCHDOG=1 pings that stop
 * while the daemon is SIGSTOPped and come back after SIGCONT, STOPPING=1 on
 * SIGTERM; hb_status and cl_status --json in node1 show node2's death and
 * the group changing hands.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authKeys, haCf, killOurs, OURS_OUT, oursPids, readLog, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { Lab, REPO_ROOT, type NodeProcess } from './harness/lab.js';
import { isRunning, signalAll } from './harness/proc.js';
import { startOursEnv } from './failover-cluster.js';
import { NotifyListener } from '../unit/daemon/notify-socket.js';

const WATCHDOG_USEC = 1_000_000; // pings every 500 ms
const HB_STATUS = join(REPO_ROOT, 'dist/daemon/hb_status.js');
const CL_STATUS = join(REPO_ROOT, 'dist/daemon/cl_status.js');
let lab: Lab | undefined;
let dir = '';
let listener: NotifyListener | undefined;
let daemon1: NodeProcess | undefined;

function theLab(): Lab {
  if (!lab) throw new Error('lab not up');
  return lab;
}
const notify = (): NotifyListener => listener as NotifyListener;
const pings = (): number => notify().lines().filter((l) => l === 'WATCHDOG=1').length;
const statuses = (): string[] => notify().lines().filter((l) => l.startsWith('STATUS='));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function inNode1(argv: string[]): Promise<{ code: number | null; stdout: string }> {
  const r = await theLab().exec(1, [process.execPath, ...argv], { timeoutMs: 20_000 });
  return { code: r.code, stdout: r.stdout };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hbts-notify-'));
  listener = NotifyListener.bind(join(dir, 'notify'));
  lab = await Lab.up({ nodes: 2 });
  for (const i of lab.ids()) {
    writeHaConfig(lab, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 10, initdead: 20 }),
      authkeys: authKeys('sha1'),
      haresources: `node1 IPaddr::${lab.subnet}.100/24/eth0\nnode2 IPaddr::${lab.subnet}.101/24/eth0\n`,
    });
  }
  daemon1 = await startOursEnv(lab, 1, { NOTIFY_SOCKET: join(dir, 'notify'), WATCHDOG_USEC: String(WATCHDOG_USEC) });
  await startOursEnv(lab, 2);
}, 120_000);

afterAll(async () => {
  try {
    listener?.close();
    if (lab?.isUp) for (const i of [1, 2]) signalAll(await oursPids(lab, i).catch(() => []), 'SIGKILL');
  } finally {
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('systemd notify and hb_status against real daemons', () => {
  it('READY=1 once running, then STATUS= with both nodes and both groups settled', async () => {
    await waitFor(() => notify().lines(), { timeoutMs: 60_000, what: 'READY=1', until: (l) => l.includes('READY=1') });
    console.info(`READY=1 ${Math.round(notify().received[0]?.atMs ?? 0)} ms after the notify socket was bound (daemon start)`);
    expect(notify().lines()[0]).toBe('READY=1');
    await waitFor(() => statuses(), {
      timeoutMs: 90_000, what: 'STATUS= with node2 active and resources local',
      until: (s) => s.some((l) => l.includes('node2 active') && l.includes('(resources: local)')),
    });
    expect(statuses().at(-1)).toMatch(/^STATUS=node\d active.*; links up 1\/1$/);
  }, 120_000);

  it('WATCHDOG=1 pings from the event loop: none while SIGSTOPped, again after SIGCONT', async () => {
    const start = pings();
    await waitFor(() => pings(), { timeoutMs: 20_000, what: 'three watchdog pings', until: (n) => n >= start + 3 });
    const pid = daemon1?.pid;
    if (pid === undefined) throw new Error('no pid for node1');
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(500);
      notify().drain();
      const frozen = pings();
      await sleep(3000);
      notify().drain();
      expect(pings()).toBe(frozen);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const resumed = pings();
    await waitFor(() => pings(), { timeoutMs: 20_000, what: 'pings after SIGCONT', until: (n) => n >= resumed + 2 });
    // For the report only (no tight timing asserted): gaps between pings as received.
    const at = notify().received.filter((d) => d.text === 'WATCHDOG=1').map((d) => d.atMs);
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number)).sort((x, y) => x - y);
    console.info(`watchdog pings: ${at.length}, gap median ${Math.round(gaps[gaps.length >> 1] ?? 0)} ms, max ${Math.round(gaps.at(-1) ?? 0)} ms (SIGSTOP included)`);
  }, 60_000);

  it('hb_status and cl_status --json in node1 show the cluster', async () => {
    const text = await inNode1([HB_STATUS]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Nodes \(2 of 2 up\):\n {2}node\d +active +normal/);
    expect(text.stdout).toContain(`IPaddr::${theLab().subnet}.100/24/eth0: held by node1 (home node1)`);
    expect(text.stdout).toContain(`IPaddr::${theLab().subnet}.101/24/eth0: held by node2 (home node2)`);
    const cls = await inNode1([CL_STATUS, 'nodestatus', 'node2', '--json']);
    expect({ code: cls.code, doc: JSON.parse(cls.stdout) as unknown }).toEqual({ code: 0, doc: { node: 'node2', status: 'active' } });
  }, 60_000);

  it('node2 dies: STATUS= says so, hb_status --json has the event and node1 holds both groups', async () => {
    await killOurs(theLab(), 2, 'SIGKILL', 20_000);
    await waitFor(() => statuses(), { timeoutMs: 60_000, what: 'STATUS= with node2 dead', until: (s) => s.some((l) => l.includes('node2 dead')) });
    const doc = await waitFor(async () => JSON.parse((await inNode1([HB_STATUS, '--json', '--events', '50'])).stdout) as {
      groups: { holder: string | null }[]; events: { kind: string; node?: string; status?: string }[]; nodes: { name: string; status: string }[];
    }, { timeoutMs: 120_000, what: 'node1 holding both groups', until: (d) => d.groups.every((g) => g.holder === 'node1') });
    expect(doc.nodes.find((n) => n.name === 'node2')?.status).toBe('dead');
    expect(doc.events).toContainEqual(expect.objectContaining({ kind: 'node', node: 'node2', status: 'dead' }));
    // node2's group: from node2 to node1, possibly through "nobody" if a poll fell inside the takeover
    expect(doc.events).toContainEqual(expect.objectContaining({ kind: 'holder', status: 'node1' }));
    expect(doc.events.some((e) => e.kind === 'holder' && (e as { previous?: string | null }).previous === 'node2')).toBe(true);
  }, 180_000);

  it('STOPPING=1 on SIGTERM, before the daemon exits', async () => {
    const pids = await oursPids(theLab(), 1);
    expect(pids.length).toBeGreaterThan(0);
    signalAll(pids, 'SIGTERM');
    await waitFor(() => notify().lines(), { timeoutMs: 60_000, what: 'STOPPING=1', until: (l) => l.includes('STOPPING=1') });
    try {
      await waitFor(() => pids.filter(isRunning), { timeoutMs: 90_000, what: 'node1 to exit', until: (l) => l.length === 0 });
    } catch (err) {
      console.error(readLog(theLab(), 1), readLog(theLab(), 1, OURS_OUT));
      throw err;
    }
    notify().drain();
    expect(notify().lines().filter((l) => l === 'READY=1')).toHaveLength(1);
    console.info(`STATUS= lines seen:\n${statuses().join('\n')}`);
  }, 180_000);
});
