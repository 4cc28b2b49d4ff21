/**
 * Shared steps of the interop tests (issue 2): configure a pair of nodes,
 * start/stop real heartbeat 3.0.6 or heartbeat-ts on them, and the probes
 * that say whether each side sees the other `active` with its link `up`.
 *
 * What heartbeat-ts believes about a peer is read from its ha-log (`Status
 * update for node X: status active`, `Link X:eth0 up.`) and from its own
 * cl_status over its API socket.
 */
import {
  authKeys, clStatus, haCf, HA_LOG, killOurs, killReal, logSize, oursPids, OURS_OUT, readLog, realPids, startOurs,
  startReal, stopReal, waitFor, waitForLog, writeHaConfig, type AuthMethod, type HaCfOptions, type Media,
} from './harness/heartbeat.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, type ExecResult, type Lab, type NodeProcess } from './harness/lab.js';

export type Kind = 'real' | 'ours';

/** Fast timings: both daemons accept them (deadtime > keepalive, initdead >= 2 x deadtime is only a WARN). */
export const TIMING = { keepalive: 1, deadtime: 5, initdead: 10 } as const;

/** Env of heartbeat-ts in these tests: a reject summary every 2 s. */
export const OURS_ENV: Record<string, string> = { HA_REJECT_REPORT_SECONDS: '2' };

export interface PairConfig {
  media: Media;
  auth: AuthMethod;
  /** node ids of the cluster (names node<i>) */
  ids: readonly number[];
  /** serial device paths of node i (media 'serial'): each host has its own end of the cable */
  serialDevices?: (i: number) => readonly string[];
  extra?: HaCfOptions['extra'];
  /** keepalive/deadtime/initdead overrides (default TIMING) */
  timing?: Partial<Pick<HaCfOptions, 'keepalive' | 'deadtime' | 'initdead' | 'warntime'>>;
}

/** Writes the same ha.cf (peers' addresses for ucast) and authkeys on every node of the cluster. */
export function configure(lab: Lab, c: PairConfig): void {
  const nodes = c.ids.map((i) => lab.name(i));
  for (const i of c.ids) {
    const hacf = haCf({
      media: c.media,
      nodes,
      ...TIMING,
      ...c.timing,
      ucastPeers: c.ids.filter((j) => j !== i).map((j) => lab.ip(j)),
      ...(c.serialDevices !== undefined ? { serialDevices: c.serialDevices(i) } : {}),
      ...(c.extra !== undefined ? { extra: c.extra } : {}),
    });
    writeHaConfig(lab, i, { hacf, authkeys: authKeys(c.auth) });
  }
}

/** Starts one node's daemon; for ours returns the process. */
export async function start(lab: Lab, i: number, kind: Kind, env: Record<string, string> = OURS_ENV): Promise<NodeProcess | undefined> {
  if (kind === 'real') {
    await startReal(lab, i);
    return undefined;
  }
  return startOurs(lab, i, { env });
}

/** Stops a node's daemon gracefully (whichever runs) and waits until it is gone. */
export async function stop(lab: Lab, i: number): Promise<void> {
  if ((await realPids(lab, i)).length > 0) await stopReal(lab, i);
  if ((await oursPids(lab, i)).length === 0) return;
  try {
    await killOurs(lab, i, 'SIGTERM', 20_000);
  } catch (err) {
    const tail = (f: string): string => readLog(lab, i, f).split('\n').slice(-20).join('\n');
    throw new Error(`${(err as Error).message}\nha-log tail:\n${tail(HA_LOG)}\n${OURS_OUT}:\n${tail(OURS_OUT)}`);
  }
}

/** kill -9 of whatever daemon runs on node i, then waits until none is left (fast reset between runs). */
export async function crash(lab: Lab, i: number): Promise<void> {
  // Killed again on every poll: real heartbeat forks helpers (resource
  // scripts run in a forked child) that may appear after the first listing.
  await waitFor(async () => (await killReal(lab, i, 'SIGKILL')).length + (await killOurs(lab, i, 'SIGKILL')).length, {
    timeoutMs: 15_000,
    what: `daemons of node ${i} to die`,
    until: (n) => n === 0,
  });
}

/** Teardown helper: kills whatever daemon runs on the node, never throws. */
export async function killAll(lab: Lab, i: number): Promise<void> {
  try {
    await killReal(lab, i, 'SIGKILL');
    await killOurs(lab, i, 'SIGKILL');
  } catch {
    // the lab may already be half gone; lab.down() kills the rest
  }
}

/** afterAll of a pair test: kills every daemon, takes the lab down and removes the scratch dir; never throws. */
export async function teardownPair(lab: Lab | undefined, scratch: string): Promise<void> {
  if (lab !== undefined) {
    for (const i of lab.ids()) await killAll(lab, i);
    await lab.down();
  }
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
}

/** What the real node i's cl_status says about `of` (nodestatus). */
export async function realNodeStatus(lab: Lab, i: number, of: string): Promise<string> {
  return (await clStatus(lab, i, ['nodestatus', of])).stdout.trim();
}

/** Waits until the real node i's cl_status reports `of` active and its link `up`. */
export async function realSeesActive(lab: Lab, i: number, of: string, timeoutMs = 40_000, link = 'eth0'): Promise<void> {
  await waitFor(() => realNodeStatus(lab, i, of), { timeoutMs, what: `${of} active on real node ${i}`, until: (s) => s === 'active' });
  await waitFor(async () => (await clStatus(lab, i, ['hblinkstatus', of, link])).stdout.trim(), {
    timeoutMs: 10_000,
    what: `link ${of}:${link} up on real node ${i}`,
    until: (s) => s === 'up',
  });
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Waits until heartbeat-ts on node i has logged (past byte `after`) the
 * peer `of` active and its link up (link '' = only the status).
 */
export async function oursSeesActive(lab: Lab, i: number, of: string, after: number, timeoutMs = 40_000, link = 'eth0'): Promise<void> {
  await waitForLog(lab, i, new RegExp(`Status update for node ${esc(of)}: status active`), { timeoutMs, after });
  // '' = the link never went down (a quick restart of the peer): nothing new to log
  if (link !== '') await waitForLog(lab, i, new RegExp(`Link ${esc(of)}:${esc(link)} up\\.`), { timeoutMs: 10_000, after });
  // and heartbeat-ts's own cl_status, over its API socket, agrees (polled:
  // on a loaded machine its 5 s alarm may ring before the daemon answers)
  const ask = async (args: string[]): Promise<string> => (await oursClStatus(lab, i, args)).stdout.trim();
  await waitFor(() => ask(['nodestatus', of]), { timeoutMs: 20_000, what: `our cl_status nodestatus ${of} on node ${i}`, until: (x) => x === 'active' });
  if (link !== '') {
    await waitFor(() => ask(['hblinkstatus', of, link]), { timeoutMs: 20_000, what: `our cl_status hblinkstatus ${of} ${link} on node ${i}`, until: (x) => x === 'up' });
  }
}

/** heartbeat-ts's cl_status (dist/daemon/cl_status.js) in node i. */
export async function oursClStatus(lab: Lab, i: number, args: readonly string[]): Promise<ExecResult> {
  return lab.exec(i, [process.execPath, OURS_CL_STATUS, ...args], { timeoutMs: 20_000 });
}

const OURS_CL_STATUS = join(REPO_ROOT, 'dist/daemon/cl_status.js');

/** Log lines of node i past byte `after`. */
export function logSince(lab: Lab, i: number, after: number, file = HA_LOG): string[] {
  const text = readLog(lab, i, file);
  return Buffer.from(text).subarray(after).toString('utf8').split('\n').filter((l) => l !== '');
}

export { logSize };

/** Last lines of every node's ha-log and heartbeat-ts output, for failure messages. */
export function diagnostics(lab: Lab, lines = 25): string {
  const out: string[] = [];
  for (const i of lab.ids()) {
    for (const f of [HA_LOG, OURS_OUT]) {
      const text = readLog(lab, i, f).split('\n').slice(-lines).join('\n');
      if (text.trim() !== '') out.push(`--- node${i} ${f}:\n${text}`);
    }
  }
  return out.join('\n');
}

/** Lines matching re, for assertion messages. */
export function grep(lines: readonly string[], re: RegExp): string[] {
  return lines.filter((l) => re.test(l));
}

export const since = (t: number): string => `${((Date.now() - t) / 1000).toFixed(1)} s`;
