/**
 * Scenarios 1-3, on the two-node service group `node1 IPaddr::VIP hb-bench-web`
 * (busybox httpd)
 * with the client asking the VIP who serves it every 10 ms:
 *   1. crash failover (kill -9 + link cut) → first HTTP answer from node2,
 *      split into detection and takeover;
 *   2. graceful switchover with hb_standby, and stop through the init script;
 *   3. cold start of both nodes → the VIP answering.
 */
import { crashDaemon, type Kind, standby, stopDaemon } from '../devtools/lab/hacluster.js';
import { sleep } from '../devtools/lab/proc.js';
import { BENCH_WEB, type BenchContext, BenchCluster, repeat, serviceSpec, settingLabel } from './cluster.js';
import { fmt } from './report.js';
import { VipPing } from './vip-ping.js';

const PROBE_MS = 10;
const START_TIMEOUT = 120_000;
const ms = (v: number): string => fmt(v, 'ms');

function timings(ctx: BenchContext): Array<[number, number]> {
  return ctx.opts.quick ? [[100, 500]] : [[1000, 5000], [100, 500]];
}

/** 1. kill -9 of node1's daemon and its cable pulled; node2 must detect and take over. */
export async function crashFailover(ctx: BenchContext): Promise<void> {
  const sc = 'failover';
  for (const [ka, dt] of timings(ctx)) {
    const setting = settingLabel(ka, dt);
    const add = (kind: Kind, metric: string, v: number): void =>
      ctx.rec.add({ scenario: sc, metric, setting, daemon: kind, unit: 'ms', better: 'lower' }, v);
    ctx.say(`[1] crash failover, ${setting}`);
    await repeat(ctx, sc, ctx.opts.reps, async (kind, rep) => {
      const c = await BenchCluster.start(ctx, kind, 2, (lab) => serviceSpec(lab, ka, dt), { httpIntervalMs: PROBE_MS, udp: true });
      try {
        const probe = c.probe!;
        await probe.waitAnswer('node1', { after: c.tStart, timeoutMs: START_TIMEOUT });
        await c.settle(ka, Math.max(1500, 4 * ka)); // steady state
        const ping = await VipPing.start(c.lab, c.vip);
        const mark = c.log(2).mark();
        const { t: tKill } = await crashDaemon(c.lab, 1, kind);
        await c.lab.cut(1, 'link');
        const dead = await c.log(2).wait(/node node1: is dead/, { from: mark, timeoutMs: dt + 30_000 });
        const served = await probe.waitAnswer('node2', { after: tKill, timeoutMs: 60_000 });
        const script = c.log(2).find(/Running \S*\/IPaddr\S* \S+ start/, mark);
        const web = c.log(2).find(new RegExp(`Running \\S*/${BENCH_WEB.name}\\s+start`), mark);
        const reachable = probe.firstReachable('node2', dead.t);
        await ping.stop();
        const pinged = ping.firstReplyAfter(dead.t);
        const heard = (probe.udp.get(c.lab.ip(1)) ?? []).filter((t) => t <= tKill + 2);
        const lastHb = heard[heard.length - 1];
        add(kind, 'crash → node2 answers (total)', served.t - tKill);
        if (lastHb !== undefined) {
          add(kind, 'last heartbeat → node2 answers', served.t - lastHb);
          add(kind, 'detection: last heartbeat → "is dead"', dead.t - lastHb);
        }
        add(kind, 'takeover: "is dead" → node2 answers', served.t - dead.t);
        if (script !== undefined) add(kind, 'reaction: "is dead" → IPaddr start runs', script.t - dead.t);
        if (web !== undefined) add(kind, 'IPaddr done: "is dead" → web start runs', web.t - dead.t);
        if (reachable !== undefined) add(kind, 'VIP up: "is dead" → VIP reachable on node2', reachable.t - dead.t);
        if (pinged !== undefined) add(kind, 'VIP ping: "is dead" → VIP answers ping (every 2 ms)', pinged - dead.t);
        // Where the takeover time went, for the notes: node2's log lines and the client's view, relative to "is dead".
        const steps = c.log(2).lines.slice(mark).filter((l) => /is dead|Running \S+ .*start|takeover complete/.test(l.text));
        const rel = (t: number): string => `${t - dead.t >= 0 ? '+' : ''}${Math.round(t - dead.t)}ms`;
        ctx.rec.note(`failover ${setting} rep ${rep} ${kind}: ${steps.map((l) => `${rel(l.t)} ${l.text.replace(/^.*?(info|WARN): /, '')}`).join(' | ')}` +
          ` | ${reachable === undefined ? '' : `${rel(reachable.t)} client: VIP ${reachable.node === '' ? 'refuses' : 'answers'} | `}${rel(served.t)} client: node2 answers`);
        ctx.say(`  rep ${rep} ${kind.padEnd(4)}: total ${ms(served.t - tKill)}, detection ${lastHb === undefined ? '?' : ms(dead.t - lastHb)}, takeover ${ms(served.t - dead.t)}`);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${c.tails()}`);
      } finally {
        c.destroy();
      }
    });
    // "VIP answering" = the address answers TCP on node2 (a refusal counts: the web server's own
    // start-up is the service's time, not the takeover's); the HTTP figure is printed beside it.
    const vipUp = ctx.rec.median(sc, 'VIP up: "is dead" → VIP reachable on node2', setting, 'ours');
    const http = ctx.rec.median(sc, 'takeover: "is dead" → node2 answers', setting, 'ours');
    ctx.rec.target({
      scenario: sc,
      target: `takeover (declared dead → VIP answering) within 50 ms median, ${setting}`,
      figure: vipUp === undefined ? 'no data' : `heartbeat-ts median ${ms(vipUp)} to the VIP answering TCP, ${http === undefined ? '?' : ms(http)} to the web page`,
      met: vipUp === undefined ? undefined : vipUp <= 50,
    });
    // From the last heartbeat, not from the kill: the kill falls anywhere in a keepalive interval.
    const o = ctx.rec.median(sc, 'last heartbeat → node2 answers', setting, 'ours');
    const r = ctx.rec.median(sc, 'last heartbeat → node2 answers', setting, 'real');
    ctx.rec.target({
      scenario: sc,
      target: `failover never slower than Heartbeat at the same settings, ${setting}`,
      figure: o === undefined || r === undefined ? 'no data' : `last heartbeat → node2 answers, medians ${ms(o)} vs ${ms(r)}`,
      met: o === undefined || r === undefined ? undefined : o <= r,
    });
  }
}

/** 2. hb_standby on node1 (node2 takes over), then node2 stopped through the init script (node1 takes over). */
export async function gracefulSwitchover(ctx: BenchContext): Promise<void> {
  const sc = 'switchover';
  const [ka, dt] = [1000, 5000];
  const setting = settingLabel(ka, dt);
  const add = (kind: Kind, metric: string, v: number): void =>
    ctx.rec.add({ scenario: sc, metric, setting, daemon: kind, unit: 'ms', better: 'lower' }, v);
  ctx.say(`[2] graceful switchover, ${setting}`);
  await repeat(ctx, sc, ctx.opts.reps, async (kind, rep) => {
    const c = await BenchCluster.start(ctx, kind, 2, (lab) => serviceSpec(lab, ka, dt), { httpIntervalMs: PROBE_MS });
    try {
      const probe = c.probe!;
      await probe.waitAnswer('node1', { after: c.tStart, timeoutMs: START_TIMEOUT });
      await sleep(2000);
      const t0 = performance.timeOrigin + performance.now();
      await standby(c.lab, 1, kind);
      const on2 = await probe.waitAnswer('node2', { after: t0, timeoutMs: 60_000 });
      const last1 = probe.lastAnswerBefore('node1', on2.t);
      add(kind, 'hb_standby: command → node2 answers', on2.t - t0);
      if (last1 !== undefined && last1.t > t0) add(kind, 'hb_standby: service gap', on2.t - last1.t);
      await sleep(3000);
      const t1 = performance.timeOrigin + performance.now();
      // The stop runs while the client watches; its failure is reported after the wait.
      const stopped = stopDaemon(c.lab, 2, kind).then(() => performance.timeOrigin + performance.now(), (err: unknown) => err as Error);
      const on1 = await probe.waitAnswer('node1', { after: t1, timeoutMs: 90_000 });
      const tStopped = await stopped;
      if (tStopped instanceof Error) throw tStopped;
      const last2 = probe.lastAnswerBefore('node2', on1.t);
      add(kind, 'init script stop: command → node1 answers', on1.t - t1);
      if (last2 !== undefined && last2.t > t1) add(kind, 'init script stop: service gap', on1.t - last2.t);
      add(kind, 'init script stop: command → daemon gone', tStopped - t1);
      ctx.say(`  rep ${rep} ${kind.padEnd(4)}: standby ${ms(on2.t - t0)}, stop ${ms(on1.t - t1)} (stop done ${ms(tStopped - t1)})`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${c.tails()}`);
    } finally {
      c.destroy();
    }
  });
}

/** 3. both daemons started at once; until both are active, and until the VIP answers. */
export async function coldStart(ctx: BenchContext): Promise<void> {
  const sc = 'coldstart';
  const settings: Array<[number, number]> = ctx.opts.quick ? [[1000, 5000]] : [[1000, 5000], [100, 500]];
  for (const [ka, dt] of settings) {
    const setting = settingLabel(ka, dt);
    const add = (kind: Kind, metric: string, v: number): void =>
      ctx.rec.add({ scenario: sc, metric, setting, daemon: kind, unit: 'ms', better: 'lower' }, v);
    ctx.say(`[3] cold start, ${setting}`);
    await repeat(ctx, sc, ctx.opts.reps, async (kind, rep) => {
      const c = await BenchCluster.start(ctx, kind, 2, (lab) => serviceSpec(lab, ka, dt), { httpIntervalMs: PROBE_MS });
      try {
        const served = await c.probe!.waitAnswer('node1', { after: c.tStart, timeoutMs: START_TIMEOUT });
        const up = await Promise.all([1, 2].map((i) => c.log(i).wait(/Comm_now_up/, { timeoutMs: 5000 })));
        const active = Math.max(...up.map((l) => l.t));
        add(kind, 'start → both nodes active', active - c.tStart);
        add(kind, 'start → VIP answers', served.t - c.tStart);
        ctx.say(`  rep ${rep} ${kind.padEnd(4)}: active ${ms(active - c.tStart)}, VIP ${ms(served.t - c.tStart)}`);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${c.tails()}`);
      } finally {
        c.destroy();
      }
    });
  }
}
