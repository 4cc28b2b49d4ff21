/** What the daemons of a lab's nodes cost over a window: CPU time and memory of their processes, read from /proc. */
import { readdirSync, readFileSync } from 'node:fs';
import { cpuMs, memOf, nowMs, sleep } from '../devtools/lab/proc.js';

/**
 * CPU time of a process in ms from the scheduler's nanosecond counters of
 * its threads (/proc/PID/task/TID/schedstat): the 10 ms ticks of
 * /proc/PID/stat read 0 for a daemon using a fraction of a tick per second
 * (keepalived at advert_int 1 s). Ticks where schedstat is missing.
 */
function cpuPreciseMs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e6 : cpuMs(pid);
  } catch {
    return cpuMs(pid);
  }
}

async function nodeUsage(ids: readonly number[], pidsOf: (i: number) => Promise<number[]>): Promise<Array<{ pids: number[]; cpu: number }>> {
  const out: Array<{ pids: number[]; cpu: number }> = [];
  for (const i of ids) {
    const pids = await pidsOf(i);
    out.push({ pids, cpu: pids.reduce((s, p) => s + (cpuPreciseMs(p) ?? 0), 0) });
  }
  return out;
}

/** CPU (% of one core), RSS and PSS of every node's processes over windowMs, recorded with `add`; returns the CPU figures. */
export async function usageOver(
  ids: readonly number[],
  pidsOf: (i: number) => Promise<number[]>,
  windowMs: number,
  add: (metric: string, unit: string, v: number) => void,
): Promise<number[]> {
  const before = await nodeUsage(ids, pidsOf);
  const t0 = nowMs();
  await sleep(windowMs);
  const after = await nodeUsage(ids, pidsOf);
  const t1 = nowMs();
  const cpuPct: number[] = [];
  before.forEach((b, k) => {
    const a = after[k];
    // no daemon (a removed lab) or restarted meanwhile: no figure
    if (a === undefined || b.pids.length === 0 || a.pids.join() !== b.pids.join()) return;
    const pct = ((a.cpu - b.cpu) / (t1 - t0)) * 100;
    cpuPct.push(pct);
    add('CPU per node (% of one core)', '%', pct);
    const mem = a.pids.map(memOf);
    add('RSS per node (all its processes)', 'MiB', mem.reduce((s, m) => s + (m?.rssKb ?? 0), 0) / 1024);
    add('PSS per node (shared pages split)', 'MiB', mem.reduce((s, m) => s + (m?.pssKb ?? 0), 0) / 1024);
  });
  return cpuPct;
}
