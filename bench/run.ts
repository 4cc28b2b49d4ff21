#!/usr/bin/env node
/**
 * `npm run bench` — heartbeat-ts measured side by side with real Heartbeat
 * 3.0.6, same configuration, same run (not part of the test suite).
 *
 *   node dist/bench/run.js [--quick] [--only NAME[,NAME…]] [--reps N] [--reps4 N] [--out DIR]
 *
 * Scenarios: failover, switchover, coldstart, deadtime, idle, messaging, vipping, aggressive.
 * Results: results/bench-<timestamp>/results.json and chart.svg, and the
 * tables on stdout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { Cleanup } from '../devtools/lab/cleanup.js';
import { REPO_ROOT, Lab } from '../devtools/lab/lab.js';
import { renderSvg } from './chart.js';
import { type BenchContext as Ctx, BenchContext, type BenchOptions } from './cluster.js';
import { sustainedDeadtime } from './deadtime.js';
import { idleCost } from './idle.js';
import { messagingPath } from './messaging.js';
import { resultsMarkdown } from './markdown.js';
import { Recorder, type Results } from './report.js';
import { coldStart, crashFailover, gracefulSwitchover } from './service.js';
import { vipPing } from './vip.js';
import { aggressiveCrash } from './aggressive.js';

const SCENARIOS: Array<{ name: string; title: string; run: (ctx: Ctx) => Promise<void> }> = [
  { name: 'failover', title: '1. Crash failover (kill -9 + link cut → first HTTP answer from the survivor)', run: crashFailover },
  { name: 'switchover', title: '2. Graceful switchover (hb_standby; stop through the init script)', run: gracefulSwitchover },
  { name: 'coldstart', title: '3. Cold start of both nodes', run: coldStart },
  { name: 'deadtime', title: '4. Smallest sustained deadtime (no false "is dead")', run: sustainedDeadtime },
  { name: 'idle', title: '5. Idle cost per node and agreement on a death', run: idleCost },
  { name: 'messaging', title: '6. Messaging path per core (status heartbeat)', run: messagingPath },
  { name: 'vipping', title: '7. Crash → VIP answers ping (client pings every 2 ms; keepalived 2.2 VRRPv3 beside)', run: vipPing },
  { name: 'aggressive', title: '8. Crash → VIP at the most aggressive setting that holds, both cores loaded (keepalived 2.2 VRRPv3 beside)', run: aggressiveCrash },
];

const USAGE = `usage: node dist/bench/run.js [--quick] [--only NAME[,NAME…]] [--reps N] [--reps4 N] [--out DIR] [--ours-normal-priority] [--keepalived-realtime]
       node dist/bench/run.js --markdown results/bench-…/results.json
  scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}
  --quick   fewer repetitions, sizes and settings, short windows (a sanity run)
  --reps    repetitions per figure (default 5; --quick 2)
  --reps4   runs of the 5-minute deadtime ladder per load (default 1)
  --out     results directory (default results/bench-<timestamp>)
  --markdown FILE[,FILE…]  print results.json files as Markdown tables (runs nothing);
                   with --out DIR, also write them merged as DIR/results.json and DIR/chart.svg
  --ours-normal-priority  experiment: heartbeat-ts daemons moved back to SCHED_OTHER with chrt
                   (they run SCHED_RR as Heartbeat does, \`realtime on\`); the settings column says so
  --keepalived-realtime  keepalived's VRRP process at SCHED_RR 1 with locked memory (vrrp_rt_priority 1,
                   vrrp_no_swap), as Heartbeat runs; default: keepalived as Debian ships it (neither)`;

function parse(argv: string[]): BenchOptions | { markdown: string; out?: string } | string {
  let quick = false;
  let reps: number | undefined;
  let reps4 = 1;
  let only: string[] = [];
  let out: string | undefined;
  let oursNormalPriority = false;
  let keepalivedRealtime = false;
  let report: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--quick') quick = true;
      else if (a === '--only') only = value().split(',').filter((s) => s !== '');
      else if (a === '--reps') reps = Number(value());
      else if (a === '--reps4') reps4 = Number(value());
      else if (a === '--out') out = value();
      else if (a === '--ours-normal-priority') oursNormalPriority = true;
      else if (a === '--keepalived-realtime') keepalivedRealtime = true;
      else if (a === '--markdown') report = value();
      else if (a === '-h' || a === '--help') return USAGE;
      else return `unknown argument ${a}\n${USAGE}`;
    } catch (err) {
      return `${(err as Error).message}\n${USAGE}`;
    }
  }
  for (const o of only) if (!SCENARIOS.some((s) => s.name === o)) return `unknown scenario ${o}\n${USAGE}`;
  const r = reps ?? (quick ? 2 : 5);
  if (!Number.isInteger(r) || r < 1 || !Number.isInteger(reps4) || reps4 < 1) return `--reps/--reps4 need a positive integer\n${USAGE}`;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  if (report !== undefined) return out === undefined ? { markdown: report } : { markdown: report, out };
  return { quick, reps: r, reps4, only, outDir: out ?? join(REPO_ROOT, 'results', `bench-${stamp}`), oursNormalPriority, keepalivedRealtime };
}

function hostInfo(): ConstructorParameters<typeof Recorder>[0] {
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    // not Linux: no load figure
  }
  return { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release(), load };
}

async function main(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (typeof o === 'string') {
    process.stderr.write(`${o}\n`);
    return o === USAGE ? 0 : 2;
  }
  const titles = Object.fromEntries(SCENARIOS.map((s) => [s.name, s.title]));
  if ('markdown' in o) {
    // several files (comma-separated) are merged: scenarios run at different times
    const all = o.markdown.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as Results);
    const merged: Results = { ...all[0]!, series: all.flatMap((r) => r.series), targets: all.flatMap((r) => r.targets), failures: all.flatMap((r) => r.failures) };
    process.stdout.write(resultsMarkdown(merged, titles));
    if (o.out !== undefined) {
      // the merged runs as one results.json and one chart
      mkdirSync(o.out, { recursive: true });
      const notes = all.flatMap((r) => r.notes);
      writeFileSync(join(o.out, 'results.json'), `${JSON.stringify({ ...merged, notes }, null, 2)}\n`);
      writeFileSync(join(o.out, 'chart.svg'), renderSvg(merged, titles));
    }
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (network namespaces)\n');
    return 1;
  }
  mkdirSync(o.outDir, { recursive: true });
  const swept = Lab.sweepStale();
  if (swept.length > 0) process.stdout.write(`removed labs left by an interrupted bench: ${swept.join(' ')}\n`);
  const rec = new Recorder(hostInfo(), { ...o });
  const cleanup = new Cleanup().install();
  const ctx = new BenchContext(o, rec, cleanup);
  // A stray rejection is a bench bug: record it and go on, the hour of data so far must not be lost.
  process.on('unhandledRejection', (err) => {
    ctx.say(`unhandled rejection: ${err instanceof Error ? err.message : String(err)}`);
    rec.failure('bench', 'unhandled rejection', err);
  });
  const chosen = SCENARIOS.filter((s) => o.only.length === 0 || o.only.includes(s.name));
  const save = (): void => {
    rec.results.finished = new Date().toISOString();
    writeFileSync(join(o.outDir, 'results.json'), `${JSON.stringify(rec.results, null, 2)}\n`);
    writeFileSync(join(o.outDir, 'chart.svg'), renderSvg(rec.results, titles));
  };
  // Saved every 30 s as well: a run that dies (e.g. killed) keeps what it measured.
  const autosave = setInterval(save, 30_000);
  autosave.unref();
  ctx.say(`bench: ${chosen.map((s) => s.name).join(', ')}${o.quick ? ' (quick)' : ''}, ${o.reps} repetitions; results in ${o.outDir}`);
  try {
    for (const s of chosen) {
      rec.note(`${s.name}: started ${new Date().toISOString()}, load average ${hostInfo().load}`);
      try {
        await s.run(ctx);
      } catch (err) {
        ctx.say(`${s.name}: aborted: ${(err as Error).message.split('\n')[0] ?? ''}`);
        rec.failure(s.name, 'scenario aborted', err);
      }
      save();
    }
  } finally {
    cleanup.runAll();
    cleanup.uninstall();
  }
  const out: string[] = [''];
  for (const s of chosen) {
    out.push(`== ${s.title}`, rec.table(s.name));
    const t = rec.targetLines(s.name);
    if (t !== '') out.push(t);
    out.push('');
  }
  if (rec.results.failures.length > 0) {
    out.push(`${rec.results.failures.length} failure(s):`);
    for (const f of rec.results.failures) out.push(`  ${f.scenario} ${f.what}: ${f.error.split('\n')[0] ?? ''}`);
  }
  out.push(`results: ${join(o.outDir, 'results.json')}, chart: ${join(o.outDir, 'chart.svg')}`);
  process.stdout.write(`${out.join('\n')}\n`);
  save();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
