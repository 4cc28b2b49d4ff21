/**
 * Removal of a lab, synchronous on purpose: the same code runs from
 * `lab.down()`, from 'exit' and signal handlers (where nothing async runs),
 * from `npm run lab -- down` and from the stale-lab sweep. It works from the
 * name alone, so also after `up` died half-way or the owner was SIGKILLed.
 * Processes are ended by host PID — the lab's holders and inits, its
 * capture, then whatever still lives in its network namespaces — never by
 * name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { childrenOf, isRunning, pidsInNetns, processStartTime, signalAll } from './proc.js';
import { holderPid } from './node.js';
import { CLEAN_PATH, existingLabNames, labHealth, labNamespaces, NETNS_DIR, stateDirOf } from './state.js';

export const CAPTURE_FILE = 'capture.json';

/** Blocking sleep: teardown must also work inside an 'exit' handler. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitGone(pids: readonly number[], ms: number): boolean {
  const end = Date.now() + ms;
  while (pids.some(isRunning)) {
    if (Date.now() > end) return false;
    sleepSync(25);
  }
  return true;
}

/** A capture started by `captureStart`: pid + start time, so a reused PID is never signalled. */
export function captureProcess(name: string): number | undefined {
  try {
    const c = JSON.parse(readFileSync(join(stateDirOf(name), CAPTURE_FILE), 'utf8')) as { pid?: number; start?: string };
    if (typeof c.pid === 'number' && isRunning(c.pid) && processStartTime(c.pid) === c.start) return c.pid;
  } catch {
    // no capture
  }
  return undefined;
}

/** Stops the capture with SIGINT (tcpdump then flushes its file), SIGKILL if it does not end. */
export function stopCaptureSync(name: string): void {
  const pid = captureProcess(name);
  if (pid !== undefined) {
    signalAll([pid], 'SIGINT');
    if (!waitGone([pid], 5000)) signalAll([pid, ...childrenOf(pid)], 'SIGKILL');
  }
  rmSync(join(stateDirOf(name), CAPTURE_FILE), { force: true });
}

/** Mount points at or below dir in the host's mount namespace (there should be none). */
function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const target = line.split(' ')[4]?.replace(/\\040/g, ' ');
    if (target !== undefined && (target === dir || target.startsWith(`${dir}/`))) out.push(target);
  }
  return out;
}

/** Ends every process of the lab: holders and inits (which takes their PID namespaces down), then the rest by netns. */
function killProcesses(name: string): string[] {
  const nodesDir = join(stateDirOf(name), 'nodes');
  const first: number[] = [];
  if (existsSync(nodesDir)) {
    for (const id of readdirSync(nodesDir)) {
      const holder = holderPid(name, id === 'c' ? 'c' : Number(id));
      if (holder !== undefined) first.push(...childrenOf(holder), holder);
    }
  }
  signalAll(first, 'SIGKILL');
  waitGone(first, 5000);
  const left: number[] = [];
  for (const ns of labNamespaces(name)) {
    const pids = pidsInNetns(join(NETNS_DIR, ns));
    signalAll(pids, 'SIGKILL');
    left.push(...pids);
  }
  return waitGone(left, 10_000) ? [] : [`processes still running: ${left.filter(isRunning).join(' ')}`];
}

/**
 * Removes every trace of lab `name`: processes, namespaces (the bridge goes
 * with the switch namespace, the nodes' mounts with their mount namespaces)
 * and the state dir. Returns what could not be removed (empty = clean).
 */
export function destroyLab(name: string): string[] {
  const stateDir = stateDirOf(name);
  stopCaptureSync(name);
  const problems = killProcesses(name);
  for (const ns of labNamespaces(name)) {
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8', env: { PATH: CLEAN_PATH } });
    if (r.status !== 0) problems.push(`ip netns del ${ns}: ${(r.stderr ?? '').trim()}`);
  }
  // a mount below the state dir would make rm reach into what it shows (never expected: binds live in the nodes)
  const mounted = existsSync(stateDir) ? mountsUnder(stateDir) : [];
  if (mounted.length > 0) {
    problems.push(`mounts left under ${stateDir}: ${mounted.join(' ')}; state dir kept`);
  } else {
    try {
      rmSync(stateDir, { recursive: true, force: true });
    } catch (err) {
      problems.push(`cannot remove ${stateDir}: ${(err as Error).message}`);
    }
  }
  const left = labNamespaces(name);
  if (left.length > 0) problems.push(`namespaces still present: ${left.join(' ')}`);
  if (existsSync(stateDir) && mounted.length === 0) problems.push(`state dir still present: ${stateDir}`);
  return problems;
}

/** Removes the labs whose owner is gone (never a live owner's, never one left up on purpose). Returns their names. */
export function sweepStale(): string[] {
  const swept: string[] = [];
  for (const name of existingLabNames()) {
    if (labHealth(name) !== 'stale') continue;
    destroyLab(name);
    swept.push(name);
  }
  return swept;
}
