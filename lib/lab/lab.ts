/**
 * `NetLab`: a multi-node network lab for the demo and the benchmarks, over
 * the netns-lab tool (shared/lab/netns-lab beside the repository, or
 * $HB_NETNS_LAB). Nodes are 1..n ("node1"… at subnet.11…), 'c' is the client
 * (subnet.9). Every node has private /etc/ha.d, /var/lib/heartbeat, /run and
 * /var/log, so real Heartbeat and heartbeat-ts run unmodified inside.
 *
 * Removal is synchronous (`destroy`), so the same code serves a normal end,
 * a signal handler and an 'exit' handler. An owner file (pid + start time)
 * lets a later run remove labs whose creator died (`sweepStale`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  childrenOf, commOf, type ExecResult, isRunning, pidsInNetns, processStartTime, runCommand, signalAll, statusOf,
} from './proc.js';

export type NodeId = number | 'c';

/** The repository root (dist/lib/lab/ → three levels up). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const STATE_ROOT = '/var/lib/netns-lab';
const NETNS_DIR = '/run/netns';
const OWNER_FILE = 'heartbeat-ts-owner';
const CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PRIVATE = ['/etc/ha.d:copy', '/var/lib/heartbeat:copy', '/run:empty', '/var/log:empty'];
/** Per-node identity files that a copied /var/lib/heartbeat must not share between nodes. */
const IDENTITY_FILES = ['hb_uuid', 'hb_generation', 'hostcache', 'delhostcache', 'fifo'];

export interface Owner {
  pid: number;
  start: string;
  /** a lab left up on purpose (demo --keep): never swept */
  kept?: boolean;
}

export interface SpawnOptions {
  /** host file receiving stdout+stderr; otherwise they are passed to onLine */
  logFile?: string;
  onLine?: (line: string) => void;
  env?: Record<string, string>;
}

/** A command running in a node, seen from the host. */
export interface NodeProcess {
  /** host PID of the command itself (netns-lab → nsenter → command) */
  readonly pid: number;
  readonly exited: Promise<number>;
  running(): boolean;
  kill(signal?: NodeJS.Signals): void;
}

/** Where netns-lab is: $HB_NETNS_LAB, else shared/lab/netns-lab beside the repository. */
export function netnsLabPath(): string {
  const candidates = [process.env['HB_NETNS_LAB'], resolve(REPO_ROOT, '../shared/lab/netns-lab')];
  for (const p of candidates) if (p !== undefined && existsSync(p)) return p;
  throw new Error('netns-lab not found: put shared/lab/netns-lab beside the repository or set HB_NETNS_LAB');
}

function labEnv(name: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: CLEAN_PATH, HOME: process.env['HOME'] ?? '/root', LAB_NAME: name, LAB_STATE: join(STATE_ROOT, name), ...extra };
}

function readOwner(name: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(STATE_ROOT, name, OWNER_FILE), 'utf8')) as Partial<Owner>;
    if (typeof o.pid === 'number' && typeof o.start === 'string') return { pid: o.pid, start: o.start, kept: o.kept === true };
  } catch {
    // no owner file: not one of ours
  }
  return undefined;
}

function ownerAlive(o: Owner): boolean {
  return isRunning(o.pid) && processStartTime(o.pid) === o.start;
}

function labNamespaces(name: string): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((ns) => ns.startsWith(`${name}-`));
  } catch {
    return [];
  }
}

/** Blocking sleep: teardown must work inside an 'exit' handler. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Removes every trace of lab `name`: processes, namespaces (the bridge goes
 * with the switch namespace) and state dir. Returns what could not be removed.
 */
export function destroyLab(name: string): string[] {
  const problems: string[] = [];
  const stateDir = join(STATE_ROOT, name);
  let tool: string | undefined;
  try {
    tool = netnsLabPath();
  } catch {
    // without the tool the namespaces are still removed below
  }
  if (tool !== undefined && existsSync(join(stateDir, 'config'))) {
    const r = spawnSync(tool, ['down'], { env: labEnv(name), timeout: 90_000, encoding: 'utf8' });
    if (r.status !== 0) problems.push(`netns-lab down: ${(r.stderr ?? '').trim() || `exit ${r.status}`}`);
  }
  for (const ns of labNamespaces(name)) {
    const pids = pidsInNetns(join(NETNS_DIR, ns));
    signalAll(pids, 'SIGKILL');
    for (let k = 0; k < 60 && pids.some(isRunning); k++) sleepSync(50);
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8', env: { PATH: CLEAN_PATH } });
    if (r.status !== 0) problems.push(`ip netns del ${ns}: ${(r.stderr ?? '').trim()}`);
  }
  try {
    rmSync(stateDir, { recursive: true, force: true });
  } catch (err) {
    problems.push(`cannot remove ${stateDir}: ${(err as Error).message}`);
  }
  const left = labNamespaces(name);
  if (left.length > 0) problems.push(`namespaces left: ${left.join(' ')}`);
  return problems;
}

export interface LabOptions {
  nodes: number;
  /** exact lab name (demo), else `<prefix><pid36><rand4>` */
  name?: string;
  prefix?: string;
  subnet?: string;
}

export class NetLab {
  readonly name: string;
  readonly nodes: number;
  readonly subnet: string;
  readonly tool: string;
  readonly stateDir: string;
  private destroyed = false;

  private constructor(name: string, nodes: number, subnet: string, tool: string) {
    this.name = name;
    this.nodes = nodes;
    this.subnet = subnet;
    this.tool = tool;
    this.stateDir = join(STATE_ROOT, name);
  }

  /** Owner of an existing lab of that name (undefined: none, or not made by heartbeat-ts). */
  static owner(name: string): (Owner & { alive: boolean }) | undefined {
    const o = readOwner(name);
    return o === undefined ? undefined : { ...o, alive: ownerAlive(o) };
  }

  static exists(name: string): boolean {
    return existsSync(join(STATE_ROOT, name)) || labNamespaces(name).length > 0;
  }

  /** Removes labs named prefix… that we created and whose creator is gone (not kept ones). */
  static sweepStale(prefix: string): string[] {
    const swept: string[] = [];
    let dirs: string[] = [];
    try {
      dirs = readdirSync(STATE_ROOT);
    } catch {
      return swept;
    }
    for (const d of dirs) {
      if (!d.startsWith(prefix)) continue;
      const o = readOwner(d);
      if (o === undefined || o.kept === true || ownerAlive(o)) continue;
      destroyLab(d);
      swept.push(d);
    }
    return swept;
  }

  /** Creates the lab. `register` is called with it before anything is built, so a failed up is cleaned too. */
  static async up(opts: LabOptions, register: (lab: NetLab) => void): Promise<NetLab> {
    const tool = netnsLabPath();
    const subnet = opts.subnet ?? '10.77.0';
    let name = opts.name ?? '';
    while (name === '') {
      let rand = '';
      for (let k = 0; k < 4; k++) rand += randomInt(36).toString(36);
      const candidate = `${opts.prefix ?? 'hbx'}${process.pid.toString(36)}${rand}`;
      if (!NetLab.exists(candidate)) name = candidate;
    }
    if (name.length > 12) throw new Error(`lab name ${name} is too long (bridge ${name}br must fit 15 characters)`);
    const lab = new NetLab(name, opts.nodes, subnet, tool);
    mkdirSync(lab.stateDir, { recursive: true });
    lab.writeOwner(false);
    register(lab);
    const env = labEnv(name, {
      LAB_PREFIX: `${name}-n`,
      LAB_BRIDGE: `${name}br`,
      LAB_SWITCH_NS: `${name}-sw`,
      LAB_CLIENT_NS: `${name}-c`,
      LAB_SUBNET: subnet,
      LAB_HOSTNAME_FMT: 'node%d',
      LAB_PRIVATE: PRIVATE.join(' '),
      LAB_IPV6: '0',
    });
    const r = await runCommand([tool, 'up', String(opts.nodes)], { env, timeoutMs: 60_000 + 5_000 * opts.nodes });
    if (r.code !== 0) throw new Error(`netns-lab up ${opts.nodes} failed (exit ${r.code}): ${r.stderr.trim()}`);
    for (const i of lab.ids()) {
      for (const f of IDENTITY_FILES) rmSync(lab.path(i, `/var/lib/heartbeat/${f}`), { force: true });
      for (const f of ['ha.cf', 'authkeys', 'haresources', 'nodeinfo']) rmSync(lab.path(i, `/etc/ha.d/${f}`), { force: true });
    }
    return lab;
  }

  /** Marks the lab as left up on purpose (or owned by this process again). */
  writeOwner(kept: boolean): void {
    const o: Owner = { pid: process.pid, start: processStartTime(process.pid) ?? '', kept };
    writeFileSync(join(this.stateDir, OWNER_FILE), JSON.stringify(o));
  }

  ids(): number[] {
    return Array.from({ length: this.nodes }, (_, k) => k + 1);
  }

  ip(id: NodeId): string {
    return `${this.subnet}.${id === 'c' ? 9 : 10 + id}`;
  }

  nodeName(id: NodeId): string {
    return id === 'c' ? 'client' : `node${id}`;
  }

  netns(id: NodeId): string {
    return id === 'c' ? `${this.name}-c` : `${this.name}-n${id}`;
  }

  /** Host path of node id's private copy of `p` (one of the private directories). */
  path(id: NodeId, p: string): string {
    let canon = posix.normalize(p);
    for (const alias of ['/var/run', '/var/lock']) {
      if (canon === alias || canon.startsWith(`${alias}/`)) {
        let real = alias;
        try {
          real = realpathSync(alias);
        } catch {
          // no such link on this host
        }
        canon = real + canon.slice(alias.length);
      }
    }
    const ok = PRIVATE.some((e) => {
      const d = e.split(':')[0] ?? e;
      return canon === d || canon.startsWith(`${d}/`);
    });
    if (!ok) throw new Error(`${p} is not private to lab nodes: refusing to touch the host's own file`);
    return join(this.stateDir, 'nodes', String(id), 'root', canon);
  }

  writeFile(id: NodeId, p: string, content: string, mode = 0o644): void {
    const host = this.path(id, p);
    mkdirSync(dirname(host), { recursive: true });
    writeFileSync(host, content);
    chmodSync(host, mode);
  }

  readFile(id: NodeId, p: string): string {
    try {
      return readFileSync(this.path(id, p), 'utf8');
    } catch {
      return '';
    }
  }

  private check(): void {
    if (this.destroyed) throw new Error(`lab ${this.name} was removed`);
  }

  /** netns-lab subcommand; throws on failure. */
  async labTool(args: readonly string[], timeoutMs = 30_000): Promise<string> {
    this.check();
    const r = await runCommand([this.tool, ...args], { env: labEnv(this.name), timeoutMs });
    if (r.code !== 0) throw new Error(`netns-lab ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Runs argv in node id and waits; a non-zero exit is a result, only a timeout rejects. */
  exec(id: NodeId, argv: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
    this.check();
    return runCommand([this.tool, 'exec', String(id), ...argv], { env: labEnv(this.name), timeoutMs });
  }

  sh(id: NodeId, script: string, timeoutMs = 30_000): Promise<ExecResult> {
    return this.exec(id, ['/bin/sh', '-c', script], timeoutMs);
  }

  /** Starts argv in node id without waiting for it. */
  async spawn(id: NodeId, argv: readonly string[], opts: SpawnOptions = {}): Promise<NodeProcess> {
    this.check();
    let fd: number | undefined;
    if (opts.logFile !== undefined) {
      mkdirSync(dirname(opts.logFile), { recursive: true });
      fd = openSync(opts.logFile, 'a');
    }
    const child = spawn(this.tool, ['exec', String(id), ...argv], {
      env: labEnv(this.name, opts.env),
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
    });
    if (fd !== undefined) closeSync(fd);
    const onLine = opts.onLine;
    for (const s of [child.stdout, child.stderr]) {
      if (s === null) continue;
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          onLine?.(line);
        }
      });
    }
    let ended = false;
    const exited = new Promise<number>((res) => {
      child.on('exit', (code, signal) => {
        ended = true;
        res(statusOf(code, signal));
      });
      child.on('error', () => {
        ended = true;
        res(-1);
      });
    });
    // netns-lab execs nsenter (same PID), which forks the command.
    let pid: number | undefined;
    for (let k = 0; k < 500 && !ended && child.pid !== undefined; k++) {
      if (commOf(child.pid) === 'nsenter') {
        pid = childrenOf(child.pid)[0];
        if (pid !== undefined) break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (pid === undefined) {
      child.kill('SIGKILL');
      throw new Error(`no process appeared in node ${id} for ${argv.join(' ')}`);
    }
    const hostPid = pid;
    return {
      pid: hostPid,
      exited,
      running: () => !ended,
      kill: (signal: NodeJS.Signals = 'SIGTERM') => {
        if (!ended) signalAll([hostPid], signal);
      },
    };
  }

  /** Host PIDs of the processes in node id (optionally only those whose comm is `comm`). */
  async pids(id: NodeId, comm?: string): Promise<number[]> {
    const out = await this.labTool(comm === undefined ? ['pids', String(id)] : ['pids', String(id), comm]);
    return out.split(/\s+/).filter((s) => s !== '').map(Number);
  }

  /** Network failure of node id: 'link' = cable pulled (NO-CARRIER), 'drop' = frames dropped silently. */
  async cut(id: NodeId, mode: 'link' | 'drop' = 'link'): Promise<void> {
    await this.labTool(['cut', String(id), mode]);
  }

  async heal(id?: NodeId): Promise<void> {
    await this.labTool(id === undefined ? ['heal'] : ['heal', String(id)]);
  }

  get isUp(): boolean {
    return !this.destroyed;
  }

  /** Removes the lab completely (synchronous; safe to call twice). Returns leftovers. */
  destroy(): string[] {
    if (this.destroyed) return [];
    this.destroyed = true;
    return destroyLab(this.name);
  }
}
