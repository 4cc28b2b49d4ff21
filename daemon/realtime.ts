/**
 * `realtime`, `rtprio` and `memreserve` of ha.cf, and `-l`, as Heartbeat
 * 3.0.6 applies them at start: the daemon's main thread (the one that sends
 * heartbeats and judges deadlines) runs SCHED_RR at `rtprio` (default: the
 * lowest realtime priority, 1, as 3.0.6), so CPU-bound neighbours do not
 * delay a heartbeat. Differences:
 * - not all memory is locked (3.0.6: mlockall after touching `memreserve`
 *   KiB): V8 aborts when it changes the permissions of locked pages
 *   (measured with MCL_FUTURE, and with MCL_CURRENT|MCL_ONFAULT during a
 *   GC). The program's code is (read-only file mappings, locked as they are
 *   touched): an idle daemon's code is what proactive reclaim pages out, and
 *   bringing it back stalled heartbeats by tens of ms. `memreserve` is
 *   checked and reported, nothing more;
 * - children never inherit the policy (SCHED_RESET_ON_FORK): resource
 *   scripts and respawned clients run as normal processes, as 3.0.6 makes
 *   them explicitly;
 * - a realtime thread that runs RT_RUN_LIMIT_US without blocking is killed
 *   by the kernel (RLIMIT_RTTIME): a busy-looping daemon cannot keep a core.
 *   The kernel's own throttle (sched_rt_runtime_us, 95 % by default) already
 *   leaves other tasks a share; this bounds the time.
 */
import type { HaConfig } from '../lib/config/types.js';
import { errnoName, loadAddon } from '../lib/util/addon.js';
import type { Logger } from '../lib/util/log.js';

/** Far beyond any deadtime: a loop that has not blocked this long has lost its cluster anyway. */
export const RT_RUN_LIMIT_US = 10_000_000;

export interface SchedAddon {
  makeRealtime(priority: number): number;
  priorityMin(): number;
  limitRealtimeRun(usec: number): number;
  lockCode(): number;
}

const schedAddon = (): SchedAddon => loadAddon<SchedAddon>('hb_sched', 'SCHED', 'realtime scheduling');

/** What the daemon did: for tests and the start banner. */
export interface RealtimeOutcome {
  realtime: boolean;
  priority?: number;
}

/** Applies the realtime settings; never fails the start (3.0.6 logs and runs on). */
export function applyRealtime(config: HaConfig, noRealtimeFlag: boolean, log: Logger, addon: () => SchedAddon = schedAddon): RealtimeOutcome {
  if (!config.realtime || noRealtimeFlag) return { realtime: false };
  let a: SchedAddon;
  try {
    a = addon();
  } catch (err) {
    log.error(`Realtime scheduling not available: ${(err as Error).message}`);
    return { realtime: false };
  }
  const priority = config.rtprio ?? a.priorityMin();
  const rt = a.makeRealtime(priority);
  if (rt !== 0) {
    log.error(`Unable to set scheduler parameters. (SCHED_RR priority ${priority}: ${errnoName(rt)})`);
    return { realtime: false };
  }
  const limit = a.limitRealtimeRun(RT_RUN_LIMIT_US);
  if (limit !== 0) log.warn(`Cannot bound the realtime run time (RLIMIT_RTTIME): ${errnoName(limit)}`);
  const locked = a.lockCode();
  if (locked !== 0) log.warn(`Cannot lock the program's code in memory: ${errnoName(locked)}`);
  return { realtime: true, priority };
}
