/**
 * Support for the resource failover netns tests (issue 3): a shared ext4
 * disk on one loop device, an exclusivity monitor sampling every node's
 * addresses and mounts, and "reboot" cleanup of a crashed node.
 *
 * Every node of a lab shares the host's /dev, so one loop device is the
 * shared storage of the cluster: the node holding the group mounts it in its
 * own mount namespace. That is exactly why a double mount must never happen.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lab, REPO_ROOT } from './harness/lab.js';
import { isAlive, signalAll } from './harness/proc.js';
import { waitFor } from './harness/heartbeat.js';

// ------------------------------------------------------------------ shared disk

const DISK_PREFIX = 'hbts-disk-';

export interface LoopDisk {
  /** /dev/loopN */
  readonly device: string;
  /** the backing image file on the host */
  readonly image: string;
  /** Detaches the loop device and removes the image; idempotent, synchronous. */
  release(): string[];
}

function losetupFor(image: string): string[] {
  const r = spawnSync('losetup', ['-j', image, '-O', 'NAME', '-n'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '') : [];
}

function detachAndRemove(dir: string): string[] {
  const problems: string[] = [];
  const image = join(dir, 'disk.img');
  for (const dev of losetupFor(image)) {
    const r = spawnSync('losetup', ['-d', dev], { encoding: 'utf8' });
    // a device still mounted somewhere is marked autoclear by -d: it goes
    // away with its last mount (the lab's namespaces die in lab.down)
    if (r.status !== 0) problems.push(`losetup -d ${dev}: ${r.stderr.trim()}`);
  }
  rmSync(dir, { recursive: true, force: true });
  return problems;
}

/**
 * Removes disks of earlier runs whose test process is gone (killed before
 * its afterAll). The owning PID is part of the directory name.
 */
export function sweepStaleDisks(): void {
  for (const e of readdirSync(tmpdir())) {
    const m = new RegExp(`^${DISK_PREFIX}(\\d+)-`).exec(e);
    if (m === null || isAlive(Number(m[1]))) continue;
    detachAndRemove(join(tmpdir(), e));
  }
}

/**
 * A fresh ext4 image holding `files` (mkfs.ext4 -d: no host mount needed),
 * attached to a free loop device. Released on process exit too.
 */
export function createLoopDisk(files: Record<string, string>, sizeMb = 16): LoopDisk {
  sweepStaleDisks();
  const dir = mkdtempSync(join(tmpdir(), `${DISK_PREFIX}${process.pid}-`));
  const src = join(dir, 'content');
  const image = join(dir, 'disk.img');
  let device = '';
  let released = false;
  const onExit = (): void => void release();
  const release = (): string[] => {
    if (released) return [];
    released = true;
    process.off('exit', onExit);
    return detachAndRemove(dir);
  };
  try {
    execFileSync('mkdir', ['-p', src]);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(src, name), text);
    execFileSync('truncate', ['-s', `${sizeMb}M`, image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'hbtsshared', '-d', src, image], { stdio: 'pipe' });
    device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
  } catch (err) {
    release();
    throw err;
  }
  process.on('exit', onExit);
  return { device, image, release };
}

// ------------------------------------------------------------------ node views from the host

/** Host PID of node i's init (PID 1 of the node): its /proc shows the node's net and mount namespaces. */
export function nodeInitPid(lab: Lab, i: number): number {
  const init = lab.initPid(i);
  if (init === undefined) throw new Error(`node ${i} of ${lab.labName} has no init process`);
  return init;
}

/**
 * IPv4 addresses local to a network namespace, from the kernel's local
 * routing table (/proc/<pid>/net/fib_trie): what `ip addr` lists, read
 * without starting a process, so two nodes can be sampled microseconds apart.
 */
export function localAddrsOf(pid: number): Set<string> {
  const out = new Set<string>();
  let current = '';
  for (const line of readFileSync(`/proc/${pid}/net/fib_trie`, 'utf8').split('\n')) {
    const leaf = /\|-- (\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (leaf?.[1] !== undefined) current = leaf[1];
    else if (/\/32 host LOCAL/.test(line) && current !== '') out.add(current);
  }
  return out;
}

/** Mount points (and their sources) of a mount namespace, from /proc/<pid>/mounts. */
export function mountsOf(pid: number): Array<{ source: string; target: string }> {
  return readFileSync(`/proc/${pid}/mounts`, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [source = '', target = ''] = l.split(' ');
      return { source, target };
    });
}

// ------------------------------------------------------------------ exclusivity monitor

export interface Sample {
  /** ms since the monitor started */
  t: number;
  vip: number[];
  mount: number[];
}

export interface Violation {
  t: number;
  what: 'vip' | 'mount';
  nodes: number[];
}

/**
 * Samples every node every intervalMs: does it hold the VIP (address
 * present), does it have the shared device mounted. A node can be excluded
 * while it is crashed and cut off (its leftovers are frozen, unreachable);
 * any sample where two counted nodes hold the same thing is a violation.
 */
export class ExclusivityMonitor {
  readonly samples: Sample[] = [];
  readonly violations: Violation[] = [];
  readonly errors: string[] = [];
  private readonly excluded = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private inits = new Map<number, number>();

  constructor(
    private readonly lab: Lab,
    private readonly o: { vip: string; device?: string; mountDir?: string; intervalMs?: number },
  ) {}

  start(): void {
    this.t0 = Date.now();
    for (const i of this.lab.ids()) this.inits.set(i, nodeInitPid(this.lab, i));
    this.timer = setInterval(() => this.sample(), this.o.intervalMs ?? 100);
    this.sample();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops counting node i (crashed and cut off: its frozen leftovers do not serve anyone). */
  exclude(i: number): void {
    this.excluded.add(i);
  }

  include(i: number): void {
    this.excluded.delete(i);
  }

  /** The latest sample. */
  last(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** Samples since time t (ms since start) in which node i held the VIP. */
  sawVipOn(i: number, sinceT = 0): boolean {
    return this.samples.some((s) => s.t >= sinceT && s.vip.includes(i));
  }

  sawMountOn(i: number, sinceT = 0): boolean {
    return this.samples.some((s) => s.t >= sinceT && s.mount.includes(i));
  }

  now(): number {
    return Date.now() - this.t0;
  }

  private holdsMount(pid: number): boolean {
    return mountsOf(pid).some((m) =>
      (this.o.device !== undefined && m.source === this.o.device) ||
      (this.o.mountDir !== undefined && m.target === this.o.mountDir));
  }

  private sample(): void {
    const t = this.now();
    const s: Sample = { t, vip: [], mount: [] };
    try {
      for (const [i, pid] of this.inits) {
        if (localAddrsOf(pid).has(this.o.vip)) s.vip.push(i);
        if ((this.o.device !== undefined || this.o.mountDir !== undefined) && this.holdsMount(pid)) s.mount.push(i);
      }
    } catch (err) {
      if (this.errors.length < 20) this.errors.push(`t=${t}: ${(err as Error).message}`);
      return;
    }
    this.samples.push(s);
    for (const what of ['vip', 'mount'] as const) {
      const counted = s[what].filter((i) => !this.excluded.has(i));
      if (counted.length > 1) this.violations.push({ t, what, nodes: counted });
    }
  }

  /** A short account of who held what when (changes only), for failure messages and the report. */
  timeline(): string {
    const out: string[] = [];
    let prev = '';
    for (const s of this.samples) {
      const cur = `vip on [${s.vip.join(',')}] mount on [${s.mount.join(',')}]`;
      if (cur !== prev) out.push(`${(s.t / 1000).toFixed(1)} s: ${cur}`);
      prev = cur;
    }
    return out.join('\n');
  }
}

// ------------------------------------------------------------------ crash and reboot of a node

/**
 * What a reboot of a crashed node does to its leftovers: every process of
 * the node ends (SIGKILL by host PID; all of them were started by this test
 * in this lab), /run is emptied, the floating address goes, the shared disk
 * is unmounted.
 * The daemon then restarts on a clean node, as after a real reboot.
 */
export async function rebootCleanup(lab: Lab, i: number, o: { vip: string; mountDir?: string }): Promise<void> {
  const pids = await lab.pids(i);
  signalAll(pids, 'SIGKILL');
  await waitFor(() => lab.pids(i), { timeoutMs: 10_000, what: `node ${i}'s processes to end`, until: (p) => p.length === 0 });
  // /run is a tmpfs on a real machine: pid files and daemon state do not survive
  // (only after proving, with a marker written to the node's private copy,
  // that this /run is the node's own and not the host's)
  const marker = `.hbts-private-${runToken()}`;
  lab.writeFile(i, `/run/${marker}`, '');
  const r = await lab.sh(i, `[ -e /run/${marker} ] && rm -rf /run/* /run/.hbts-private-* && mkdir -p /run/lock && chmod 1777 /run/lock`);
  if (r.code !== 0) throw new Error(`emptying node ${i}'s /run failed: ${r.stderr.trim()}`);
  await lab.sh(i, `ip -4 addr show dev eth0 | grep -q ' ${o.vip}/' && ip addr del ${o.vip}/24 dev eth0; true`);
  if (o.mountDir !== undefined) {
    const r = await lab.sh(i, `if grep -q ' ${o.mountDir} ' /proc/self/mounts; then umount ${o.mountDir}; fi`);
    if (r.code !== 0) throw new Error(`umount ${o.mountDir} in node ${i} failed: ${r.stderr.trim()}`);
  }
}

/** Best-effort unmount of mountDir in every node (teardown: a mount keeps the loop device busy). */
export async function unmountEverywhere(lab: Lab, mountDir: string): Promise<void> {
  if (!lab.isUp) return;
  for (const i of lab.ids()) {
    try {
      await lab.sh(i, `while grep -q ' ${mountDir} ' /proc/self/mounts; do umount -l ${mountDir} || break; done; true`);
    } catch {
      /* lab.down removes the namespace and its mounts anyway */
    }
  }
}

/**
 * Copies every node's /var/log (ha-log, ha-debug, daemon output) to
 * results/netns-logs/<label>-<lab>/node<i>/ so a failed run can be read
 * after the lab is gone. Best effort.
 */
export function preserveLogs(lab: Lab, label: string): string {
  const dest = join(REPO_ROOT, 'results', 'netns-logs', `${label}-${lab.labName}`);
  for (const i of lab.ids()) {
    try {
      const src = lab.path(i, '/var/log');
      mkdirSync(join(dest, `node${i}`), { recursive: true });
      cpSync(src, join(dest, `node${i}`), { recursive: true });
    } catch {
      /* nothing to keep */
    }
  }
  return dest;
}

/** afterAll of a plain lab: keeps its logs under results/netns-logs, then removes it. */
export async function keepLogsAndDown(lab: Lab | undefined, label: string): Promise<void> {
  if (lab?.isUp === true) preserveLogs(lab, label);
  await lab?.down();
}

/**
 * afterAll of a lab with a shared disk: keeps the logs, kills every
 * process of the lab, unmounts the disk everywhere, removes the lab and
 * detaches the loop device — each step even when an earlier one failed.
 */
export async function teardownDiskLab(lab: Lab | undefined, disk: LoopDisk | undefined, mountDir: string, label: string): Promise<void> {
  const problems: string[] = [];
  const step = async (what: string, work: () => Promise<unknown> | unknown): Promise<void> => {
    try {
      await work();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  if (lab?.isUp === true) {
    await step('keeping logs', () => preserveLogs(lab, label));
    await step('killing lab processes', async () => {
      for (const i of lab.ids()) signalAll(await lab.pids(i), 'SIGKILL');
    });
    await step('unmounting', () => unmountEverywhere(lab, mountDir));
  }
  await step('lab down', () => lab?.down());
  problems.push(...(disk?.release() ?? []));
  if (problems.length > 0) throw new Error(`teardown: ${problems.join('; ')}`);
}

/** A random token for this run (written into the disk, checked in HTTP answers). */
export function runToken(): string {
  return randomBytes(6).toString('hex');
}

