/**
 * What every benchmark scenario shares: the run context (options, results,
 * cleanup, progress output) and a two-or-more-node cluster of one daemon
 * kind in its own lab, observed through node logs and the client probe.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from '../devtools/lab/cleanup.js';
import {
  type ClusterSpec, daemonPids, HA_LOG, installScripts, type Kind, logTail, startDaemon, type WebService, writeClusterConfig,
} from '../devtools/lab/hacluster.js';
import { Lab, REPO_ROOT } from '../devtools/lab/lab.js';
import { nowMs, sleep } from '../devtools/lab/proc.js';
import { ClientProbe, LogWatch } from '../devtools/lab/watch.js';
import type { Recorder } from './report.js';

export const VIP_HOST = 100;

/**
 * The group's service, as the issue names it: busybox httpd behind a small
 * init script, the same for every daemon. It answers as soon as its start
 * returns, so the figures measure the cluster, not a runtime's start-up.
 */
export const BENCH_WEB: WebService = { name: 'hb-bench-web', file: join(REPO_ROOT, 'bench/hb-bench-web') };

export interface BenchOptions {
  quick: boolean;
  reps: number;
  /** runs of the (long) sustained-deadtime ladder */
  reps4: number;
  only: readonly string[];
  outDir: string;
  /** experiment: heartbeat-ts moved back to SCHED_OTHER (chrt), as it ran before it applied `realtime` itself */
  oursNormalPriority: boolean;
  /** keepalived's VRRP process at SCHED_RR 1 with locked memory, as Heartbeat runs (default: as Debian ships it) */
  keepalivedRealtime: boolean;
}

export class BenchContext {
  constructor(
    readonly opts: BenchOptions,
    readonly rec: Recorder,
    readonly cleanup: Cleanup,
  ) {}

  say(text: string): void {
    const t = new Date().toISOString().slice(11, 19);
    process.stdout.write(`${t} ${text}\n`);
  }

  /** Creates a lab whose removal is guaranteed (also on Ctrl-C). */
  async lab(nodes: number): Promise<{ lab: Lab; release: () => void }> {
    // a failed up removes what it built itself
    const lab = await Lab.up({ nodes, purpose: 'bench' });
    const release = this.cleanup.add(`lab ${lab.labName}`, () => {
      const left = lab.downSync();
      if (left.length > 0) this.say(`cleanup of ${lab.labName} left traces: ${left.join('; ')}`);
    });
    return { lab, release };
  }
}

/** Timing settings as the table prints them. */
export function settingLabel(keepaliveMs: number, deadtimeMs: number): string {
  const t = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  return `keepalive ${t(keepaliveMs)} / deadtime ${t(deadtimeMs)}`;
}

/** The two-node service group every resource scenario uses. */
export function serviceSpec(lab: Lab, keepaliveMs: number, deadtimeMs: number, autoFailback = true): ClusterSpec {
  return {
    nodes: 2,
    keepaliveMs,
    deadtimeMs,
    initdeadMs: Math.max(10_000, 2 * deadtimeMs),
    autoFailback,
    auth: 'sha1',
    haresources: `node1 IPaddr::${lab.subnet}.${VIP_HOST}/24/eth0 ${BENCH_WEB.name}\n`,
    // heartbeat-ts's own file, the same on every node (3.0.6 never reads it): fast_start is on with it
    hbtsCf: '# heartbeat-ts extensions (bench): fast_start on by default\n',
  };
}

/** Every thread of every heartbeat-ts daemon of the lab to SCHED_RR 1 (what Heartbeat does to itself). */
async function normalPriority(lab: Lab): Promise<void> {
  for (const i of lab.ids()) {
    for (const pid of await daemonPids(lab, i, 'ours')) {
      const r = spawnSync('chrt', ['-a', '-o', '-p', '0', String(pid)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`chrt -a -o -p 0 ${pid}: ${r.stderr.trim()}`);
    }
  }
}

/** Beyond these the machine is drowning (a cluster in a restart storm): the lab is removed at once. */
const MAX_TASKS = 1500;
const MAX_RUNNABLE_PER_CPU = 50;

/** Runnable threads right now (/proc/loadavg's 4th field), not a decaying average. */
function runnable(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[0] ?? 0);
  } catch {
    return 0;
  }
}

/** How long a daemon advertises its raised start-up dead time (spec: status `dt`). */
const START_DEADTIME_BONUS_FOR_MS = 5000;

const pidDirs = (): string[] => readdirSync('/proc').filter((e) => e.charCodeAt(0) >= 48 && e.charCodeAt(0) <= 57);

const hostTasks = (): number => pidDirs().length;

/** The commands with the most processes on the host ("heartbeat 1380, sh 40"): what a storm is made of. */
function busiestCommands(top = 4): string {
  const count = new Map<string, number>();
  for (const p of pidDirs()) {
    let comm = '?';
    try {
      comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
    } catch { /* gone meanwhile */ }
    count.set(comm, (count.get(comm) ?? 0) + 1);
  }
  return [...count].sort((a, b) => b[1] - a[1]).slice(0, top).map(([c, n]) => `${c} ${n}`).join(', ');
}

/**
 * The bench's main thread (its lab watchdog) at SCHED_RR 2, above the
 * daemons' SCHED_RR 1: a storm of realtime Heartbeat processes once starved
 * it, and the lab it should have removed took the machine down. Only for
 * scenarios that measure CPU time, not latency. Returns the undo.
 */
export function watchdogAboveDaemons(ctx: BenchContext): () => void {
  const set = (args: string[]): boolean => spawnSync('chrt', [...args, String(process.pid)], { encoding: 'utf8' }).status === 0;
  if (!set(['-r', '-p', '2'])) {
    ctx.say('  (could not raise the bench watchdog to SCHED_RR 2: it may starve under a storm)');
    return () => undefined;
  }
  return () => {
    set(['-o', '-p', '0']);
  };
}

/** A started cluster: lab, per-node log watchers, the client probe. */
export class BenchCluster {
  readonly logs: LogWatch[];
  /** why the watchdog removed the lab, if it did */
  tripped: string | undefined;
  /** when every daemon had started (start() returned) */
  runningSince = 0;
  private readonly watchdog: NodeJS.Timeout;
  private constructor(
    readonly lab: Lab,
    readonly kind: Kind,
    readonly probe: ClientProbe | undefined,
    readonly tStart: number,
    private readonly release: () => void,
  ) {
    this.logs = lab.ids().map((i) => new LogWatch(lab.path(i, HA_LOG), { fromStart: true, pollMs: 250 }));
    // A run must never take the (shared) machine down with it: 32 real Heartbeat
    // nodes starting at once on 2 cores went into a fork storm (load > 3000).
    let strikes = 0;
    this.watchdog = setInterval(() => {
      const tasks = hostTasks();
      const run = runnable();
      strikes = tasks > MAX_TASKS || run > MAX_RUNNABLE_PER_CPU * cpus().length ? strikes + 1 : 0;
      if (strikes < 2) return; // two checks in a row: a burst of script runs is not a storm
      this.tripped = `machine overloaded (${tasks} processes, ${run} runnable; most: ${busiestCommands()}): lab removed`;
      this.destroy();
    }, 2000);
    this.watchdog.unref();
  }

  /**
   * Steady state before a crash: at least `minMs` from now, and past the first
   * 5 s after start, during which every daemon (3.0.6 as well) advertises its
   * dead time + 2 s — with fast start the service answers well within them,
   * and a crash there would measure the start-up dead time.
   */
  async settle(keepaliveMs: number, minMs: number): Promise<void> {
    const bonusOver = this.runningSince + START_DEADTIME_BONUS_FOR_MS + 2 * keepaliveMs + 500;
    await sleep(Math.max(minMs, bonusOver - nowMs()));
  }

  get vip(): string {
    return `${this.lab.subnet}.${VIP_HOST}`;
  }

  /**
   * Lab, configuration, scripts, probe; then every node's daemon started at
   * once (tStart = just before). `spec` gets the lab to place the VIP.
   */
  static async start(
    ctx: BenchContext,
    kind: Kind,
    nodes: number,
    spec: (lab: Lab) => ClusterSpec,
    probe: { httpIntervalMs?: number; udp?: boolean } = {},
    /** start the daemons this many at a time (default: all at once) */
    batch = Infinity,
    /** and wait this long between batches */
    batchPauseMs = 0,
  ): Promise<BenchCluster> {
    const { lab, release } = await ctx.lab(nodes);
    let c: BenchCluster | undefined;
    try {
      writeClusterConfig(lab, spec(lab));
      for (const i of lab.ids()) installScripts(lab, i, kind, BENCH_WEB);
      let p: ClientProbe | undefined;
      if (probe.httpIntervalMs !== undefined || probe.udp === true) {
        p = await ClientProbe.start(lab, {
          ...(probe.httpIntervalMs !== undefined ? { url: `http://${lab.subnet}.${VIP_HOST}/`, intervalMs: probe.httpIntervalMs, timeoutMs: 300 } : {}),
          ...(probe.udp === true ? { udpPort: 694, keepUdp: true } : {}),
        });
      }
      const tStart = nowMs();
      c = new BenchCluster(lab, kind, p, tStart, release);
      const ids = lab.ids();
      for (let k = 0; k < ids.length; k += batch) {
        if (c.tripped !== undefined) throw new Error(c.tripped);
        await Promise.all(ids.slice(k, k + batch).map((i) => startDaemon(lab, i, kind)));
        if (k + batch < ids.length) await sleep(batchPauseMs);
      }
      if (kind === 'ours' && ctx.opts.oursNormalPriority) await normalPriority(lab);
      c.runningSince = nowMs();
      return c;
    } catch (err) {
      if (c !== undefined) c.destroy();
      else release();
      throw err;
    }
  }

  /** Throws when the watchdog removed the lab (call between steps of a long wait). */
  check(): void {
    if (this.tripped !== undefined) throw new Error(this.tripped);
  }

  log(i: number): LogWatch {
    const w = this.logs[i - 1];
    if (w === undefined) throw new Error(`no node${i}`);
    return w;
  }

  /** Last lines of every node's log, for failure messages. */
  tails(lines = 8): string {
    return this.lab.ids().map((i) => `--- node${i} (${this.kind}) ---\n${logTail(this.lab, i, lines)}`).join('\n');
  }

  destroy(): void {
    clearInterval(this.watchdog);
    this.probe?.stop();
    for (const w of this.logs) w.close();
    this.release();
  }
}

/** Runs fn for each repetition and daemon kind, alternating kinds; failures are recorded, not fatal. */
export async function repeat(
  ctx: BenchContext,
  scenario: string,
  reps: number,
  fn: (kind: Kind, rep: number) => Promise<void>,
): Promise<void> {
  for (let rep = 1; rep <= reps; rep++) {
    for (const kind of ['real', 'ours'] as const) {
      try {
        await fn(kind, rep);
      } catch (err) {
        ctx.say(`  ${scenario} rep ${rep} ${kind}: FAILED: ${(err as Error).message.split('\n')[0] ?? ''}`);
        ctx.rec.failure(scenario, `rep ${rep} ${kind}`, err);
      }
    }
  }
}
