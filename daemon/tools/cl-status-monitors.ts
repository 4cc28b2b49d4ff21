/**
 * `cl_status rscstatus -v` (heartbeat-ts): one line per resource monitored
 * through heartbeat-ts.cf, with its failure count within the window and the
 * last failure. `--json` prints the entries as the daemon reports them.
 */
import type { MonitorEntry } from '../../lib/resources/monitor.js';

/** One monitored resource, for people (`rscstatus -v`). Names come from our own config; still bounded. */
export function monitorLine(m: MonitorEntry): string {
  const s = (ms: number): string => `${ms / 1000}s`;
  const last = m.lastFailure === null ? 'never failed'
    : `last failure ${new Date(m.lastFailure.atMs).toISOString()}: ${clip(m.lastFailure.reason)}`;
  return `monitor ${clip(m.resource)} (group ${clip(m.group)}): ${m.failures} of ${m.maxFailures} failures within ${s(m.failureWindowMs)}`
    + ` (interval ${s(m.intervalMs)}, timeout ${s(m.timeoutMs)}, on-fail ${m.onFail}); ${last}`;
}

function clip(text: unknown): string {
  return String(text).slice(0, 200).replace(/[\x00-\x1f\x7f]/g, '?');
}

