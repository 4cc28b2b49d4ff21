/**
 * Scenario 4: the smallest deadtime each daemon sustains without a false
 * `is dead`, idle and with both cores loaded by a CPU burner.
 *
 * A ladder of deadtimes (keepalive = deadtime / 4) runs at once: one
 * two-node cluster per (deadtime, daemon), all in their own labs, held for
 * the whole window (5 min; 30 s with --quick). Any `node X: is dead` logged
 * after both nodes were up is a false death. The figure is the smallest
 * deadtime of the ladder with none (and none at any larger deadtime).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { ClusterSpec, Kind } from '../devtools/lab/hacluster.js';
import { nowMs, signalAll, sleep } from '../devtools/lab/proc.js';
import type { TimedLine } from '../devtools/lab/watch.js';
import { type BenchContext, BenchCluster } from './cluster.js';
import { fmt } from './report.js';

export const FULL_LADDER = [1000, 500, 300, 200, 150, 100, 70, 50, 30];
export const QUICK_LADDER = [500, 200, 100, 50];

/** A ladder rung's two-node cluster: keepalive = deadtime / 4, no resources. */
export function ladderSpec(dt: number): ClusterSpec {
  return {
    nodes: 2,
    keepaliveMs: Math.max(10, Math.round(dt / 4)),
    deadtimeMs: dt,
    initdeadMs: 10_000,
    autoFailback: false,
    auth: 'sha1',
    haresources: '',
  };
}

/** One busy-looping process per core, on the host, at normal priority; returns a stopper. */
export function startBurners(ctx: BenchContext): () => void {
  const pids: number[] = [];
  for (let k = 0; k < cpus().length; k++) {
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore', detached: true });
    if (child.pid !== undefined) pids.push(child.pid);
    child.unref();
  }
  return ctx.cleanup.add(`CPU burners ${pids.join(' ')}`, () => {
    signalAll(pids, 'SIGKILL');
  });
}

interface Rung {
  dt: number;
  kind: Kind;
  cluster: BenchCluster;
  from: number[];
  /** counts when the rung was stopped at its first false death */
  frozen?: { deaths: number; late: number };
}

/** A stopped rung's counts, or the running rung's since the window began. */
function rungCounts(r: Rung): { deaths: number; late: number } {
  if (r.frozen !== undefined) return r.frozen;
  let deaths = 0;
  let late = 0;
  for (const i of [1, 2]) {
    const lines = r.cluster.log(i).lines.slice(r.from[i - 1] ?? 0);
    deaths += lines.filter((l) => /node node\d+: is dead/.test(l.text)).length;
    late += lines.filter((l) => /Late heartbeat/.test(l.text)).length;
  }
  return { deaths, late };
}

/**
 * Keeps a failed rung's logs (every line since its daemons started, each
 * with the moment the bench read it) under the results directory, in
 * ladder-logs/: the lab goes with the rung, and a false death is only
 * understood from the lines around it.
 */
export function keepRungLogs(
  ctx: { opts: { outDir: string }; say(line: string): void },
  name: string,
  nodes: ReadonlyArray<{ lines: readonly TimedLine[] }>,
): void {
  const dir = join(ctx.opts.outDir, 'ladder-logs');
  try {
    mkdirSync(dir, { recursive: true });
    nodes.forEach((n, k) => {
      const text = n.lines.map((l) => `${new Date(l.t).toISOString()} ${l.text}\n`).join('');
      writeFileSync(join(dir, `${name}-node${k + 1}.log`), text);
    });
  } catch (err) {
    ctx.say(`  (could not keep the logs of ${name}: ${(err as Error).message})`);
  }
}

/** What a ladder rung needs for holdLadder. */
export interface LadderRung {
  /** its logs' name in ladder-logs/ */
  readonly name: string;
  failures(): number;
  /** the nodes' log lines, kept when the rung fails */
  logs(): ReadonlyArray<{ lines: readonly TimedLine[] }>;
  /** stops the rung for good, its count kept */
  retire(): void;
}

/**
 * Holds the window. A rung is decided (failed) at its first false takeover,
 * and from then on it only restarts and fails over: it is stopped then, so
 * that its churn does not load the machine every other rung shares (the
 * lowest rungs fail within seconds, for every daemon), and its logs are kept.
 */
export async function holdLadder(ctx: BenchContext, rungs: readonly LadderRung[], windowMs: number): Promise<void> {
  const live = new Set(rungs);
  const t0 = nowMs();
  while (nowMs() - t0 < windowMs) {
    await sleep(1000);
    for (const r of live) {
      if (r.failures() === 0) continue;
      keepRungLogs(ctx, r.name, r.logs());
      r.retire();
      live.delete(r);
    }
  }
}

export async function sustainedDeadtime(ctx: BenchContext): Promise<void> {
  const sc = 'deadtime';
  const ladder = ctx.opts.quick ? QUICK_LADDER : FULL_LADDER;
  const windowMs = ctx.opts.quick ? 30_000 : 300_000;
  const runs = ctx.opts.quick ? 1 : Math.max(1, ctx.opts.reps4);
  for (const load of ['idle', 'both cores loaded'] as const) {
    const rt = ctx.opts.oursNormalPriority ? ', heartbeat-ts at normal priority (chrt -o)' : '';
    const setting = `${load}, ${fmt(windowMs, 'ms')} per run, keepalive = deadtime/4${rt}`;
    for (let run = 1; run <= runs; run++) {
      ctx.say(`[4] sustained deadtime, ${load}, run ${run}/${runs}: ladder ${ladder.join(' ')} ms, ${windowMs / 1000} s`);
      const rungs: Rung[] = [];
      let stopBurners: (() => void) | undefined;
      try {
        for (const dt of ladder) {
          for (const kind of ['real', 'ours'] as const) {
            const cluster = await BenchCluster.start(ctx, kind, 2, () => ladderSpec(dt));
            rungs.push({ dt, kind, cluster, from: [] });
          }
        }
        // Count only after both nodes of every cluster are up (initdead and comm-up are not the point).
        for (const r of rungs) {
          await Promise.all([1, 2].map((i) => r.cluster.log(i).wait(/Comm_now_up/, { timeoutMs: 60_000 })));
        }
        await sleep(2000);
        for (const r of rungs) r.from = [1, 2].map((i) => r.cluster.log(i).mark());
        if (load !== 'idle') stopBurners = startBurners(ctx);
        await holdLadder(ctx, rungs.map((r) => ({
          name: `deadtime-${load === 'idle' ? 'idle' : 'loaded'}-run${run}-${r.kind}-${r.dt}ms`,
          failures: () => rungCounts(r).deaths,
          logs: () => [1, 2].map((i) => r.cluster.log(i)),
          retire: () => {
            r.frozen = rungCounts(r);
            r.cluster.destroy();
          },
        })), windowMs);
        stopBurners?.();
        stopBurners = undefined;
        const byKind = new Map<Kind, Array<{ dt: number; deaths: number; late: number }>>();
        for (const r of rungs) {
          const list = byKind.get(r.kind) ?? [];
          list.push({ dt: r.dt, ...rungCounts(r) });
          byKind.set(r.kind, list);
        }
        for (const [kind, list] of byKind) {
          list.sort((a, b) => b.dt - a.dt);
          let smallest: number | undefined;
          for (const x of list) {
            if (x.deaths > 0) break;
            smallest = x.dt;
          }
          const detail = list.map((x) => `${x.dt}ms:${x.deaths}dead/${x.late}late`).join(' ');
          const bottom = smallest !== undefined && smallest === ladder[ladder.length - 1] ? ' (the lowest rung: the limit may be lower)' : '';
          ctx.say(`  ${kind.padEnd(4)}: smallest sustained ${smallest === undefined ? 'none' : `${smallest} ms`}${bottom} (${detail})`);
          ctx.rec.note(`deadtime ${load} run ${run} ${kind}: ${detail}${bottom}`);
          if (smallest !== undefined) {
            ctx.rec.add({ scenario: sc, metric: 'smallest deadtime without a false "is dead"', setting, daemon: kind, unit: 'ms', better: 'lower' }, smallest);
          } else {
            ctx.rec.failure(sc, `${load} run ${run} ${kind}`, `false deaths even at ${list[0]?.dt ?? '?'} ms`);
          }
        }
      } finally {
        stopBurners?.();
        for (const r of rungs) r.cluster.destroy();
      }
    }
    const ours = ctx.rec.series(sc, 'smallest deadtime without a false "is dead"', setting, 'ours')?.samples ?? [];
    if (load !== 'idle') {
      const worst = ours.length === 0 ? undefined : Math.max(...ours);
      ctx.rec.target({
        scenario: sc,
        target: 'a sustained deadtime of 200 ms or less under load',
        figure: worst === undefined ? 'no data' : `heartbeat-ts sustains ${worst} ms (worst run)`,
        met: worst === undefined ? undefined : worst <= 200,
      });
    }
  }
}

