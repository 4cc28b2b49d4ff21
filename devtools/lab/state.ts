/**
 * A lab's identity and its state on disk. Everything lives under
 * `STATE_ROOT/<name>`: `lab.json` (what `up` built, its filters, and who owns
 * it), `hosts`, `capture.json`, and per node `nodes/<id>/{holder.pid,
 * init.log, ready, root/<private dir>}`. `lab.json` is written before
 * anything is built, so a lab whose owner crashed at any point can be found
 * and removed; the names of its namespaces follow from its name alone.
 */
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, isRunning, processStartTime } from './proc.js';

export const STATE_ROOT = '/var/lib/heartbeat-ts-lab';
export const NETNS_DIR = '/run/netns';
export const STATE_FILE = 'lab.json';
export const CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Lab names: short enough for `<name>-n<i>`, no '-' (namespaces are `<name>-…`). */
export const LAB_NAME_RE = /^[a-z][a-z0-9]{1,11}$/;
/** Names made by `Lab.up` without a name: prefix + creator pid (base 36) + 4 random characters. */
export const AUTO_PREFIX = 'hbl';
const AUTO_NAME_RE = /^hbl[0-9a-z]{5,9}$/;
/** A state dir without lab.json older than this is a crashed `up`. */
const TORN_STATE_MS = 60_000;

export type NodeId = number | 'c';

export interface Owner {
  pid: number;
  /** /proc/<pid>/stat start time: tells a live owner from a reused PID */
  start: string;
}

/** Frames the switch drops (nft in the switch namespace). Keys are node keys: '1', 'c'. */
export interface Filters {
  drop: string[];
  loss: Record<string, number>;
  partition: string[][];
}

export interface LabState {
  version: 1;
  name: string;
  nodes: number;
  subnet: string;
  /** LANs (bridges br0…, node interfaces eth0…); absent in labs made before the option: 1 */
  lans?: number;
  ipv6: boolean;
  /** private directory entries, `PATH:copy` or `PATH:empty` */
  private: string[];
  owner: Owner;
  /** left up on purpose (`npm run lab -- up`, `demo --keep`): never swept, removed by `down` */
  kept: boolean;
  /** who made it: test, demo, bench, cli (shown by `list`) */
  purpose: string;
  created: string;
  filters: Filters;
}

export type LabHealth = 'live' | 'kept' | 'stale' | 'unknown';

export const stateDirOf = (name: string): string => join(STATE_ROOT, name);
export const nodeKey = (id: NodeId): string => String(id);
export const switchNs = (name: string): string => `${name}-sw`;
export const BRIDGE = 'br0';
export const IFNAME = 'eth0';
const HOST_BASE = 10; // node i is subnet.(10+i)
const CLIENT_HOST = 9;

export function nodeNs(name: string, id: NodeId): string {
  return id === 'c' ? `${name}-c` : `${name}-n${id}`;
}
/** The node's port on LAN `lan`'s bridge (inside the switch namespace): p1, pc on LAN 0; p1l1, pcl1 on LAN 1… */
export const portOf = (id: NodeId, lan = 0): string => `${id === 'c' ? 'pc' : `p${id}`}${lan === 0 ? '' : `l${lan}`}`;
export const bridgeOf = (lan: number): string => (lan === 0 ? BRIDGE : `br${lan}`);
export const ifnameOf = (lan: number): string => (lan === 0 ? IFNAME : `eth${lan}`);
export const lansOf = (s: Pick<LabState, 'lans'>): number => s.lans ?? 1;
/** LAN k's /24: the lab subnet's third octet plus k (10.77.0, 10.77.1, …). */
export function lanSubnet(subnet: string, lan: number): string {
  const [a, b, c] = subnet.split('.');
  return `${a}.${b}.${Number(c) + lan}`;
}
export const hostOctet = (id: NodeId): number => (id === 'c' ? CLIENT_HOST : HOST_BASE + id);
export const ipOf = (subnet: string, id: NodeId, lan = 0): string => `${lanSubnet(subnet, lan)}.${hostOctet(id)}`;
export const hostnameOf = (id: NodeId): string => (id === 'c' ? 'client' : `node${id}`);

/** Deterministic MAC 02:00:<subnet octets>:<host octet>, so captures of different runs compare. */
export function macOf(subnet: string, id: NodeId): string {
  const octets = [...subnet.split('.').map(Number), hostOctet(id)];
  return `02:00:${octets.map((o) => o.toString(16).padStart(2, '0')).join(':')}`;
}

export function allIds(nodes: number): NodeId[] {
  return [...Array.from({ length: nodes }, (_, k) => k + 1), 'c'];
}

export function currentOwner(): Owner {
  return { pid: process.pid, start: processStartTime(process.pid) ?? '' };
}

export function ownerAlive(o: Owner): boolean {
  return isRunning(o.pid) && processStartTime(o.pid) === o.start;
}

/** Writes lab.json atomically (a concurrent sweep never reads half a file). */
export function writeState(s: LabState): void {
  const dir = stateDirOf(s.name);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${STATE_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(tmp, join(dir, STATE_FILE));
}

export function readState(name: string): LabState | undefined {
  try {
    const s = JSON.parse(readFileSync(join(stateDirOf(name), STATE_FILE), 'utf8')) as Partial<LabState>;
    if (s.version !== 1 || s.name !== name || typeof s.nodes !== 'number' || typeof s.subnet !== 'string') return undefined;
    if (typeof s.owner?.pid !== 'number' || !Array.isArray(s.private)) return undefined;
    return s as LabState;
  } catch {
    return undefined;
  }
}

/** Namespaces under /run/netns that belong to lab `name`. */
export function labNamespaces(name: string): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((ns) => ns.startsWith(`${name}-`) && /^(sw|c|n\d+)$/.test(ns.slice(name.length + 1)));
  } catch {
    return [];
  }
}

/** Every lab with a state dir, and every auto-named lab that still has namespaces. */
export function existingLabNames(): string[] {
  const names = new Set<string>();
  try {
    for (const d of readdirSync(STATE_ROOT)) if (LAB_NAME_RE.test(d)) names.add(d);
  } catch {
    // no lab was ever made on this machine
  }
  try {
    for (const ns of readdirSync(NETNS_DIR)) {
      const m = /^([a-z0-9]+)-(?:sw|c|n\d+)$/.exec(ns);
      if (m?.[1] !== undefined && AUTO_NAME_RE.test(m[1])) names.add(m[1]);
    }
  } catch {
    // no namespaces at all
  }
  return [...names].sort();
}

/**
 * live: its owner runs; kept: left up on purpose; stale: its owner is gone
 * (or `up` crashed before writing lab.json); unknown: not ours to judge.
 */
export function labHealth(name: string): LabHealth {
  const s = readState(name);
  if (s !== undefined) {
    if (ownerAlive(s.owner)) return 'live';
    return s.kept ? 'kept' : 'stale';
  }
  if (AUTO_NAME_RE.test(name)) {
    const pid = parseInt(name.slice(AUTO_PREFIX.length, -4), 36);
    return Number.isFinite(pid) && pid > 0 && isAlive(pid) ? 'live' : 'stale';
  }
  try {
    return Date.now() - statSync(stateDirOf(name)).mtimeMs > TORN_STATE_MS ? 'stale' : 'live';
  } catch {
    return 'unknown';
  }
}

/** The repository root, from the source tree (devtools/lab/) or from dist/devtools/lab/. */
export const REPO_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== '/' && !existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

/** A fresh automatic lab name: no state directory and no namespace carries it. */
export function newName(): string {
  for (let tries = 0; tries < 20; tries++) {
    let rand = '';
    for (let k = 0; k < 4; k++) rand += randomInt(36).toString(36);
    const candidate = `${AUTO_PREFIX}${process.pid.toString(36)}${rand}`;
    if (!existsSync(stateDirOf(candidate)) && labNamespaces(candidate).length === 0) return candidate;
  }
  throw new Error('Lab.up: could not find an unused lab name');
}
