/**
 * Shared pieces of the fault-injection suite (issue 8): a cluster of either
 * implementation in one lab (heartbeat-ts or Debian's heartbeat 3.0.6, same
 * ha.cf), resource probes that read a node's state straight from /proc
 * (no process started, so all nodes are sampled within microseconds), an
 * exclusivity monitor, the FaultRes fixture, and a loop-device ext4 disk
 * that every node of a lab can mount (the nodes share the host's /dev).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  authKeys, type AuthMethod, haCf, type HaCfOptions, killOurs, killReal, logSize, oursPids, readLog, realPids,
  startOurs, startReal, stopReal, waitFor, waitForLog, writeHaConfig,
} from '../harness/heartbeat.js';
import { Lab, type LabOptions, REPO_ROOT } from '../harness/lab.js';
import { isRunning, signalAll } from '../harness/proc.js';
import { createLoopDisk as createSharedDisk, localAddrsOf, type LoopDisk } from '../failover-support.js';

export type Impl = 'ours' | 'real';
export const FAULTRES = join(REPO_ROOT, 'test/netns/fixtures/FaultRes');
export const HB_GENERATION = '/var/lib/heartbeat/hb_generation';

export interface ClusterSpec {
  /** One implementation for every node, or one per node (mixed clusters: index 0 is node1). */
  impl: Impl | readonly Impl[];
  nodes: number;
  hacf?: Partial<HaCfOptions>;
  auth?: AuthMethod;
  /** haresources text; the lab is passed so VIPs can use its subnet */
  haresources?: (lab: Lab) => string;
  /** environment of every heartbeat-ts start (timeouts, HA_STOPFAIL_ACTION…) */
  env?: Record<string, string>;
  lab?: Omit<LabOptions, 'nodes'>;
}

const since = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

/** One lab running one implementation on every node, with the same configuration files. */
export class FaultCluster {
  readonly t0 = Date.now();
  private constructor(readonly lab: Lab, readonly spec: ClusterSpec) {}

  static async create(spec: ClusterSpec): Promise<FaultCluster> {
    const lab = await Lab.up({ ...(spec.lab ?? {}), nodes: spec.nodes });
    const c = new FaultCluster(lab, spec);
    try {
      for (const i of lab.ids()) c.configure(i);
    } catch (err) {
      await lab.down();
      throw err;
    }
    return c;
  }

  /** For labels: `ours`, `real`, or per node (`ours+real`). */
  get impl(): string {
    return typeof this.spec.impl === 'string' ? this.spec.impl : this.spec.impl.join('+');
  }

  /** What runs on node i. */
  implOf(i: number): Impl {
    const impl = this.spec.impl;
    return typeof impl === 'string' ? impl : impl[i - 1] ?? 'ours';
  }

  names(): string[] {
    return this.lab.ids().map((i) => this.lab.name(i));
  }

  hacfText(over: Partial<HaCfOptions> = {}): string {
    return haCf({ media: 'bcast', nodes: this.names(), keepalive: 1, deadtime: 10, initdead: 20, autoFailback: false, ...this.spec.hacf, ...over });
  }

  /** Writes ha.cf, authkeys, haresources and the FaultRes script into node i. */
  configure(i: number): void {
    writeHaConfig(this.lab, i, {
      hacf: this.hacfText(),
      authkeys: authKeys(this.spec.auth ?? 'sha1'),
      haresources: this.spec.haresources?.(this.lab) ?? '',
    });
    this.lab.writeFile(i, '/etc/ha.d/resource.d/FaultRes', readFileSync(FAULTRES), 0o755);
  }

  /** Starts node i's daemon (heartbeat-ts in the foreground, or the real one via its init script). */
  async start(i: number, env: Record<string, string> = {}): Promise<void> {
    if (this.implOf(i) === 'real') {
      await startReal(this.lab, i);
      return;
    }
    const p = await startOurs(this.lab, i, { env: { ...this.spec.env, ...env } });
    if (!p.running() || p.pid === undefined) throw new Error(`heartbeat-ts in node ${i} did not start: ${this.out(i)}`);
  }

  async startAll(env: Record<string, string> = {}): Promise<void> {
    await Promise.all(this.lab.ids().map((i) => this.start(i, env)));
  }

  /** heartbeat-ts's stdout/stderr file of node i. */
  out(i: number): string {
    return this.lab.readFile(i, '/var/log/heartbeat-ts.out') ?? '';
  }

  log(i: number): string {
    return readLog(this.lab, i);
  }

  logSize(i: number): number {
    return logSize(this.lab, i);
  }

  /** How often re matches node i's ha-log (after byte `after`). */
  count(i: number, re: RegExp, after = 0): number {
    const text = readFileSync(this.lab.path(i, '/var/log/ha-log')).subarray(after).toString('utf8');
    return text.split('\n').filter((l) => re.test(l)).length;
  }

  waitLog(i: number, re: RegExp, timeoutMs: number, after = 0): Promise<string> {
    return waitForLog(this.lab, i, re, { timeoutMs, after });
  }

  /** Waits until node i's messaging is up (comm up: it heard every node or declared it dead). */
  async waitActive(i: number, timeoutMs = 60_000, after = 0): Promise<void> {
    try {
      await this.waitLog(i, /Comm_now_up\(\): updating status to active/, timeoutMs, after);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nnode ${i} stdout/stderr:\n${this.out(i).slice(-2000)}`);
    }
  }

  generation(i: number): number {
    const text = this.lab.readFile(i, HB_GENERATION);
    const n = Number((text ?? '').trim());
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`node ${i}: unreadable ${HB_GENERATION}: ${JSON.stringify(text)}`);
    return n;
  }

  /** Host PIDs of node i's daemon processes. */
  async pids(i: number): Promise<number[]> {
    return this.implOf(i) === 'real' ? realPids(this.lab, i) : oursPids(this.lab, i);
  }

  async running(i: number): Promise<boolean> {
    return (await this.pids(i)).length > 0;
  }

  /** A crash: SIGKILL to every daemon process of node i, resources stay as they are. */
  async kill9(i: number): Promise<void> {
    const pids = this.implOf(i) === 'real' ? await killReal(this.lab, i, 'SIGKILL') : await killOurs(this.lab, i, 'SIGKILL');
    await waitFor(() => pids.filter(isRunning), { timeoutMs: 10_000, what: `node ${i}'s daemon to die`, until: (l) => l.length === 0 });
  }

  /** Graceful stop (SIGTERM / init script stop): resources are given up first. */
  async stop(i: number, timeoutMs = 90_000): Promise<void> {
    if (this.implOf(i) === 'real') {
      await stopReal(this.lab, i, timeoutMs);
      return;
    }
    await killOurs(this.lab, i, 'SIGTERM', timeoutMs);
  }

  /** SIGSTOP/SIGCONT of node i's daemon (every process of it). */
  async signal(i: number, sig: NodeJS.Signals): Promise<number[]> {
    const pids = await this.pids(i);
    signalAll(pids, sig);
    return pids;
  }

  /** Stops every daemon (SIGKILL) and removes the lab; returns what went wrong. */
  async teardown(extra: () => Promise<void> = async () => undefined): Promise<string[]> {
    const problems: string[] = [];
    if (this.lab.isUp) {
      for (const i of this.lab.ids()) {
        try {
          const pids = await this.pids(i);
          signalAll(pids, 'SIGCONT');
          signalAll(pids, 'SIGKILL');
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      try {
        await extra();
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    try {
      await this.lab.down();
    } catch (err) {
      problems.push((err as Error).message);
    }
    return problems;
  }

  note(what: string): void {
    console.log(`[faults ${this.impl} ${this.lab.labName}] ${since(this.t0)}: ${what}`);
  }

  // ---------------------------------------------------------------- FaultRes control (files in the node's /run)

  setFault(i: number, name: string, fault: 'fail-start' | 'fail-stop' | 'hang-status' | 'slow-start', value = ''): void {
    this.lab.writeFile(i, `/run/faultres/${name}.${fault}`, value);
  }

  clearFault(i: number, name: string, fault: 'fail-start' | 'fail-stop' | 'hang-status' | 'slow-start'): void {
    rmSync(this.lab.path(i, `/run/faultres/${name}.${fault}`), { force: true });
  }

  /** Whether FaultRes NAME runs on node i (its tmpfs is mounted in the node; a node whose init is gone holds nothing). */
  faultResRunning(i: number, name: string): boolean {
    const pid = nodeInitPid(this.lab, i);
    return pid !== undefined && hasMount(pid, faultResDir(name));
  }

  /** FaultRes calls on node i: `<epoch> NAME op rc` lines. */
  faultResOps(i: number): string[] {
    return (this.lab.readFile(i, '/run/faultres/ops.log') ?? '').split('\n').filter((l) => l !== '');
  }
}

// ---------------------------------------------------------------- node views from the host

/** Host PID of node i's init (PID 1 of its PID namespace), undefined once the node is gone. */
export const nodeInitPid = (lab: Lab, i: number): number | undefined => lab.initPid(i);

/** IPv4 addresses local to the namespace of pid (the kernel's local routes), read without a process. */
export const localAddrs = localAddrsOf;

/** Whether the mount namespace of pid has something mounted on dir. */
export function hasMount(pid: number, dir: string): boolean {
  return readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);
}

export interface Holding {
  /** ms since the monitor started */
  t: number;
  /** per resource name, the nodes holding it */
  held: Record<string, number[]>;
}

export type Probe = (lab: Lab, i: number, initPid: number) => boolean;

export const vipProbe = (vip: string): Probe => (_lab, _i, pid) => localAddrs(pid).has(vip);
export const mountProbe = (dir: string): Probe => (_lab, _i, pid) => hasMount(pid, dir);
/** Where FaultRes NAME mounts its tmpfs while it runs. */
export const faultResDir = (name: string): string => `/run/faultres/mnt/${name}`;
export const faultResProbe = (name: string): Probe => mountProbe(faultResDir(name));

/**
 * Samples who holds what every intervalMs. Nodes whose init is gone (a
 * "rebooted" node) count as holding nothing.
 */
export class HoldingMonitor {
  readonly samples: Holding[] = [];
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;

  constructor(private readonly lab: Lab, private readonly probes: Record<string, Probe>, private readonly intervalMs = 100) {}

  start(): this {
    this.t0 = Date.now();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.sample();
    return this;
  }

  /** Stops sampling, after one last sample so the timeline ends with the final state. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  now(): number {
    return Date.now() - this.t0;
  }

  /** Who holds each resource right now. */
  current(): Record<string, number[]> {
    const held: Record<string, number[]> = {};
    for (const name of Object.keys(this.probes)) held[name] = [];
    for (const i of this.lab.ids()) {
      const pid = nodeInitPid(this.lab, i);
      if (pid === undefined) continue;
      for (const [name, probe] of Object.entries(this.probes)) {
        try {
          if (probe(this.lab, i, pid)) held[name]?.push(i);
        } catch {
          // node went away between the lookup and the read
        }
      }
    }
    return held;
  }

  private sample(): void {
    if (!this.lab.isUp) return;
    this.samples.push({ t: this.now(), held: this.current() });
  }

  /** Samples at or after t in which a resource was on more than one node. */
  doubles(sinceT = 0): Holding[] {
    return this.samples.filter((s) => s.t >= sinceT && Object.values(s.held).some((h) => h.length > 1));
  }

  /** Samples at or after t in which a resource was on no node. */
  orphans(sinceT = 0, names?: readonly string[]): Holding[] {
    return this.samples.filter((s) => s.t >= sinceT && Object.entries(s.held).some(([n, h]) => (names === undefined || names.includes(n)) && h.length === 0));
  }

  /** Changes only, for failure messages and the results table. */
  timeline(sinceT = 0): string {
    const out: string[] = [];
    let prev = '';
    for (const s of this.samples) {
      if (s.t < sinceT) continue;
      const cur = Object.entries(s.held).map(([n, h]) => `${n}@[${h.join(',')}]`).join(' ');
      if (cur !== prev) out.push(`${(s.t / 1000).toFixed(1)}s ${cur}`);
      prev = cur;
    }
    return out.join('\n');
  }
}

/** Waits until the monitor's current view satisfies ok. */
export async function waitHolding(m: HoldingMonitor, what: string, ok: (h: Record<string, number[]>) => boolean, timeoutMs: number): Promise<Record<string, number[]>> {
  return waitFor(() => m.current(), { timeoutMs, what, until: ok, intervalMs: 200 });
}

// ---------------------------------------------------------------- shared disk

export type { LoopDisk } from '../failover-support.js';

/** A fresh, empty ext4 image on a free loop device (never mounted on the host); released at exit too. */
export const createLoopDisk = (sizeMb = 16): LoopDisk => createSharedDisk({}, sizeMb);

/** Unmounts dir in every live node of the lab (teardown: a mount keeps the loop device busy). */
export async function unmountEverywhere(lab: Lab, dir: string): Promise<void> {
  for (const i of lab.ids()) {
    if (nodeInitPid(lab, i) === undefined) continue;
    await lab.sh(i, `while grep -q ' ${dir} ' /proc/self/mounts; do umount -l ${dir} || break; done; true`);
  }
}
