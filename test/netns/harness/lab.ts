/**
 * `Lab`: a multi-node network lab for tests, wrapping the netns-lab tool
 * (shared/lab/netns-lab beside the repository, or $HB_NETNS_LAB).
 *
 * Every lab gets names unique to this run (`hbt<pid36><rand4>`), so test
 * files can run in parallel and never touch another lab. Nodes are 1..n,
 * 'c' is the client namespace. `down()` removes everything, also after a
 * half-failed `up()`; an 'exit'/signal safety net and `Lab.sweepStale()`
 * catch labs whose test process died.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childrenOf, commOf, type ExecResult, processStartTime, runCommand, statusOf } from './proc.js';
import {
  existingLabNames,
  labEnv,
  labNamespaces,
  OWNER_FILE,
  ownerAlive,
  STATE_ROOT,
  teardownLab,
} from './teardown.js';

export type { ExecResult } from './proc.js';
export type NodeId = number | 'c';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Private per-node directories real heartbeat needs (compiled-in paths). */
export const HEARTBEAT_PRIVATE: readonly string[] = [
  '/etc/ha.d:copy',
  '/var/lib/heartbeat:copy',
  '/run:empty',
  '/var/log:empty',
];
/** For resource-script tests that install or change /etc/init.d scripts per node. */
export const PRIVATE_INITD = '/etc/init.d:copy';

export interface LabOptions {
  nodes: number;
  /** first three octets of the lab /24 (labs are isolated, so the default is fine in parallel) */
  subnet?: string;
  /** extra LAB_PRIVATE entries, `PATH[:copy|:empty]` */
  private?: readonly string[];
  /** give every node its own copy of /etc/init.d */
  privateInitD?: boolean;
  /** keep IPv6 on the lab links (default off: quieter captures) */
  ipv6?: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
}

export interface SpawnOptions {
  /** host file receiving stdout+stderr (appended); otherwise output is kept in memory */
  logFile?: string;
  env?: Record<string, string>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** code, or 128+signal number */
  status: number;
}

/** A command running in a node, seen from the host. */
export interface NodeProcess {
  readonly node: NodeId;
  readonly argv: readonly string[];
  /** host PID of the command; undefined if it ended before it could be read */
  readonly pid: number | undefined;
  readonly logFile: string | undefined;
  /** resolves when the command ended (never rejects) */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** signals the command itself; false when it already ended */
  kill(signal?: NodeJS.Signals): boolean;
  /** captured stdout+stderr (empty with logFile) */
  output(): string;
}

const DEFAULT_SUBNET = '10.77.0';
const HOST_BASE = 10; // netns-lab: node i = subnet.(10+i)
const CLIENT_HOST = 9;
const SAFETY_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Where netns-lab is: $HB_NETNS_LAB, else shared/lab/netns-lab beside the repository. */
export function netnsLabPath(): string {
  const p = process.env['HB_NETNS_LAB'] ?? resolve(REPO_ROOT, '../shared/lab/netns-lab');
  if (!existsSync(p)) {
    throw new Error(`netns-lab not found at ${p}: put shared/ beside the repository or set HB_NETNS_LAB`);
  }
  return p;
}

function randomSuffix(): string {
  let s = '';
  for (let k = 0; k < 4; k++) s += randomInt(36).toString(36);
  return s;
}

/** Host symlinks like /var/run -> /run: a node sees the same links, into its private dirs. */
function hostAliases(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const a of ['/var/run', '/var/lock']) {
    try {
      const real = realpathSync(a);
      if (real !== a) out.push([a, real]);
    } catch {
      // not present on this host
    }
  }
  return out;
}

export class Lab {
  /** lab identity (LAB_NAME): prefix of its namespaces, bridge and state dir */
  readonly labName: string;
  readonly stateDir: string;
  readonly nodes: number;
  readonly subnet: string;
  readonly netnsLab: string;
  /** private directories of every node (absolute, canonical) */
  readonly privateDirs: readonly string[];
  private readonly aliases: Array<[string, string]>;
  private isDown = false;
  private safetyNet: { onExit: () => void; onSignal: (sig: NodeJS.Signals) => void } | undefined;

  private constructor(name: string, nodes: number, subnet: string, netnsLab: string, privateDirs: string[]) {
    this.labName = name;
    this.stateDir = join(STATE_ROOT, name);
    this.nodes = nodes;
    this.subnet = subnet;
    this.netnsLab = netnsLab;
    this.privateDirs = privateDirs;
    this.aliases = hostAliases();
  }

  /** Creates the lab: nodes 1..n and the client, all on one isolated bridge. */
  static async up(opts: LabOptions): Promise<Lab> {
    const { nodes } = opts;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) throw new Error(`Lab.up: nodes must be 1..200, got ${nodes}`);
    const subnet = opts.subnet ?? DEFAULT_SUBNET;
    if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(subnet)) throw new Error(`Lab.up: subnet must be three octets, got ${subnet}`);
    const netnsLab = netnsLabPath();
    Lab.sweepStale();

    const entries = [...HEARTBEAT_PRIVATE, ...(opts.private ?? [])];
    if (opts.privateInitD === true) entries.push(PRIVATE_INITD);
    // /var/run/heartbeat lives in the private /run when /var/run is a link to it
    // (Debian); on a host where it is a real directory it needs its own entry.
    if (entries.some((e) => e.startsWith('/run:')) && !hostAliases().some(([a]) => a === '/var/run')) {
      entries.push('/var/run:empty');
    }
    const privateDirs = entries.map((e) => e.split(':')[0] ?? e);

    let name = '';
    for (let tries = 0; tries < 10; tries++) {
      const candidate = `hbt${process.pid.toString(36)}${randomSuffix()}`;
      if (!existsSync(join(STATE_ROOT, candidate)) && labNamespaces(candidate).length === 0) {
        name = candidate;
        break;
      }
    }
    if (name === '') throw new Error('Lab.up: could not find an unused lab name');

    const lab = new Lab(name, nodes, subnet, netnsLab, privateDirs);
    // Owner first, so a concurrent sweep never takes this lab for stale.
    mkdirSync(lab.stateDir, { recursive: true });
    const start = processStartTime(process.pid) ?? '';
    writeFileSync(join(lab.stateDir, OWNER_FILE), JSON.stringify({ pid: process.pid, start }));
    lab.installSafetyNet();
    const env = labEnv(name, lab.stateDir, {
      LAB_PREFIX: `${name}-n`,
      LAB_BRIDGE: `${name}br`, // <= 14 chars: fits IFNAMSIZ
      LAB_SWITCH_NS: `${name}-sw`,
      LAB_CLIENT_NS: `${name}-c`,
      LAB_SUBNET: subnet,
      LAB_HOSTNAME_FMT: 'node%d',
      LAB_PRIVATE: entries.join(' '),
      LAB_IPV6: opts.ipv6 === true ? '1' : '0',
    });
    try {
      const r = await runCommand([netnsLab, 'up', String(nodes)], { env, timeoutMs: 60_000 + 10_000 * nodes });
      if (r.code !== 0) throw new Error(`netns-lab up ${nodes} failed (exit ${r.code}): ${r.stderr.trim()}`);
    } catch (err) {
      try {
        await lab.down();
      } catch (downErr) {
        throw new Error(`${(err as Error).message}; cleanup also failed: ${(downErr as Error).message}`);
      }
      throw err;
    }
    return lab;
  }

  /**
   * Removes labs made by this harness whose creating process is gone
   * (a killed test run). Returns the names removed.
   */
  static sweepStale(): string[] {
    let netnsLab = '';
    try {
      netnsLab = netnsLabPath();
    } catch {
      // without netns-lab the namespaces are still removed by name
    }
    const swept: string[] = [];
    for (const name of existingLabNames()) {
      if (ownerAlive(name)) continue;
      teardownLab(netnsLab, name, join(STATE_ROOT, name));
      swept.push(name);
    }
    return swept;
  }

  /** Node ids 1..n. */
  ids(): number[] {
    return Array.from({ length: this.nodes }, (_, k) => k + 1);
  }

  private checkId(id: NodeId): string {
    if (id === 'c') return 'c';
    if (!Number.isInteger(id) || id < 1 || id > this.nodes) {
      throw new Error(`lab ${this.labName}: node id ${String(id)} out of range 1..${this.nodes} (or 'c')`);
    }
    return String(id);
  }

  /** IPv4 address of a node on eth0. */
  ip(id: NodeId): string {
    this.checkId(id);
    return `${this.subnet}.${id === 'c' ? CLIENT_HOST : HOST_BASE + id}`;
  }

  /** Host name (uname -n) of a node: node1…, 'client' for 'c'. */
  name(id: NodeId): string {
    this.checkId(id);
    return id === 'c' ? 'client' : `node${id}`;
  }

  /** Network namespace name of a node (for `ip netns exec`, tcpdump -i in it, …). */
  netns(id: NodeId): string {
    this.checkId(id);
    return id === 'c' ? `${this.labName}-c` : `${this.labName}-n${id}`;
  }

  /**
   * Host path of node id's private copy of `p`. Throws unless p is inside a
   * private directory: anything else is the host's own file, shared by all.
   */
  path(id: NodeId, p: string): string {
    const key = this.checkId(id);
    if (!p.startsWith('/')) throw new Error(`lab path must be absolute: ${p}`);
    let canon = posix.normalize(p);
    for (const [alias, real] of this.aliases) {
      if (canon === alias || canon.startsWith(`${alias}/`)) canon = real + canon.slice(alias.length);
    }
    const inside = this.privateDirs.some((d) => canon === d || canon.startsWith(`${d}/`));
    if (!inside) {
      throw new Error(`${p} is not private to lab nodes (private: ${this.privateDirs.join(' ')}); refusing a host path`);
    }
    return join(this.stateDir, 'nodes', key, 'root', canon);
  }

  /** Writes a file into node id's private tree (parents created). */
  writeFile(id: NodeId, p: string, content: string | Buffer, mode?: number): void {
    const host = this.path(id, p);
    mkdirSync(dirname(host), { recursive: true });
    writeFileSync(host, content);
    if (mode !== undefined) chmodSync(host, mode);
  }

  /** Reads a file of node id's private tree; undefined when it does not exist. */
  readFile(id: NodeId, p: string): string | undefined {
    try {
      return readFileSync(this.path(id, p), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async tool(args: readonly string[], timeoutMs = 30_000): Promise<string> {
    if (this.isDown) throw new Error(`lab ${this.labName} is down`);
    const r = await runCommand([this.netnsLab, ...args], { env: labEnv(this.labName, this.stateDir), timeoutMs });
    if (r.code !== 0) throw new Error(`netns-lab ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Runs argv in node id and waits for it. Rejects only on timeout. */
  async exec(id: NodeId, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const key = this.checkId(id);
    if (this.isDown) throw new Error(`lab ${this.labName} is down`);
    if (argv.length === 0) throw new Error('lab.exec: empty argv');
    return runCommand([this.netnsLab, 'exec', key, ...argv], {
      env: labEnv(this.labName, this.stateDir, opts.env),
      timeoutMs: opts.timeoutMs ?? 30_000,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      what: `node ${key}: ${argv.join(' ')}`,
    });
  }

  /** `exec` of a /bin/sh script. */
  sh(id: NodeId, script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(id, ['/bin/sh', '-c', script], opts);
  }

  /** Starts argv in node id without waiting for it. */
  async spawn(id: NodeId, argv: readonly string[], opts: SpawnOptions = {}): Promise<NodeProcess> {
    const key = this.checkId(id);
    if (this.isDown) throw new Error(`lab ${this.labName} is down`);
    if (argv.length === 0) throw new Error('lab.spawn: empty argv');
    let fd: number | undefined;
    if (opts.logFile !== undefined) {
      mkdirSync(dirname(opts.logFile), { recursive: true });
      fd = openSync(opts.logFile, 'a');
    }
    const chunks: Buffer[] = [];
    const child = spawn(this.netnsLab, ['exec', key, ...argv], {
      env: labEnv(this.labName, this.stateDir, opts.env),
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
    });
    if (fd !== undefined) closeSync(fd);
    child.stdout?.on('data', (b: Buffer) => chunks.push(b));
    child.stderr?.on('data', (b: Buffer) => chunks.push(b));
    let ended = false;
    const exited = new Promise<ExitInfo>((res) => {
      child.on('exit', (code, signal) => {
        ended = true;
        res({ code, signal, status: statusOf(code, signal) });
      });
      child.on('error', () => {
        ended = true;
        res({ code: null, signal: null, status: -1 });
      });
    });
    // netns-lab execs nsenter (same PID), which forks the command: the
    // command's host PID is nsenter's child. Bash subshells come and go
    // before the exec, hence the comm check.
    let pid: number | undefined;
    const deadline = Date.now() + 10_000;
    while (!ended && child.pid !== undefined && Date.now() < deadline) {
      if (commOf(child.pid) === 'nsenter') {
        pid = childrenOf(child.pid)[0];
        if (pid !== undefined) break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (pid === undefined && !ended) {
      child.kill('SIGKILL');
      throw new Error(`lab.spawn: no process appeared in node ${key} for ${argv.join(' ')}`);
    }
    return {
      node: id,
      argv: [...argv],
      pid,
      logFile: opts.logFile,
      exited,
      running: () => !ended,
      kill: (signal: NodeJS.Signals = 'SIGTERM') => {
        if (ended || pid === undefined) return false;
        try {
          process.kill(pid, signal);
          return true;
        } catch {
          return false;
        }
      },
      output: () => Buffer.concat(chunks).toString('utf8'),
    };
  }

  /** Host PIDs of the processes in node id (optionally only those whose comm is `comm`). */
  async pids(id: NodeId, comm?: string): Promise<number[]> {
    const key = this.checkId(id);
    const out = await this.tool(comm === undefined ? ['pids', key] : ['pids', key, comm]);
    return out.split(/\s+/).filter((s) => s !== '').map(Number);
  }

  /** Network failure of node id: 'link' = switch port down (NO-CARRIER), 'drop' = frames silently dropped. */
  async cut(id: NodeId, mode: 'link' | 'drop' = 'link'): Promise<void> {
    await this.tool(['cut', this.checkId(id), mode]);
  }

  /** Undoes cut/loss of node id, or of every node and any partition. */
  async heal(id?: NodeId): Promise<void> {
    await this.tool(id === undefined ? ['heal'] : ['heal', this.checkId(id)]);
  }

  /** Splits the LAN: frames between different groups are dropped; unlisted nodes reach everybody. */
  async partition(groups: ReadonlyArray<readonly NodeId[]>): Promise<void> {
    if (groups.length < 2) throw new Error('lab.partition: need at least two groups');
    await this.tool(['partition', ...groups.map((g) => g.map((id) => this.checkId(id)).join(','))]);
  }

  /**
   * Drops pct % of node id's frames at random (0 clears). 100 is refused:
   * netns-lab's nft rule only takes 0..99 and a failed rule file would then
   * break every later cut/partition — use cut(id, 'drop') for total loss.
   */
  async loss(id: NodeId, pct: number): Promise<void> {
    if (!Number.isInteger(pct) || pct < 0 || pct > 99) {
      throw new Error(`lab.loss: pct must be 0..99, got ${pct} (use cut(id, 'drop') to drop everything)`);
    }
    await this.tool(['loss', this.checkId(id), String(pct)]);
  }

  /** Starts a capture of all lab traffic (on the bridge) into a host file. */
  async pcapStart(file: string, seconds = 300, filter: readonly string[] = []): Promise<void> {
    await this.tool(['pcap-start', file, String(seconds), ...filter]);
  }

  async pcapStop(): Promise<void> {
    await this.tool(['pcap-stop']);
  }

  /** netns-lab status text (for failure messages). */
  async status(): Promise<string> {
    return this.tool(['status']);
  }

  /** Removes the lab completely; safe to call again, and after a failed `up`. */
  async down(): Promise<void> {
    if (this.isDown) return;
    const problems = teardownLab(this.netnsLab, this.labName, this.stateDir);
    if (problems.length > 0) throw new Error(`lab ${this.labName} down left traces: ${problems.join('; ')}`);
    this.isDown = true;
    this.removeSafetyNet();
  }

  /** False once `down()` (or the safety net) removed the lab. */
  get isUp(): boolean {
    return !this.isDown;
  }

  private installSafetyNet(): void {
    const onExit = (): void => {
      if (this.isDown) return;
      this.isDown = true;
      teardownLab(this.netnsLab, this.labName, this.stateDir);
    };
    const onSignal = (sig: NodeJS.Signals): void => {
      this.removeSafetyNet();
      onExit();
      // re-raise once no other listener is left, so the default action (exit) happens
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on('exit', onExit);
    for (const s of SAFETY_SIGNALS) process.on(s, onSignal);
    this.safetyNet = { onExit, onSignal };
  }

  private removeSafetyNet(): void {
    if (this.safetyNet === undefined) return;
    process.off('exit', this.safetyNet.onExit);
    for (const s of SAFETY_SIGNALS) process.off(s, this.safetyNet.onSignal);
    this.safetyNet = undefined;
  }
}
