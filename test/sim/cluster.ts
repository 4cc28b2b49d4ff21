/**
 * Whole heartbeat clusters in memory: each node is assembled by the same
 * function the daemon uses (lib/node/assemble.ts, through NodeRuntime for
 * start, shutdown and restarts) and runs on one manual clock over a
 * simulated segment; resource scripts only record what runs on each
 * machine. Minutes of cluster life take milliseconds.
 */
import { parseAuthKeys } from '../../lib/config/authkeys.js';
import { parseHaCf } from '../../lib/config/hacf.js';
import { parseHaResources } from '../../lib/config/haresources.js';
import type { MonitorSpec } from '../../lib/config/hbts-cf.js';
import type { AuthKeys, HaConfig, ResourceGroup } from '../../lib/config/types.js';
import type { Cluster } from '../../lib/membership/cluster.js';
import { MemoryStateStore } from '../../lib/membership/state-files.js';
import { NodeRuntime } from '../../lib/node/runtime.js';
import type { ResourceController } from '../../lib/resources/controller.js';
import type { Fencer } from '../../lib/resources/fencing.js';
import { ManualClock } from '../../lib/util/clock.js';
import type { LogLevel, Logger } from '../../lib/util/log.js';
import { SimNetwork, seededRandom } from './network.js';
import { SimMachine, SimScripts } from './scripts.js';

export interface SimOptions {
  nodes: string[];
  /** haresources text (every node has the same). */
  haresources: string;
  autoFailback?: 'on' | 'off' | 'legacy';
  /** Extra ha.cf lines. */
  hacfExtra?: string;
  seed?: number;
  /** heartbeat-ts.cf monitor lines (every node has the same); absent: no file, 3.0.6's behaviour. */
  monitors?: MonitorSpec[];
  /** heartbeat-ts.cf `quorum` (every node the same); absent: off. */
  quorum?: 'off' | 'majority';
  /** STONITH device of each node (absent: none configured). */
  fencer?: (node: string) => Fencer;
  /** heartbeat-ts.cf `fast_start` per node (true: the node skips RQSTDELAY when all do). */
  fastStart?: (name: string) => boolean;
}

export interface LogEntry {
  t: number;
  node: string;
  line: string;
}

const WORDS: Record<LogLevel, string> = { emerg: 'EMERG', alert: 'ALERT', crit: 'CRIT', error: 'ERROR', warn: 'WARN', notice: 'notice', info: 'info', debug: 'debug' } as Record<LogLevel, string>;

/** A logger that stamps every line with the simulated time and the node. */
function simLogger(clock: ManualClock, node: string, timeline: LogEntry[]): Logger {
  const push = (word: string, msg: string): void => void timeline.push({ t: clock.nowMs(), node, line: `${word}: ${msg}` });
  const make = (): Logger => ({
    log: (level, msg) => push(WORDS[level] ?? String(level), msg),
    emerg: (msg) => push('EMERG', msg),
    crit: (msg) => push('CRIT', msg),
    error: (msg) => push('ERROR', msg),
    warn: (msg) => push('WARN', msg),
    notice: (msg) => push('notice', msg),
    info: (msg) => push('info', msg),
    debug: () => undefined,
    child: () => make(),
    script: () => make(),
  });
  return make();
}

interface SimNode {
  runtime: NodeRuntime;
  store: MemoryStateStore;
}

/** The ha.cf of the simulated clusters and of the unit tests built on them (1 s keepalive, 5 s deadtime). */
export function simHaCf(nodes: readonly string[], autoFailback = 'on'): string {
  return `keepalive 1\ndeadtime 5\nwarntime 3\ninitdead 10\nbcast eth0\nnode ${nodes.join(' ')}\nauto_failback ${autoFailback}\n`;
}

export class SimCluster {
  readonly clock = new ManualClock();
  readonly net: SimNetwork;
  readonly timeline: LogEntry[] = [];
  private readonly machines = new Map<string, SimMachine>();
  private readonly running = new Map<string, SimNode>();
  private readonly stores = new Map<string, MemoryStateStore>();
  private readonly keys: AuthKeys;
  private readonly groups: ResourceGroup[];
  private readonly seed: number;

  constructor(private readonly o: SimOptions) {
    this.seed = o.seed ?? 1;
    this.net = new SimNetwork(this.clock, this.seed);
    const keys = parseAuthKeys('auth 1\n1 sha1 simulated\n', { file: 'authkeys', mode: 0o100600 }).value;
    if (!keys) throw new Error('authkeys');
    this.keys = keys;
    const groups = parseHaResources(o.haresources, { file: 'haresources', nodes: o.nodes });
    if (!groups.value) throw new Error(JSON.stringify(groups.problems));
    this.groups = groups.value;
    o.nodes.forEach((n, i) => {
      this.machines.set(n, new SimMachine(n));
      this.stores.set(n, new MemoryStateStore(Buffer.alloc(16, i + 1), 100 * (i + 1)));
    });
  }

  config(name: string): HaConfig {
    const text = simHaCf(this.o.nodes, this.o.autoFailback ?? 'on') + (this.o.hacfExtra ?? '');
    const r = parseHaCf(text, { file: 'ha.cf', nodename: name });
    if (!r.value) throw new Error(JSON.stringify(r.problems));
    return r.value;
  }

  machine(name: string): SimMachine {
    const m = this.machines.get(name);
    if (!m) throw new Error(`no machine ${name}`);
    return m;
  }

  /** Starts heartbeat on `name` (a new generation, as after any start). */
  async start(name: string): Promise<void> {
    const machine = this.machine(name);
    const store = this.stores.get(name) as MemoryStateStore;
    const runtime = new NodeRuntime({
      parts: {
        config: this.config(name),
        keys: this.keys,
        groups: this.groups,
        nodename: name,
        media: () => [this.net.medium(name)],
        clock: this.clock,
        log: simLogger(this.clock, name, this.timeline),
        store,
        scripts: new SimScripts(machine, this.clock),
        ...(this.o.monitors ? { monitors: this.o.monitors } : {}),
        ...(this.o.quorum ? { quorum: this.o.quorum } : {}),
        ...(this.o.fastStart ? { fastStart: this.o.fastStart(name) } : {}),
        ...(this.o.fencer ? { fencer: this.o.fencer(name) } : {}),
        random: seededRandom(this.seed * 31 + this.o.nodes.indexOf(name)),
      },
      attachments: () => [],
      pid: 1000 + this.o.nodes.indexOf(name),
    });
    await runtime.start();
    this.running.set(name, { runtime, store });
  }

  /** The process dies (kill -9): nothing is released, nothing more is sent. */
  async crash(name: string): Promise<void> {
    const node = this.running.get(name);
    if (!node) return;
    this.running.delete(name);
    node.runtime.current?.resources?.halt();
    await node.runtime.current?.messaging.stop();
  }

  /** Graceful stop (SIGTERM); resolves once the node has stopped, time running meanwhile. */
  async shutdown(name: string, maxMs = 120_000): Promise<void> {
    const node = this.running.get(name);
    if (!node) return;
    let done = false;
    void node.runtime.exited.then(() => { done = true; });
    node.runtime.shutdown();
    await this.until(`${name} stopped`, () => done, maxMs);
    this.running.delete(name);
  }

  /** Lets simulated time pass. */
  async run(ms: number): Promise<void> {
    await this.clock.advanceAsync(ms);
  }

  /**
   * Runs simulated time until `cond` holds; returns how long that took.
   * Deterministic: no real waiting, the bound is simulated time.
   */
  async until(what: string, cond: () => boolean, maxMs = 120_000, stepMs = 50): Promise<number> {
    const start = this.clock.nowMs();
    while (!cond()) {
      if (this.clock.nowMs() - start > maxMs) throw new Error(`${what}: not reached within ${maxMs} ms of simulated time`);
      await this.clock.advanceAsync(stepMs);
    }
    return this.clock.nowMs() - start;
  }

  cluster(name: string): Cluster {
    const c = this.running.get(name)?.runtime.current?.messaging.cluster;
    if (!c) throw new Error(`${name} is not running`);
    return c;
  }

  controller(name: string): ResourceController {
    const c = this.running.get(name)?.runtime.current?.resources?.controller;
    if (!c) throw new Error(`${name} manages no resources now`);
    return c;
  }

  runtime(name: string): NodeRuntime | undefined {
    return this.running.get(name)?.runtime;
  }

  generation(name: string): number {
    return (this.stores.get(name) as MemoryStateStore).generation;
  }

  /** Machines where resource `spec` runs now. */
  holders(spec: string): string[] {
    return [...this.machines.values()].filter((m) => m.holds(spec)).map((m) => m.name);
  }

  /** Log lines of one node (without the time stamp). */
  lines(name: string): string[] {
    return this.timeline.filter((e) => e.node === name).map((e) => e.line);
  }

  /** Simulated time of the first line of `name` matching `pattern` at or after `from`. */
  when(name: string, pattern: string | RegExp, from = 0): number | undefined {
    const match = (l: string): boolean => (typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l));
    return this.timeline.find((e) => e.node === name && e.t >= from && match(e.line))?.t;
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.running.keys()]) await this.crash(name);
  }
}
