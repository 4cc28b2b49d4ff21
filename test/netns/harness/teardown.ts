/**
 * Removal of a harness lab, synchronous on purpose: the same code runs from
 * `Lab.down()`, from process 'exit'/signal handlers (where nothing async can
 * run) and from the stale-lab sweep. Everything here is derived from the lab
 * name, so it also works when `up` died half-way or the state dir is gone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { commOf, isAlive, isRunning, pidsInNetns, processStartTime, signalAll } from './proc.js';

export const STATE_ROOT = '/var/lib/netns-lab';
/** Lab names made by this harness: 'hbt' + creator pid (base 36) + 4 random chars. */
export const LAB_NAME_RE = /^hbt[0-9a-z]{5,9}$/;
export const OWNER_FILE = 'harness-owner';
export const CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NETNS_DIR = '/run/netns';

export interface Owner {
  pid: number;
  /** /proc/<pid>/stat start time: tells a live owner from a reused PID */
  start: string;
}

/** Environment for netns-lab commands of one lab; nothing else from the caller leaks in. */
export function labEnv(name: string, stateDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: CLEAN_PATH,
    HOME: process.env['HOME'] ?? '/root',
    LAB_NAME: name,
    LAB_STATE: stateDir,
  };
  if (process.env['TZ'] !== undefined) env['TZ'] = process.env['TZ'];
  return { ...env, ...extra };
}

/** Namespaces currently bound under /run/netns whose name belongs to lab `name`. */
export function labNamespaces(name: string): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((ns) => ns.startsWith(`${name}-`));
  } catch {
    return [];
  }
}

/** Blocking sleep: teardown must also work inside an 'exit' handler. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitGone(pids: readonly number[], ms: number): void {
  const end = Date.now() + ms;
  while (pids.some(isRunning) && Date.now() < end) sleepSync(50);
}

/**
 * Removes every trace of lab `name`: its processes, namespaces (the bridge
 * lives in the switch namespace and goes with it) and state dir. Returns
 * what could not be removed (empty = clean).
 */
export function teardownLab(netnsLab: string, name: string, stateDir: string): string[] {
  const problems: string[] = [];
  // 1. netns-lab's own down knows holders, captures and the node inits.
  if (existsSync(join(stateDir, 'config')) && existsSync(netnsLab)) {
    const r = spawnSync(netnsLab, ['down'], { env: labEnv(name, stateDir), timeout: 90_000, encoding: 'utf8' });
    if (r.status !== 0) problems.push(`netns-lab down exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim()}`);
  }
  // 2. whatever is left: holders of a half-built lab, then processes by netns.
  const nodesDir = join(stateDir, 'nodes');
  if (existsSync(nodesDir)) {
    for (const id of readdirSync(nodesDir)) {
      try {
        const holder = Number(readFileSync(join(nodesDir, id, 'holder.pid'), 'utf8').trim());
        if (holder > 0 && commOf(holder) === 'unshare') signalAll([holder], 'SIGKILL');
      } catch {
        // no holder file: that node never got an init
      }
    }
  }
  for (const ns of labNamespaces(name)) {
    const pids = pidsInNetns(join(NETNS_DIR, ns));
    signalAll(pids, 'SIGKILL');
    waitGone(pids, 3000);
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8', env: { PATH: CLEAN_PATH } });
    if (r.status !== 0) problems.push(`ip netns del ${ns}: ${(r.stderr ?? '').trim()}`);
  }
  // 3. state dir (node roots with logs and configs, filters, config)
  try {
    rmSync(stateDir, { recursive: true, force: true });
  } catch (err) {
    problems.push(`cannot remove ${stateDir}: ${(err as Error).message}`);
  }
  const left = labNamespaces(name);
  if (left.length > 0) problems.push(`namespaces still present: ${left.join(' ')}`);
  if (existsSync(stateDir)) problems.push(`state dir still present: ${stateDir}`);
  return problems;
}

export function readOwner(stateDir: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(stateDir, OWNER_FILE), 'utf8')) as Partial<Owner>;
    if (typeof o.pid === 'number' && typeof o.start === 'string') return { pid: o.pid, start: o.start };
  } catch {
    // missing or torn: fall back to the pid in the name
  }
  return undefined;
}

/** True while the process that created lab `name` still runs (conservative). */
export function ownerAlive(name: string): boolean {
  const owner = readOwner(join(STATE_ROOT, name));
  if (owner !== undefined) return isAlive(owner.pid) && processStartTime(owner.pid) === owner.start;
  const pid = parseInt(name.slice(3, -4), 36);
  return Number.isFinite(pid) && pid > 0 && isAlive(pid);
}

/** Names of harness labs that exist as a state dir or as namespaces. */
export function existingLabNames(): string[] {
  const names = new Set<string>();
  try {
    for (const d of readdirSync(STATE_ROOT)) if (LAB_NAME_RE.test(d)) names.add(d);
  } catch {
    // no lab was ever made on this machine
  }
  try {
    for (const ns of readdirSync(NETNS_DIR)) {
      const n = ns.split('-')[0] ?? '';
      if (LAB_NAME_RE.test(n)) names.add(n);
    }
  } catch {
    // no namespaces at all
  }
  return [...names].sort();
}
