/**
 * Scenario 5: what a node costs when nothing happens — CPU (% of one core)
 * and memory over a window, for 2 nodes and for 8, 16 and 32 nodes on
 * bcast (how it grows with cluster size) — and then how long it takes every
 * survivor to agree that a killed node is dead.
 */
import { crashDaemon, daemonPids, type ClusterSpec, type Kind } from '../devtools/lab/hacluster.js';
import { nowMs, sleep } from '../devtools/lab/proc.js';
import { type BenchContext, BenchCluster, watchdogAboveDaemons } from './cluster.js';
import { keepalivedIdle } from './ka-idle.js';
import { usageOver } from './usage.js';
import { fmt } from './report.js';

function spec(n: number): ClusterSpec {
  return { nodes: n, keepaliveMs: 1000, deadtimeMs: 5000, initdeadMs: 30_000, autoFailback: false, auth: 'sha1', haresources: '' };
}

export async function idleCost(ctx: BenchContext): Promise<void> {
  const sizes = ctx.opts.quick ? [2, 8] : [2, 8, 16, 32];
  const windowMs = ctx.opts.quick ? 15_000 : 60_000;
  const restorePriority = watchdogAboveDaemons(ctx);
  try {
    await idleSizes(ctx, sizes, windowMs);
  } finally {
    restorePriority();
  }
}

async function idleSizes(ctx: BenchContext, sizes: readonly number[], windowMs: number): Promise<void> {
  const sc = 'idle';
  for (const n of sizes) {
    // at 2 nodes keepalived runs beside (advert_int 1 s: its keepalive), in the same row
    const setting = `${n} nodes, bcast, keepalive 1s / deadtime 5s${n === 2 ? `; keepalived advert_int 1s, unicast${ctx.opts.keepalivedRealtime ? ', realtime' : ''}` : ''}, ${windowMs / 1000} s window`;
    const runs = n === 2 ? (ctx.opts.quick ? 2 : ctx.opts.reps) : 1;
    const kills = n === 2 ? 1 : Math.min(ctx.opts.quick ? 2 : 5, n - 2);
    for (let run = 1; run <= runs; run++) {
      for (const kind of ['real', 'ours'] as const) {
        ctx.say(`[5] idle cost, ${n} nodes, ${kind}, run ${run}/${runs}`);
        const add = (metric: string, unit: string, v: number): void =>
          ctx.rec.add({ scenario: sc, metric, setting, daemon: kind, unit, better: 'lower' }, v);
        let c: BenchCluster | undefined;
        try {
          // in batches of 4, 2 s apart: 32 real Heartbeat nodes started at once set off a fork storm on 2 cores
          c = await BenchCluster.start(ctx, kind, n, () => spec(n), { udp: true }, 4, n > 8 ? 2000 : 0);
          const cl = c;
          await Promise.all(cl.lab.ids().map((i) => cl.log(i).wait(/Comm_now_up/, { timeoutMs: 120_000 })));
          // past the startup negotiation (RQSTDELAY 10 s) and its garbage: steady state only
          await sleep(15_000);
          const cpuPct = await usageOver(cl.lab.ids(), (i) => daemonPids(cl.lab, i, kind), windowMs, add);
          const avg = cpuPct.reduce((s, x) => s + x, 0) / Math.max(1, cpuPct.length);
          ctx.say(`  CPU per node: mean ${avg.toFixed(3)} % over ${cpuPct.length} nodes`);
          // Kill nodes one at a time, highest first; every survivor must log it dead.
          for (let k = 0; k < kills; k++) {
            const victim = n - k;
            const survivors = cl.lab.ids().filter((i) => i < victim);
            const marks = survivors.map((i) => cl.log(i).mark());
            const { t: tKill } = await crashDaemon(cl.lab, victim, kind);
            const re = new RegExp(`node node${victim}: is dead`);
            const seen = await Promise.all(survivors.map((i, j) => cl.log(i).wait(re, { from: marks[j] ?? 0, timeoutMs: 30_000 })));
            const last = Math.max(...seen.map((l) => l.t));
            add('kill → every survivor says "is dead"', 'ms', last - tKill);
            const heard = (cl.probe?.udp.get(cl.lab.ip(victim)) ?? []).filter((t) => t <= tKill + 2);
            const lastHb = heard[heard.length - 1];
            if (lastHb !== undefined) add('last heartbeat → every survivor says "is dead"', 'ms', last - lastHb);
            ctx.say(`  node${victim} killed: all ${survivors.length} survivors agree after ${fmt(last - tKill, 'ms')} (spread ${fmt(last - Math.min(...seen.map((l) => l.t)), 'ms')})`);
            await sleep(1000);
          }
        } catch (err) {
          const why = c?.tripped ?? (err as Error).message;
          ctx.say(`  FAILED: ${why.split('\n')[0] ?? ''}`);
          ctx.rec.failure(sc, `${n} nodes ${kind} run ${run}`, c?.tripped !== undefined ? why : `${why}\n${c?.tails(5) ?? ''}`);
        } finally {
          c?.destroy();
        }
      }
    }
    if (n === 2) await keepalivedIdle(ctx, setting, runs, windowMs);
    if (n === 2) {
      const ours = ctx.rec.median(sc, 'CPU per node (% of one core)', setting, 'ours');
      ctx.rec.target({
        scenario: sc,
        target: 'idle CPU under 0.5 % of a core per node at keepalive 1 s (2 nodes)',
        figure: ours === undefined ? 'no data' : `heartbeat-ts median ${ours.toFixed(3)} %`,
        met: ours === undefined ? undefined : ours < 0.5,
      });
    }
  }
}
