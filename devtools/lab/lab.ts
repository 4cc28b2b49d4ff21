/**
 * `Lab`: heartbeat-ts's multi-node network lab on one Linux machine — the
 * one driver behind the netns tests, the demo, the benchmarks and
 * `npm run lab`. A development tool, not daemon code.
 *
 * Nodes 1..n ("node1"… at subnet.11…) and a client 'c' (subnet.9) each have
 * their own network, UTS, mount and PID namespaces, plugged into one bridge
 * inside a switch namespace; every node has private /etc/ha.d,
 * /var/lib/heartbeat, /run and /var/log (and any extra private dirs), so
 * real Heartbeat 3.0.6 and heartbeat-ts run unmodified inside. Names are
 * unique per run unless given. `down()` removes every namespace, mount and
 * process the lab made, also after a failed `up`; an 'exit'/signal safety
 * net and `Lab.sweepStale()` catch labs whose owner died.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { captureStart, captureStop, type CaptureOptions } from './capture.js';
import { addNamespaces, changeFilters, healFilters, noFilters, setPorts, wire } from './net.js';
import {
  enterArgv, hostAliases, initPid, nodeEnv, nodeRoot, parsePrivate, privateEntries, seedPrivateDirs, startNodeInit, writeHosts,
} from './node.js';
import { type NodeProcess, type SpawnOptions, startInNode } from './spawn.js';
import { commOf, type ExecResult, isRunning, pidsInNetns, processStartTime, runCommand } from './proc.js';
import {
  allIds, currentOwner, hostnameOf, ipOf, LAB_NAME_RE, labHealth, labNamespaces, type LabState, NETNS_DIR,
  lansOf, newName, type NodeId, nodeNs, readState, STATE_ROOT, stateDirOf, switchNs, writeState,
} from './state.js';
import { destroyLab, sweepStale } from './teardown.js';
import { SafetyNet } from './safety-net.js';
import { describeLab } from './status.js';

export type { ExecResult } from './proc.js';
export type { ExitInfo, NodeProcess, SpawnOptions } from './spawn.js';
export { HEARTBEAT_PRIVATE, PRIVATE_INITD } from './node.js';
export type { NodeId } from './state.js';
export { REPO_ROOT } from './state.js';

const DEFAULT_SUBNET = '10.77.0';

export interface LabOptions {
  nodes: number;
  /** first three octets of the lab /24 (labs are isolated, so the default is fine in parallel) */
  subnet?: string;
  /** LANs, 1..4 (default 1): LAN k is bridge br<k>, interface eth<k> on every node, subnet's third octet + k */
  lans?: number;
  /** extra private directories, `PATH[:copy|:empty]` */
  private?: readonly string[];
  /** give every node its own copy of /etc/init.d */
  privateInitD?: boolean;
  /** keep IPv6 on the lab links (default off: quieter captures) */
  ipv6?: boolean;
  /** exact lab name (demo, CLI); default `hbl<pid36><rand4>` */
  name?: string;
  /** who makes it, shown by `npm run lab -- list` (default test) */
  purpose?: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
}

export class Lab {
  readonly labName: string;
  readonly stateDir: string;
  readonly nodes: number;
  readonly subnet: string;
  /** private directories of every node (absolute, canonical) */
  readonly privateDirs: readonly string[];
  private readonly aliases = hostAliases();
  private isDown = false;
  private readonly safetyNet = new SafetyNet(() => {
    if (this.isDown) return;
    this.isDown = true;
    destroyLab(this.labName);
  });

  private constructor(private readonly state: LabState) {
    this.labName = state.name;
    this.stateDir = stateDirOf(state.name);
    this.nodes = state.nodes;
    this.subnet = state.subnet;
    this.privateDirs = state.private.map((e) => parsePrivate(e).path);
  }

  /** Creates the lab: nodes 1..n and the client, all on one isolated bridge. On failure nothing is left. */
  static async up(opts: LabOptions): Promise<Lab> {
    const { nodes } = opts;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) throw new Error(`Lab.up: nodes must be 1..200, got ${nodes}`);
    const subnet = opts.subnet ?? DEFAULT_SUBNET;
    if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(subnet) || subnet.split('.').some((o) => Number(o) > 255)) {
      throw new Error(`Lab.up: subnet must be three octets, got ${subnet}`);
    }
    const lans = opts.lans ?? 1;
    if (!Number.isInteger(lans) || lans < 1 || lans > 4 || Number(subnet.split('.')[2]) + lans - 1 > 255) {
      throw new Error(`Lab.up: lans must be 1..4 and fit the subnet's third octet, got ${lans}`);
    }
    if (opts.name !== undefined && !LAB_NAME_RE.test(opts.name)) {
      throw new Error(`Lab.up: lab name must be 2-12 lower-case letters and digits, starting with a letter: ${opts.name}`);
    }
    const entries = privateEntries(opts.private ?? [], opts.privateInitD === true);
    sweepStale();
    const name = opts.name ?? newName();
    if (existsSync(stateDirOf(name)) || labNamespaces(name).length > 0) {
      throw new Error(`Lab.up: a lab named ${name} exists (${labHealth(name)}); remove it first (npm run lab -- down --name ${name})`);
    }
    mkdirSync(STATE_ROOT, { recursive: true, mode: 0o700 });
    const state: LabState = {
      version: 1, name, nodes, subnet, lans, ipv6: opts.ipv6 === true, private: entries, owner: currentOwner(), kept: false,
      purpose: opts.purpose ?? 'test', created: new Date().toISOString(), filters: noFilters(),
    };
    // the owner is on disk first, so a concurrent sweep never takes this lab for stale
    writeState(state);
    const lab = new Lab(state);
    lab.safetyNet.install();
    try {
      await lab.build();
    } catch (err) {
      const left = lab.downSync();
      const more = left.length > 0 ? `; cleanup also failed: ${left.join('; ')}` : '';
      throw new Error(`Lab.up(${nodes}) failed: ${(err as Error).message}${more}`);
    }
    return lab;
  }

  private async build(): Promise<void> {
    const s = this.state;
    const ids = allIds(s.nodes);
    await addNamespaces(s, ids);
    await seedPrivateDirs(s, ids);
    const hosts = writeHosts(s, ids);
    // inits before cables: each node turns IPv6 off before its eth0 arrives
    for (const id of ids) await startNodeInit(s, id, hosts);
    await wire(s, ids);
  }

  /** The lab named `name`, made earlier (by this or another process): for the CLI and `demo --down`. */
  static attach(name: string): Lab {
    const s = readState(name);
    if (s === undefined) throw new Error(`no lab named ${name} (no ${join(stateDirOf(name), 'lab.json')})`);
    return new Lab(s);
  }

  /** Removes labs whose owner is gone (a killed test run). Returns the names removed. */
  static sweepStale(): string[] {
    return sweepStale();
  }

  /** Marks the lab as left up on purpose: it outlives this process, no sweep removes it, `down` does. */
  keep(): void {
    this.state.kept = true;
    writeState(this.state);
    this.safetyNet.remove();
  }

  /** Hands the lab to another running process: it outlives this one, and a sweep removes it once that process is gone. */
  handOver(pid: number): void {
    const start = processStartTime(pid);
    if (start === undefined || !isRunning(pid)) throw new Error(`lab ${this.labName}: no process ${pid} to hand the lab to`);
    this.state.owner = { pid, start };
    this.state.kept = false;
    writeState(this.state);
    this.safetyNet.remove();
  }

  /** Makes this process the owner again (a kept lab being removed by the demo). */
  adopt(): void {
    this.state.owner = currentOwner();
    this.state.kept = false;
    writeState(this.state);
    this.safetyNet.install();
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

  private checkUp(): void {
    if (this.isDown) throw new Error(`lab ${this.labName} is down`);
  }

  /** IPv4 address of a node on LAN `lan` (interface eth<lan>). */
  ip(id: NodeId, lan = 0): string {
    this.checkId(id);
    this.checkLan(lan);
    return ipOf(this.subnet, id, lan);
  }

  /** Number of LANs (bridges) of the lab. */
  get lans(): number {
    return lansOf(this.state);
  }

  private checkLan(lan: number): void {
    if (!Number.isInteger(lan) || lan < 0 || lan >= this.lans) throw new Error(`lab ${this.labName}: LAN ${lan} out of range 0..${this.lans - 1}`);
  }

  /** Host name (uname -n) of a node: node1…, 'client' for 'c'. */
  name(id: NodeId): string {
    this.checkId(id);
    return hostnameOf(id);
  }

  /** Network namespace name of a node (for `ip netns exec`, tcpdump -i in it, …). */
  netns(id: NodeId): string {
    this.checkId(id);
    return nodeNs(this.labName, id);
  }

  /** Network namespace holding the bridge `br0` and the nodes' ports `p<i>`/`pc`. */
  get switchNetns(): string {
    return switchNs(this.labName);
  }

  /** Host PID of node id's init (PID 1 of its PID namespace; its /proc shows the node's namespaces). */
  initPid(id: NodeId): number | undefined {
    return initPid(this.labName, id === 'c' ? 'c' : Number(this.checkId(id)));
  }

  /**
   * Host path of node id's private copy of `p`. Throws unless p is inside a
   * private directory: anything else is the host's own file, shared by all.
   */
  path(id: NodeId, p: string): string {
    this.checkId(id);
    if (!p.startsWith('/')) throw new Error(`lab path must be absolute: ${p}`);
    let canon = posix.normalize(p);
    for (const [alias, real] of this.aliases) {
      if (canon === alias || canon.startsWith(`${alias}/`)) canon = real + canon.slice(alias.length);
    }
    const inside = this.privateDirs.some((d) => canon === d || canon.startsWith(`${d}/`));
    if (!inside) {
      throw new Error(`${p} is not private to lab nodes (private: ${this.privateDirs.join(' ')}); refusing a host path`);
    }
    return nodeRoot(this.labName, id) + canon;
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

  /** argv that runs a command in node id ('sw': the switch's network namespace); for callers that spawn it themselves. */
  enter(id: NodeId | 'sw', argv: readonly string[]): string[] {
    this.checkUp();
    if (id !== 'sw') this.checkId(id);
    return enterArgv(this.state, id, argv);
  }

  /** Environment of a command in node id (clean PATH, LAB_NODE…, then `extra`). */
  envFor(id: NodeId | 'sw', extra?: Record<string, string>): NodeJS.ProcessEnv {
    return nodeEnv(this.state, id, extra);
  }

  /** Runs argv in node id and waits for it. Rejects only on timeout (the whole process tree is killed). */
  async exec(id: NodeId, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const key = this.checkId(id);
    this.checkUp();
    if (argv.length === 0) throw new Error('lab.exec: empty argv');
    return runCommand(this.enter(id, argv), {
      env: this.envFor(id, opts.env),
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
    this.checkUp();
    if (argv.length === 0) throw new Error('lab.spawn: empty argv');
    return startInNode(id, key, argv, this.enter(id, argv), this.envFor(id, opts.env), opts);
  }

  /** Host PIDs of the processes in node id, its init excepted (optionally only those whose comm is `comm`). */
  async pids(id: NodeId, comm?: string): Promise<number[]> {
    this.checkId(id);
    const init = this.initPid(id);
    const all = pidsInNetns(join(NETNS_DIR, this.netns(id))).filter((p) => p !== init && isRunning(p));
    return comm === undefined ? all : all.filter((p) => commOf(p) === comm);
  }

  /** `ps` of the processes in node id (host PIDs). */
  async ps(id: NodeId): Promise<string> {
    const pids = await this.pids(id);
    if (pids.length === 0) return `(no processes in node ${this.checkId(id)})\n`;
    const r = await runCommand(['ps', '-o', 'pid,ppid,rss,etime,args', '-p', pids.join(',')], { timeoutMs: 20_000 });
    return r.stdout;
  }

  /** Network failure of node id: 'link' = switch port down (NO-CARRIER; on one LAN when given, else all), 'drop' = frames silently dropped. */
  async cut(id: NodeId, mode: 'link' | 'drop' = 'link', lan?: number): Promise<void> {
    const key = this.checkId(id);
    this.checkUp();
    if (lan !== undefined) this.checkLan(lan);
    if (mode === 'link') await setPorts(this.state, [id], false, lan);
    else await this.setFilters((f) => f.drop = [...new Set([...f.drop, key])]);
  }

  /** Undoes cut/loss of node id, or of every node and any partition. */
  async heal(id?: NodeId): Promise<void> {
    this.checkUp();
    const key = id === undefined ? undefined : this.checkId(id);
    await setPorts(this.state, id === undefined ? allIds(this.nodes) : [id], true);
    await this.setFilters((f) => healFilters(f, key));
  }

  /** Splits the LAN: frames between different groups are dropped; unlisted nodes reach everybody. */
  async partition(groups: ReadonlyArray<readonly NodeId[]>): Promise<void> {
    if (groups.length < 2) throw new Error('lab.partition: need at least two groups');
    const keys = groups.map((g) => g.map((id) => this.checkId(id)));
    await this.setFilters((f) => f.partition = keys);
  }

  /** Drops pct % of node id's frames at random, both ways (0 clears, 100 drops all). */
  async loss(id: NodeId, pct: number): Promise<void> {
    if (!Number.isInteger(pct) || pct < 0 || pct > 100) throw new Error(`lab.loss: pct must be 0..100, got ${pct}`);
    const key = this.checkId(id);
    await this.setFilters((f) => {
      if (pct === 0) delete f.loss[key];
      else f.loss[key] = pct;
    });
  }

  private async setFilters(change: (f: LabState['filters']) => void): Promise<void> {
    this.checkUp();
    await changeFilters(this.state, change);
  }

  /** Starts a background capture of lab traffic (on the bridge, or one node's port) into a host file. */
  async pcapStart(file: string, seconds = 300, filter: readonly string[] = [], port?: NodeId): Promise<void> {
    this.checkUp();
    const o: CaptureOptions = { seconds, filter, ...(port !== undefined ? { port } : {}) };
    await captureStart(this.labName, file, o);
  }

  /** Stops the background capture; the file is complete when this resolves. */
  async pcapStop(): Promise<void> {
    captureStop(this.labName);
  }

  /** Nodes, names, addresses, links, processes and filters (for failure messages and `npm run lab -- status`). */
  async status(): Promise<string> {
    this.checkUp();
    return describeLab(this, this.state);
  }

  /** Removes the lab completely; safe to call again, and after a failed `up`. */
  async down(): Promise<void> {
    const left = this.downSync();
    if (left.length > 0) throw new Error(`lab ${this.labName} down left traces: ${left.join('; ')}`);
  }

  /** `down` without waiting for the event loop (cleanup handlers); returns what could not be removed. */
  downSync(): string[] {
    if (this.isDown) return [];
    const left = destroyLab(this.labName);
    if (left.length === 0) {
      this.isDown = true;
      this.safetyNet.remove();
    }
    return left;
  }

  /** False once `down()` (or the safety net) removed the lab. */
  get isUp(): boolean {
    return !this.isDown;
  }
}
