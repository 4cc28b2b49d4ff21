/**
 * Helpers for the operations tests: heartbeat-ts's tools and init script
 * next to the real ones, output normalisation for comparisons, and a second
 * heartbeat link (eth1, a veth between node1 and node2) that can be cut
 * without touching eth0.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authKeys, haCf, killOurs, realPids, stopReal, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { signalAll } from './harness/proc.js';
import { afterAll, beforeAll } from 'vitest';
import type { ExecResult, Lab } from './harness/lab.js';
import { Lab as LabDriver, labUp, REPO_ROOT } from './harness/lab.js';

export const OUR_TOOLS = {
  cl_status: join(REPO_ROOT, 'bin/cl_status'),
  hb_standby: join(REPO_ROOT, 'bin/hb_standby'),
  hb_takeover: join(REPO_ROOT, 'bin/hb_takeover'),
  heartbeat: join(REPO_ROOT, 'bin/heartbeat'),
  init: join(REPO_ROOT, 'daemon/init.d/heartbeat'),
};

export const REAL_TOOLS = {
  cl_status: '/usr/bin/cl_status',
  hb_standby: '/usr/share/heartbeat/hb_standby',
  hb_takeover: '/usr/share/heartbeat/hb_takeover',
  init: '/etc/init.d/heartbeat',
};

/** Environment that makes our init script run the checkout's daemon and hb_standby. */
export const OUR_INIT_ENV: Record<string, string> = {
  HEARTBEAT_TS_DAEMON: OUR_TOOLS.heartbeat,
  HEARTBEAT_TS_STANDBY: OUR_TOOLS.hb_standby,
};

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `Nov 23 00:23:16 node1 cl_status: [752]: ERROR: …` -> `<LOG> ERROR: …` */
export function normalizeLog(text: string): string {
  return text.replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ cl_status: \[\d+\]: /gm, '<LOG> ');
}

/** The version both report differs in its parenthesis: `3.0.6 (node: <hg id>)` / `3.0.6 (heartbeat-ts …)`. */
export function normalizeVersion(text: string): string {
  return text.replace(/3\.0\.6 \([^)\n]*\)/g, '3.0.6 (…)');
}

/** Replaces node names by their role, so node1's view of itself matches node2's view of itself. */
export function byRole(text: string, self: string, peer: string): string {
  return text.split(self).join('<SELF>').split(peer).join('<PEER>');
}

export async function run(lab: Lab, i: number, argv: readonly string[], env?: Record<string, string>): Promise<ToolRun> {
  const r: ExecResult = await lab.exec(i, argv, { timeoutMs: 30_000, ...(env ? { env } : {}) });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Adds eth1 to node1 and node2: a veth pair made inside their namespaces
 * (so it disappears with the lab), 10.78.<n>.1/.2 per lab run.
 */
export function addSecondLink(lab: Lab): void {
  const ns1 = lab.netns(1);
  const ns2 = lab.netns(2);
  const sh = (args: string[]): void => {
    const p = spawnSync('ip', args, { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${p.stderr}`);
  };
  sh(['-n', ns1, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns2]);
  sh(['-n', ns1, 'addr', 'add', '10.78.0.1/24', 'brd', '+', 'dev', 'eth1']);
  sh(['-n', ns2, 'addr', 'add', '10.78.0.2/24', 'brd', '+', 'dev', 'eth1']);
  sh(['-n', ns1, 'link', 'set', 'eth1', 'up']);
  sh(['-n', ns2, 'link', 'set', 'eth1', 'up']);
}

const NFT_TABLE = 'hbtops';

/**
 * Silently drops what node i receives on `iface` (the interface stays up,
 * and sending still succeeds: an output drop would fail the senders' sendto
 * with EPERM, which is not what a dead link looks like).
 */
export async function dropIface(lab: Lab, i: number, iface: string): Promise<void> {
  const rules = [
    `table inet ${NFT_TABLE} {`,
    `  chain in { type filter hook prerouting priority -300; iifname "${iface}" drop; }`,
    '}',
  ].join('\n');
  const r = await lab.exec(i, ['nft', '-f', '-'], { input: `${rules}\n` });
  if (r.code !== 0) throw new Error(`nft in node ${i} failed: ${r.stderr}`);
}

export async function undropIface(lab: Lab, i: number): Promise<void> {
  await lab.exec(i, ['nft', 'delete', 'table', 'inet', NFT_TABLE]);
}

/**
 * ha.cf of the mixed-cluster tool comparisons on both nodes: bcast on eth0
 * and eth1 (keepalive 1, deadtime 5, initdead 15, auto_failback off), each
 * node owning a group that takes seconds to stop (standby stays "in
 * progress" that long); `extra` lines are added to ha.cf.
 */
export function writeOpsConfig(lab: Lab, extra: readonly string[] = []): void {
  for (const i of lab.ids()) {
    writeHaConfig(lab, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 15, autoFailback: false, extra: ['bcast eth1', ...extra] }),
      authkeys: authKeys('sha1'),
      haresources: 'node1 SlowStop::one\nnode2 SlowStop::two\n',
    });
    lab.writeFile(i, '/etc/ha.d/resource.d/SlowStop', readFileSync(join(REPO_ROOT, 'test/netns/fixtures/SlowStop')), 0o755);
  }
}

/**
 * The two-node lab of one mixed-cluster test file: up (then `setup`) before
 * its tests, `teardownMixed` after them, also when they fail. Returns the
 * accessor the tests use.
 */
export function mixedLab(real: number, ours: number, setup: (l: Lab) => void = () => undefined): () => Lab {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await LabDriver.up({ nodes: 2 });
    setup(lab);
  }, 120_000);
  afterAll(() => teardownMixed(lab, real, ours), 180_000);
  return () => labUp(lab);
}

/** Ends a mixed-cluster test: the real daemon stops gracefully (what is left of it is killed), ours is killed, the lab goes. */
export async function teardownMixed(lab: Lab | undefined, real: number, ours: number): Promise<void> {
  try {
    if (lab?.isUp) {
      await stopReal(lab, real).catch(() => undefined);
      await killOurs(lab, ours, 'SIGKILL').catch(() => undefined);
      signalAll(await realPids(lab, real).catch(() => []), 'SIGKILL');
    }
  } finally {
    await lab?.down();
  }
}

/** Node names by role in the two-node comparisons: node i's self and peer. */
export const ROLE_NAMES: Record<number, { self: string; peer: string }> = { 1: { self: 'node1', peer: 'node2' }, 2: { self: 'node2', peer: 'node1' } };

/**
 * Runs cl_status `tool` on node i with `{self}`/`{peer}` in `args` replaced by
 * node names; log prefixes and versions normalised, and node names in the
 * output replaced by roles when `byRoles`.
 */
export async function clStatusByRole(lab: Lab, i: number, tool: string, args: readonly string[], byRoles: boolean): Promise<ToolRun> {
  const n = ROLE_NAMES[i] ?? { self: '', peer: '' };
  const argv = args.map((a) => a.replace('{self}', n.self).replace('{peer}', n.peer));
  const r = await run(lab, i, [tool, ...argv]);
  const norm = (t: string): string => normalizeVersion(normalizeLog(byRoles ? byRole(t, n.self, n.peer) : t));
  return { code: r.code, stdout: norm(r.stdout), stderr: norm(r.stderr) };
}

/** `listnodes -v` style output (names already by role) with its node blocks in a fixed order. */
export function sortRoleBlocks(text: string): string {
  const head: string[] = [];
  const groups: string[][] = [];
  for (const line of text.split('\n')) {
    if (/^<(SELF|PEER)>/.test(line)) groups.push([line]);
    else (groups.at(-1) ?? head).push(line);
  }
  const trim = (g: string[]): string => g.join('\n').replace(/\n+$/, '');
  return [trim(head), ...groups.map(trim).sort()].join('\n--\n');
}

/** Asks every query on node `real` then node `ours`; returns the differences, one per query ('' when none). */
export async function answerDiffs(
  queries: readonly (readonly string[])[], ask: (i: number, q: readonly string[]) => Promise<ToolRun>, real: number, ours: number,
): Promise<string> {
  const diffs: string[] = [];
  for (const q of queries) {
    const [a, b] = [await ask(real, q), await ask(ours, q)];
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`cl_status ${q.join(' ')}\n  real: ${JSON.stringify(a)}\n  ours: ${JSON.stringify(b)}`);
  }
  return diffs.join('\n');
}

/**
 * Runs `body` while eth1 is dead on nodes `nodes` (dropped on input on each),
 * once `peerLink(i)` reports node i's peer link eth1 `dead`; restores eth1,
 * then waits until every node reports it `up` again.
 */
export async function withDeadEth1(lab: Lab, nodes: readonly number[], peerLink: (i: number) => Promise<string>, body: () => Promise<void>): Promise<void> {
  for (const i of nodes) await dropIface(lab, i, 'eth1');
  try {
    for (const i of nodes) await waitFor(() => peerLink(i), { timeoutMs: 30_000, what: `eth1 dead on node${i}`, until: (s) => s === 'dead\n' });
    await body();
  } finally {
    for (const i of nodes) await undropIface(lab, i);
  }
  for (const i of nodes) await waitFor(() => peerLink(i), { timeoutMs: 30_000, what: `eth1 up again on node${i}`, until: (s) => s === 'up\n' });
}
