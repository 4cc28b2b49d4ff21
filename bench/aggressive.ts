/**
 * Scenario 8: crash → VIP at the most aggressive setting each daemon holds
 * with both cores loaded — Heartbeat 3.0.6, heartbeat-ts and keepalived 2.2
 * (VRRPv3) side by side.
 *
 * First a ladder, all rungs at once, each a two-node pair in its own lab, for
 * 10 minutes (60 s with --quick) with a CPU burner per core: Heartbeat at
 * deadtime D (keepalive D/4, as scenario 4), keepalived at the advert_int
 * whose master-down interval is closest to D. A false takeover is an
 * `is dead` line (Heartbeat) or node2 entering MASTER state (keepalived).
 * The smallest rung with none (and none above it) is the daemon's setting;
 * then, still loaded, the crash of scenario 7 is measured at it.
 */
import { MASTER_RE, masterDownMs, vrrpPriority } from '../devtools/lab/keepalived.js';
import { sleep } from '../devtools/lab/proc.js';
import type { TimedLine } from '../devtools/lab/watch.js';
import { type BenchContext, BenchCluster } from './cluster.js';
import { FULL_LADDER, holdLadder, ladderSpec, QUICK_LADDER, startBurners } from './deadtime.js';
import { advertFor, KaCluster } from './ka-cluster.js';
import { type Daemon, fmt } from './report.js';
import { crashOnce, M_CRASH, recordCrash } from './vip.js';

const DAEMONS: readonly Daemon[] = ['real', 'ours', 'keepalived'];
export const M_HELD = 'most aggressive setting held: deadtime (keepalived: master-down interval)';

/** One rung: a running pair and how to count its false takeovers since `arm`. */
interface Rung {
  dt: number;
  daemon: Daemon;
  arm(): void;
  falseTakeovers(): number;
  /** the nodes' log lines, kept when the rung fails */
  logs(): ReadonlyArray<{ lines: readonly TimedLine[] }>;
  destroy(): void;
}

async function startRung(ctx: BenchContext, daemon: Daemon, dt: number): Promise<Rung> {
  if (daemon === 'keepalived') {
    const c = await KaCluster.start(ctx, 2, advertFor(dt));
    let from = 0;
    return {
      dt, daemon,
      arm: () => { from = c.node(2).lines.length; },
      falseTakeovers: () => c.node(2).lines.slice(from).filter((l) => MASTER_RE.test(l.text)).length,
      logs: () => [c.node(1), c.node(2)],
      destroy: () => c.destroy(),
    };
  }
  const c = await BenchCluster.start(ctx, daemon, 2, () => ladderSpec(dt));
  await Promise.all([1, 2].map((i) => c.log(i).wait(/Comm_now_up/, { timeoutMs: 120_000 })));
  let from = [0, 0];
  return {
    dt, daemon,
    arm: () => { from = [1, 2].map((i) => c.log(i).mark()); },
    falseTakeovers: () => [1, 2].reduce((n, i) => n + c.log(i).lines.slice(from[i - 1] ?? 0).filter((l) => /node node\d+: is dead/.test(l.text)).length, 0),
    logs: () => [c.log(1), c.log(2)],
    destroy: () => c.destroy(),
  };
}

/** The deadtime of the smallest rung that held, per daemon (undefined: not even the largest). */
async function ladder(ctx: BenchContext, steps: readonly number[], windowMs: number): Promise<Map<Daemon, number | undefined>> {
  const rungs: Rung[] = [];
  let stopBurners: (() => void) | undefined;
  const held = new Map<Daemon, number | undefined>();
  try {
    for (const dt of steps) for (const d of DAEMONS) rungs.push(await startRung(ctx, d, dt));
    await sleep(2000); // past keepalived's first election and Heartbeat's comm-up
    for (const r of rungs) r.arm();
    stopBurners = startBurners(ctx);
    const frozen = new Map<Rung, number>();
    const count = (r: Rung): number => frozen.get(r) ?? r.falseTakeovers();
    await holdLadder(ctx, rungs.map((r) => ({
      name: `aggressive-${r.daemon}-${r.dt}ms`,
      failures: () => count(r),
      logs: () => r.logs(),
      retire: () => {
        frozen.set(r, r.falseTakeovers());
        r.destroy();
      },
    })), windowMs);
    for (const d of DAEMONS) {
      const mine = rungs.filter((r) => r.daemon === d).sort((a, b) => b.dt - a.dt);
      let smallest: number | undefined;
      for (const r of mine) {
        if (count(r) > 0) break;
        smallest = r.dt;
      }
      held.set(d, smallest);
      const detail = mine.map((r) => `${r.daemon === 'keepalived' ? `advert ${advertFor(r.dt)}s` : `${r.dt}ms`}:${count(r)}`).join(' ');
      ctx.say(`  ${d.padEnd(10)}: smallest held ${smallest === undefined ? 'none' : `${smallest} ms`} (false takeovers per rung: ${detail})`);
      ctx.rec.note(`aggressive ladder ${d}: false takeovers per rung ${detail}`);
    }
  } finally {
    stopBurners?.();
    for (const r of rungs) r.destroy();
  }
  return held;
}

export async function aggressiveCrash(ctx: BenchContext): Promise<void> {
  const sc = 'aggressive';
  const steps = ctx.opts.quick ? QUICK_LADDER : FULL_LADDER;
  const windowMs = ctx.opts.quick ? 60_000 : 600_000;
  const setting = `both cores loaded; ladder ${steps.join('/')} ms, ${fmt(windowMs, 'ms')} without a false takeover${ctx.opts.keepalivedRealtime ? ', keepalived realtime' : ''}`;
  ctx.say(`[8] most aggressive setting under load: ladder ${steps.join(' ')} ms, ${windowMs / 1000} s`);
  const held = await ladder(ctx, steps, windowMs);
  const stopBurners = startBurners(ctx);
  try {
    for (let rep = 1; rep <= ctx.opts.reps; rep++) {
      for (const d of DAEMONS) {
        const dt = held.get(d);
        if (dt === undefined) {
          if (rep === 1) ctx.rec.failure(sc, d, `false takeovers even at ${steps[0]} ms`);
          continue;
        }
        const shown = d === 'keepalived' ? masterDownMs(advertFor(dt), vrrpPriority(2)) : dt;
        if (rep === 1) ctx.rec.add({ scenario: sc, metric: M_HELD, setting, daemon: d, unit: 'ms', better: 'lower' }, shown);
        try {
          const r = await crashOnce(ctx, d, Math.max(10, Math.round(dt / 4)), dt);
          recordCrash(ctx, sc, setting, d, r);
          ctx.rec.note(`aggressive rep ${rep} ${d} at ${fmt(shown, 'ms')}: ${r.steps}`);
          ctx.say(`  rep ${rep} ${d.padEnd(10)} at ${fmt(shown, 'ms')}: crash → reply ${fmt(r.tReply - r.tCrash, 'ms')}`);
        } catch (err) {
          ctx.say(`  rep ${rep} ${d}: FAILED: ${(err as Error).message.split('\n')[0] ?? ''}`);
          ctx.rec.failure(sc, `rep ${rep} ${d}`, err);
        }
      }
    }
  } finally {
    stopBurners();
  }
  const ours = ctx.rec.median(sc, M_CRASH, setting, 'ours');
  const ka = ctx.rec.median(sc, M_CRASH, setting, 'keepalived');
  ctx.rec.target({
    scenario: sc,
    target: 'crash → VIP at the most aggressive setting that holds under load: heartbeat-ts ≤ keepalived',
    figure: ours === undefined || ka === undefined ? 'no data' : `medians ${fmt(ours, 'ms')} vs ${fmt(ka, 'ms')}`,
    met: ours === undefined || ka === undefined ? undefined : ours <= ka,
  });
}
