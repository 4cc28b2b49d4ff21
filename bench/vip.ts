/**
 * Scenario 7: crash → the VIP answers ping again, Heartbeat 3.0.6,
 * heartbeat-ts and keepalived 2.2 (VRRPv3) on the same lab, the client
 * pinging the VIP every 2 ms. The crash: node1's cable pulled, then its
 * daemon killed with -9. Heartbeat clusters run `node1 IPaddr::VIP` only (no
 * service behind the address); keepalived moves the same VIP, its advert_int
 * chosen so that node2's master-down interval matches the deadtime.
 *
 * Figures: crash → first echo reply (all three); "is dead" → first echo reply
 * (Heartbeat: the log line; keepalived: the crash + its master-down interval,
 * the moment VRRP may declare the master gone); keepalived's own "Entering
 * MASTER STATE" line → first reply.
 */
import { type ClusterSpec, crashDaemon } from '../devtools/lab/hacluster.js';
import { crashKeepalived, MASTER_RE, masterDownMs, vrrpPriority, waitLine } from '../devtools/lab/keepalived.js';
import type { Lab } from '../devtools/lab/lab.js';
import { PingProbe } from '../devtools/lab/ping-probe.js';
import { nowMs, sleep } from '../devtools/lab/proc.js';
import { advertFor, advertLabel, KaCluster } from './ka-cluster.js';
import { type BenchContext, BenchCluster, settingLabel, VIP_HOST } from './cluster.js';
import { type Daemon, fmt } from './report.js';

export const PING_MS = 2;
const START_TIMEOUT = 120_000;
export const M_CRASH = 'crash → VIP answers ping';
export const M_DEAD = '"is dead" → VIP answers ping (keepalived: crash + master-down interval)';
const M_MASTER = 'keepalived "Entering MASTER STATE" → VIP answers ping';

/** The address-only resource group of node1. */
export function vipSpec(lab: Lab, keepaliveMs: number, deadtimeMs: number): ClusterSpec {
  return {
    nodes: 2, keepaliveMs, deadtimeMs, initdeadMs: Math.max(10_000, 2 * deadtimeMs), autoFailback: true, auth: 'sha1',
    haresources: `node1 IPaddr::${lab.subnet}.${VIP_HOST}/24/eth0\n`,
  };
}

/** One crash measured: the moment node1 vanished, node2's declaration of it, the first echo reply after. */
export interface CrashTiming {
  tCrash: number;
  tDead: number;
  tReply: number;
  /** keepalived: node2's "Entering MASTER STATE" line */
  tMaster?: number;
  /** node2's log lines about the takeover, relative to the crash (for the notes) */
  steps: string;
}

const STEP_RE = /is dead|Running \S+ .*start|takeover complete|Entering MASTER|gratuitous ARPs/;
function steps(lines: ReadonlyArray<{ t: number; text: string }>, tCrash: number, tCut: number, tReply: number): string {
  const rel = (t: number): string => `+${Math.round(t - tCrash)}ms`;
  const picked = lines.filter((l) => l.t >= tCrash && STEP_RE.test(l.text)).slice(0, 8);
  return [`${rel(tCut)} cable pulled`, ...picked.map((l) => `${rel(l.t)} ${l.text.replace(/^.*?(info|WARN): |^.*?2\d{3}: /, '')}`), `${rel(tReply)} first echo reply`].join(' | ');
}

/** Pulls node1's cable (the moment of the crash), then kills its daemon; the client only hears node2 after that. */
async function pullAndKill(lab: Lab, kill: () => Promise<unknown>): Promise<{ tCrash: number; tCut: number }> {
  const tCrash = nowMs();
  await lab.cut(1, 'link');
  const tCut = nowMs();
  await kill();
  return { tCrash, tCut };
}

/** A Heartbeat cluster (either kind): VIP up on node1, steady state, crash, node2's "is dead", the first reply. */
export async function crashHeartbeat(c: BenchCluster, probe: PingProbe, settleMs: number, timing: { keepaliveMs: number; deadtimeMs: number }): Promise<CrashTiming> {
  const { keepaliveMs, deadtimeMs } = timing;
  await probe.waitReply(c.tStart, START_TIMEOUT);
  await c.settle(keepaliveMs, settleMs);
  const mark = c.log(2).mark();
  const { tCrash, tCut } = await pullAndKill(c.lab, () => crashDaemon(c.lab, 1, c.kind));
  const dead = await c.log(2).wait(/node node1: is dead/, { from: mark, timeoutMs: deadtimeMs + 30_000 });
  const tReply = await probe.waitReply(tCut, 60_000);
  return { tCrash, tDead: dead.t, tReply, steps: steps(c.log(2).lines.slice(mark), tCrash, tCut, tReply) };
}

/** A keepalived pair: node1 master and answering, steady state, crash, node2 master, the first reply. */
export async function crashVrrp(c: KaCluster, probe: PingProbe, settleMs: number): Promise<CrashTiming> {
  const t0 = nowMs();
  await waitLine(c.node(1), MASTER_RE, { timeoutMs: START_TIMEOUT });
  await probe.waitReply(t0, START_TIMEOUT);
  await sleep(settleMs);
  const from = c.node(2).lines.length;
  const { tCrash, tCut } = await pullAndKill(c.lab, () => crashKeepalived(c.lab, 1));
  const master = await waitLine(c.node(2), MASTER_RE, { from, timeoutMs: 60_000 });
  const tReply = await probe.waitReply(tCut, 60_000);
  const tDead = tCrash + masterDownMs(c.advertS, vrrpPriority(2));
  return { tCrash, tDead, tReply, tMaster: master.t, steps: steps(c.node(2).lines.slice(from), tCrash, tCut, tReply) };
}

/** Pings the VIP of a started cluster while `run` crashes it; the cluster is removed afterwards. */
async function measure<C extends { lab: Lab; vip: string; tails(): string; destroy(): void }>(
  c: C,
  run: (c: C, probe: PingProbe) => Promise<CrashTiming>,
): Promise<CrashTiming> {
  let probe: PingProbe | undefined;
  try {
    probe = await PingProbe.start(c.lab, c.vip, PING_MS);
    return await run(c, probe);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${c.tails()}`);
  } finally {
    probe?.stop();
    c.destroy();
  }
}

/** Runs one crash of `daemon` at (keepalive, deadtime) — keepalived at the advert_int matching the deadtime. */
export async function crashOnce(ctx: BenchContext, daemon: Daemon, ka: number, dt: number, advertS = advertFor(dt)): Promise<CrashTiming> {
  const settle = Math.max(1500, 4 * ka);
  if (daemon === 'keepalived') return measure(await KaCluster.start(ctx, 2, advertS), (c, p) => crashVrrp(c, p, settle));
  return measure(await BenchCluster.start(ctx, daemon, 2, (lab) => vipSpec(lab, ka, dt)), (c, p) => crashHeartbeat(c, p, settle, { keepaliveMs: ka, deadtimeMs: dt }));
}

/** Records one crash's figures under `setting`. */
export function recordCrash(ctx: BenchContext, sc: string, setting: string, daemon: Daemon, r: CrashTiming): void {
  const add = (metric: string, v: number): void => ctx.rec.add({ scenario: sc, metric, setting, daemon, unit: 'ms', better: 'lower' }, v);
  add(M_CRASH, r.tReply - r.tCrash);
  add(M_DEAD, r.tReply - r.tDead);
  if (r.tMaster !== undefined) add(M_MASTER, r.tReply - r.tMaster);
}

const DAEMON_ORDER: readonly Daemon[] = ['real', 'ours', 'keepalived'];

export async function vipPing(ctx: BenchContext): Promise<void> {
  const sc = 'vipping';
  const timings: Array<[number, number]> = ctx.opts.quick ? [[100, 500]] : [[1000, 5000], [100, 500]];
  for (const [ka, dt] of timings) {
    const advertS = advertFor(dt);
    const setting = `${settingLabel(ka, dt)}; keepalived ${advertLabel(advertS, ctx.opts.keepalivedRealtime)}`;
    ctx.say(`[7] crash → VIP answers ping, ${setting}`);
    for (let rep = 1; rep <= ctx.opts.reps; rep++) {
      for (const daemon of DAEMON_ORDER) {
        try {
          const r = await crashOnce(ctx, daemon, ka, dt, advertS);
          recordCrash(ctx, sc, setting, daemon, r);
          const ms = (v: number): string => fmt(v, 'ms');
          ctx.rec.note(`vipping ${setting} rep ${rep} ${daemon}: ${r.steps}`);
          ctx.say(`  rep ${rep} ${daemon.padEnd(10)}: crash → reply ${ms(r.tReply - r.tCrash)}, "is dead" → reply ${ms(r.tReply - r.tDead)}` +
            `${r.tMaster === undefined ? '' : `, MASTER line → reply ${ms(r.tReply - r.tMaster)}`}\n    ${r.steps}`);
        } catch (err) {
          ctx.say(`  rep ${rep} ${daemon}: FAILED: ${(err as Error).message.split('\n')[0] ?? ''}`);
          ctx.rec.failure(sc, `${setting} rep ${rep} ${daemon}`, err);
        }
      }
    }
    const ours = ctx.rec.median(sc, M_DEAD, setting, 'ours');
    ctx.rec.target({
      scenario: sc,
      target: `"is dead" → VIP answers ping within 20 ms median, ${settingLabel(ka, dt)}`,
      figure: ours === undefined ? 'no data' : `heartbeat-ts median ${fmt(ours, 'ms')}`,
      met: ours === undefined ? undefined : ours <= 20,
    });
  }
}
