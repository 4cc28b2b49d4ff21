/**
 * cl_status, hb_standby and hb_takeover of heartbeat-ts against the real ones
 * (Heartbeat 3.0.6), in one mixed two-node cluster: node1 runs the real
 * daemon and is asked with Debian's tools, node2 runs heartbeat-ts and is
 * asked with ours. Two links: eth0 (the lab LAN) and eth1 (a veth between
 * the two nodes), so that a dead link can be told from a dead peer.
 *
 * States: stopped daemons, `init` (both started while they cannot hear each
 * other, before initdead), a dead peer (after initdead), active, a dead link
 * (eth1 dropped both ways), and standby in progress (a resource that takes
 * seconds to stop). The same queries run on both nodes; a query about
 * "self" on node1 is compared with the same query about "self" on node2
 * (names replaced by <SELF>/<PEER>), queries without names are compared as
 * they are.
 */
import { describe, expect, it } from 'vitest';
import { killOurs, startOurs, startReal, stopReal, waitFor, waitForLog } from './harness/heartbeat.js';
import {
  addSecondLink, answerDiffs, byRole, clStatusByRole, dropIface, OUR_INIT_ENV, OUR_TOOLS, REAL_TOOLS, ROLE_NAMES, run, sortRoleBlocks,
  mixedLab, undropIface, withDeadEth1, writeOpsConfig, type ToolRun,
} from './ops-support.js';

const REAL = 1;
const OURS = 2;
const theLab = mixedLab(REAL, OURS, (l) => {
  addSecondLink(l);
  writeOpsConfig(l);
});

/** cl_status on node i with the tool of that node's daemon; names by role. */
async function cls(i: number, args: readonly string[]): Promise<ToolRun> {
  const tool = i === REAL ? REAL_TOOLS.cl_status : OUR_TOOLS.cl_status;
  const named = args.some((a) => a.includes('{self}') || a.includes('{peer}')) || args[0] === 'test';
  return clStatusByRole(theLab(), i, tool, args, named);
}

/**
 * Node blocks of `listnodes -v` style output with names by role, in a fixed
 * order: for states where node1 and node2 see different things (each sees
 * itself differently from its peer), node1's view of itself is compared with
 * node2's view of itself.
 */
async function byRoleSorted(i: number, q: readonly string[]): Promise<ToolRun> {
  const n = ROLE_NAMES[i]!;
  const r = await cls(i, q);
  return { ...r, stdout: sortRoleBlocks(byRole(r.stdout, n.self, n.peer)) };
}

/** Runs every query on both nodes and expects the same outputs and exit codes. */
async function compare(queries: readonly (readonly string[])[], byRoles = false): Promise<void> {
  expect(await answerDiffs(queries, (i, q) => (byRoles ? byRoleSorted(i, q) : cls(i, q)), REAL, OURS)).toBe('');
}

const NO_DAEMON_QUERIES = [
  ['hbstatus'], ['hbstatus', '-v'], ['listnodes'], ['nodestatus', '{self}'], ['hbparameter', '-p', 'keepalive'],
  ['rscstatus'], ['bogus'], ['-h', 'x'], [],
];

/** Queries whose answers are about one node, usable when the two nodes see different states. */
const ROLE_QUERIES = [
  ['hbstatus'], ['hbstatus', '-m'], ['listnodes'], ['listnodes', '-m'], ['listnodes', '-p'], ['listnodes', '-x'],
  ['nodestatus', '{self}'], ['nodestatus', '{peer}'], ['nodestatus', '-m', '{peer}'], ['nodestatus', 'bogus'], ['nodestatus'],
  ['nodetype', '{peer}'], ['nodetype', '-m', '{self}'], ['nodetype', 'bogus'], ['nodetype'],
  ['nodeweight', '{peer}'], ['nodeweight', 'bogus'], ['nodesite', '{peer}'], ['nodesite', '-m', '{self}'],
  ['listhblinks', '{peer}'], ['listhblinks', '-v', '{peer}'], ['listhblinks', '-v', '-m', '{self}'], ['listhblinks', 'bogus'], ['listhblinks'],
  ['hblinkstatus', '{peer}', 'eth0'], ['hblinkstatus', '{peer}', 'eth1'], ['hblinkstatus', '-m', '{self}', 'eth0'],
  ['hblinkstatus', '{peer}', 'eth9'], ['hblinkstatus', '{peer}'],
  ['clientstatus', '{self}', 'ipfail'], ['clientstatus', '{peer}', 'ipfail', '3000'], ['clientstatus', '{peer}'], ['clientstatus', '{peer}', 'ipfail', '-5'],
  ['rscstatus'], ['rscstatus', '-m'], ['rscstatus', '-x'],
  ['hbparameter', '-p', 'keepalive'], ['hbparameter', '-m', '-p', 'deadtime'], ['hbparameter', '-p', 'initdead'], ['hbparameter', '-p', 'udpport'],
  ['hbparameter', '-p', 'crm'], ['hbparameter', '-p', 'pacemaker'], ['hbparameter', '-p', 'auto_failback'], ['hbparameter', '-p', 'hbversion'],
  ['hbparameter', '-p', 'logfile'], ['hbparameter', '-p', 'nosuch'], ['hbparameter'], ['hbparameter', '-p'], ['hbparameter', '-x'],
  ['test'], ['bogus'],
];

/** Queries that print every node's state (compared as they are when both nodes see the same, else by role). */
const SYMMETRIC_QUERIES = [
  ['hbstatus', '-v'], ['hbstatus', '-v', '-m'], ['listnodes', '-v'], ['listnodes', '-n'], ['listnodes', '-m', '-v'],
];

async function peerStatus(i: number): Promise<string> {
  return (await cls(i, ['nodestatus', '{peer}'])).stdout.trim();
}

async function bothSeePeer(status: string, timeoutMs: number): Promise<void> {
  for (const i of [REAL, OURS]) {
    await waitFor(() => peerStatus(i), { timeoutMs, what: `node${i} to see its peer ${status}`, until: (s) => s === status });
  }
}

async function stopBoth(): Promise<void> {
  await stopReal(theLab(), REAL);
  await killOurs(theLab(), OURS, 'SIGTERM', 30_000);
}


describe('heartbeat-ts tools vs Heartbeat 3.0.6 in a mixed cluster', () => {
  it('with both daemons stopped', async () => {
    await compare(NO_DAEMON_QUERIES);
    expect((await cls(OURS, ['hbstatus'])).stdout).toBe('Heartbeat is stopped on this machine.\n');
    // Same argument checking in hb_standby / hb_takeover (names as invoked).
    for (const tool of ['hb_standby', 'hb_takeover'] as const) {
      for (const args of [['bogus'], ['a', 'b'], ['--help']]) {
        const real = await run(theLab(), REAL, [REAL_TOOLS[tool], ...args]);
        const ours = await run(theLab(), OURS, [OUR_TOOLS[tool], ...args]);
        const norm = (r: ToolRun, path: string) => ({ ...r, stdout: r.stdout.split(path).join('<TOOL>'), stderr: r.stderr.split(path).join('<TOOL>') });
        expect(norm(ours, OUR_TOOLS[tool]), `${tool} ${args.join(' ')}`).toEqual(norm(real, REAL_TOOLS[tool]));
      }
    }
    // Where the real script writes into a FIFO nobody reads (or creates a plain file), ours says so.
    const ours = await run(theLab(), OURS, [OUR_TOOLS.hb_standby]);
    expect(ours).toEqual({ code: 1, stdout: '', stderr: `${OUR_TOOLS.hb_standby}: Heartbeat is not running (/var/lib/heartbeat/fifo does not exist).\n` });
  }, 120_000);

  it('in init (started, peers not heard yet), then with a dead peer after initdead', async () => {
    const l = theLab();
    // Both nodes deaf on both links, so that each sees the same things about itself.
    for (const i of [REAL, OURS]) {
      await l.cut(i, 'drop');
      await dropIface(l, i, 'eth1');
    }
    try {
      const t0 = Date.now();
      await startReal(l, REAL);
      await startOurs(l, OURS);
      await waitForLog(l, OURS, /Local status now set to: 'up'/, { timeoutMs: 10_000 });
      await compare([['hbstatus'], ['hbstatus', '-v'], ['listnodes'], ['nodestatus', '{self}']]);
      // still before initdead (15 s): nothing above may have run after it
      expect(Date.now() - t0).toBeLessThan(15_000);

      for (const i of [REAL, OURS]) await waitForLog(l, i, /Comm_now_up\(\): updating status to active/, { timeoutMs: 40_000 });
      await bothSeePeer('dead', 10_000);
      for (const i of [REAL, OURS]) {
        await waitFor(() => cls(i, ['rscstatus']), { timeoutMs: 60_000, what: `stable resources on node${i}`, until: (r) => r.stdout !== 'transition\n' });
      }
      await compare(ROLE_QUERIES);
      await compare(SYMMETRIC_QUERIES, true);
      expect(await cls(OURS, ['nodestatus', '{peer}'])).toMatchObject({ code: 1, stdout: 'dead\n' });
    } finally {
      await stopBoth();
      await l.heal();
      for (const i of [REAL, OURS]) await undropIface(l, i);
    }
  }, 180_000);

  it('with both nodes active', async () => {
    const l = theLab();
    await startReal(l, REAL);
    await startOurs(l, OURS);
    await bothSeePeer('active', 30_000);
    // both links up everywhere, resources settled (rscstatus no longer in transition)
    for (const i of [REAL, OURS]) {
      await waitFor(() => cls(i, ['hblinkstatus', '{peer}', 'eth1']), { timeoutMs: 20_000, what: `eth1 up on node${i}`, until: (r) => r.stdout === 'up\n' });
      await waitFor(() => cls(i, ['rscstatus']), { timeoutMs: 40_000, what: `stable resources on node${i}`, until: (r) => r.stdout !== 'transition\n' });
    }
    await compare([...ROLE_QUERIES, ...SYMMETRIC_QUERIES]);
    expect(await cls(OURS, ['listhblinks', '{peer}'])).toEqual({ code: 0, stdout: '\teth1\n\teth0\n', stderr: '' });
  }, 180_000);

  it('with a dead link (eth1 dropped on both nodes) while the peers stay active', async () => {
    const peerEth1 = async (i: number): Promise<string> => (await cls(i, ['hblinkstatus', '{peer}', 'eth1'])).stdout;
    await withDeadEth1(theLab(), [REAL, OURS], peerEth1, async () => {
      await compare(ROLE_QUERIES);
      await compare(SYMMETRIC_QUERIES, true);
      expect(await cls(OURS, ['hblinkstatus', '{peer}', 'eth1'])).toMatchObject({ code: 1, stdout: 'dead\n' });
      expect(await peerStatus(OURS)).toBe('active');
    });
  }, 180_000);

  it('with standby in progress, asked for through each init script', async () => {
    const l = theLab();
    const seen: Record<number, { init: ToolRun; during: ToolRun; after: ToolRun; peerAfter: ToolRun }> = {};
    for (const i of [REAL, OURS]) {
      const other = i === REAL ? OURS : REAL;
      await waitFor(() => cls(i, ['rscstatus']), { timeoutMs: 40_000, what: `stable resources on node${i}`, until: (r) => r.stdout === 'local\n' || r.stdout === 'all\n' });
      const init = i === REAL ? await run(l, i, [REAL_TOOLS.init, 'standby']) : await run(l, i, [OUR_TOOLS.init, 'standby'], OUR_INIT_ENV);
      const during = await cls(i, ['rscstatus']);
      await waitForLog(l, i, /Local standby process completed \[all\]/, { timeoutMs: 40_000, after: 0 });
      await waitFor(() => cls(other, ['rscstatus']), { timeoutMs: 40_000, what: `node${other} to hold all`, until: (r) => r.stdout === 'all\n' });
      seen[i] = { init: { ...init, stderr: '' }, during, after: await cls(i, ['rscstatus']), peerAfter: await cls(other, ['rscstatus']) };
    }
    expect(seen[OURS]).toEqual(seen[REAL]);
    expect(seen[OURS]!.init).toEqual({ code: 0, stdout: 'auto_failback: off\nAttempting to enter standby modeDone.\n', stderr: '' });
    expect(seen[OURS]!.during.stdout).toBe('transition\n');
    expect(seen[OURS]!.after.stdout).toBe('none\n');
  }, 180_000);
});
