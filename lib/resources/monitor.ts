/**
 * Resource monitoring (heartbeat-ts.cf `monitor`, beyond 3.0.6): on the node
 * holding a group, the `status` of each monitored resource every interval,
 * with the same call and "running" rule as at takeover and the monitor's own
 * deadline (a hung status is killed and counts as a failure). A failure is
 * counted; on-fail decides: `restart` in place (the resource and those
 * after it in its group) until max-failures within failure-window, then
 * move the group; `standby` moves at once; `ignore` only logs. The move
 * goes through the standby protocol, so a real 3.0.6 peer takes part. A
 * node refuses to take back a group that failed here within the window.
 * Everything runs on the injected clock.
 */
import type { MonitorSpec, OnFail } from '../config/hbts-cf.js';
import type { Resource, ResourceGroup } from '../config/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { StatusVerdict } from './group-manager.js';

/** What the monitor needs of group management. */
export interface MonitorGroups {
  group(key: string): ResourceGroup | undefined;
  allKeys(): string[];
  readonly busy: boolean;
  checkStatus(r: Resource, timeoutMs: number): Promise<StatusVerdict>;
  restartFrom(key: string, index: number): Promise<boolean>;
}

/** What the monitor needs of the resource controller. */
export interface MonitorHost {
  /** Groups this node holds while nothing moves; empty during any transition. */
  heldKeys(): string[];
  /** Asks another node to take `key`'s group (standby); a reason when no one can now. */
  moveAway(key: string): string | undefined;
}

export interface MonitorOptions {
  specs: readonly MonitorSpec[];
  groups: MonitorGroups;
  host: MonitorHost;
  clock: Clock;
  log: Logger;
}

/** One monitored resource as `cl_status rscstatus -v` shows it. */
export interface MonitorEntry {
  resource: string;
  group: string;
  onFail: OnFail;
  intervalMs: number;
  timeoutMs: number;
  maxFailures: number;
  failureWindowMs: number;
  /** Failures within the window, now. */
  failures: number;
  /** Wall-clock time (ms since the epoch) and reason of the last failure, if any. */
  lastFailure: { atMs: number; reason: string } | null;
}

/** Failure times kept per resource: never more than this (a bound, whatever the window). */
const MAX_KEPT = 1000;

interface Watch {
  spec: MonitorSpec;
  key: string;
  index: number;
  resource: Resource;
  /** Monotonic times of the failures within the window. */
  failures: number[];
  last: { atMs: number; reason: string } | null;
  /** Monotonic time of our last standby request for this group, if any. */
  movedAt: number | null;
  timer: TimerHandle | null;
}

export class ResourceMonitor {
  private watches: Watch[] = [];
  private stopped = false;
  /** Check or reaction in flight: one at a time, never overlapping a transition of ours. */
  private acting = false;

  constructor(private readonly o: MonitorOptions) {
    this.configure(o.specs);
  }

  /** New specs (a reload): counts of resources still monitored are kept. */
  configure(specs: readonly MonitorSpec[]): void {
    const old = this.watches;
    for (const w of old) w.timer?.cancel();
    this.watches = [];
    for (const spec of specs) {
      const found = this.locate(spec.resource);
      if (!found) {
        this.o.log.error(`Monitor: ${spec.resource} is not a resource of haresources; not monitored`);
        continue;
      }
      const prev = old.find((w) => w.spec.resource === spec.resource);
      this.watches.push({ spec, ...found, failures: prev?.failures ?? [], last: prev?.last ?? null, movedAt: prev?.movedAt ?? null, timer: null });
    }
    if (!this.stopped) for (const w of this.watches) this.schedule(w);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) w.timer?.cancel();
  }

  /** A reason to refuse taking `keys` (a group of them failed here within its window). */
  veto(keys: readonly string[]): string | undefined {
    for (const w of this.watches) {
      if (!keys.includes(w.key) || this.count(w) === 0) continue;
      return `resource ${w.spec.resource} of group ${w.key} failed here within the last ${w.spec.failureWindowMs / 1000} s`;
    }
    return undefined;
  }

  report(): MonitorEntry[] {
    return this.watches.map((w) => ({
      resource: w.spec.resource, group: w.key, onFail: w.spec.onFail, intervalMs: w.spec.intervalMs,
      timeoutMs: w.spec.timeoutMs, maxFailures: w.spec.maxFailures, failureWindowMs: w.spec.failureWindowMs,
      failures: this.count(w), lastFailure: w.last,
    }));
  }

  private locate(spec: string): { key: string; index: number; resource: Resource } | undefined {
    for (const key of this.o.groups.allKeys()) {
      const resources = this.o.groups.group(key)?.resources ?? [];
      const index = resources.findIndex((r) => r.spec === spec);
      const resource = resources[index];
      if (resource !== undefined) return { key, index, resource };
    }
    return undefined;
  }

  /** Failures within the window; older ones expire. */
  private count(w: Watch): number {
    const since = this.o.clock.nowMs() - w.spec.failureWindowMs;
    while (w.failures.length > 0 && (w.failures[0] as number) <= since) w.failures.shift();
    return w.failures.length;
  }

  private schedule(w: Watch): void {
    w.timer?.cancel();
    w.timer = this.o.clock.setTimer(() => void this.tick(w), w.spec.intervalMs);
  }

  private held(w: Watch): boolean {
    return !this.o.groups.busy && this.o.host.heldKeys().includes(w.key);
  }

  private async tick(w: Watch): Promise<void> {
    if (this.stopped || !this.watches.includes(w)) return;
    if (this.acting || !this.held(w)) {
      this.schedule(w);
      return;
    }
    this.acting = true;
    try {
      const verdict = await this.o.groups.checkStatus(w.resource, w.spec.timeoutMs);
      // A transition that began meanwhile makes the answer meaningless.
      if (!verdict.running && !this.stopped && this.held(w)) await this.failed(w, verdict.reason);
    } catch (err) {
      this.o.log.error(`Monitor: ${w.spec.resource}: ${(err as Error).message}`);
    } finally {
      this.acting = false;
      if (!this.stopped && this.watches.includes(w)) this.schedule(w);
    }
  }

  private async failed(w: Watch, reason: string): Promise<void> {
    this.count(w);
    w.failures.push(this.o.clock.nowMs());
    if (w.failures.length > MAX_KEPT) w.failures.shift();
    w.last = { atMs: this.o.clock.wallMs(), reason };
    const n = w.failures.length;
    const { spec } = w;
    this.o.log.warn(`Monitor: resource ${spec.resource} failed: ${reason} (failure ${n} of ${spec.maxFailures} within ${spec.failureWindowMs / 1000} s, on-fail=${spec.onFail})`);
    if (spec.onFail === 'ignore') return;
    if (spec.onFail === 'standby' || n >= spec.maxFailures) {
      // Still here after our request within the window: the other node refused or
      // could not take it (it failed there too); serve it here rather than ask again.
      const now = this.o.clock.nowMs();
      if (w.movedAt !== null && now - w.movedAt < spec.failureWindowMs) {
        this.o.log.warn(`Monitor: resource group ${w.key} was not taken by another node; restarting it here.`);
      } else if (this.move(w, 'restarting it here')) {
        return;
      }
    }
    await this.restart(w);
  }

  /** True when the standby request went out. */
  private move(w: Watch, otherwise: string): boolean {
    this.o.log.warn(`Monitor: moving resource group ${w.key} to another node (standby).`);
    const refused = this.o.host.moveAway(w.key);
    if (refused === undefined) {
      w.movedAt = this.o.clock.nowMs();
      return true;
    }
    this.o.log.error(`Monitor: cannot move resource group ${w.key}: ${refused}; ${otherwise}.`);
    return false;
  }

  private async restart(w: Watch): Promise<void> {
    const rest = this.o.groups.group(w.key)?.resources.slice(w.index).map((r) => r.spec).join(' ') ?? w.spec.resource;
    this.o.log.info(`Monitor: restarting ${rest} in place.`);
    if (await this.o.groups.restartFrom(w.key, w.index)) {
      this.o.log.info(`Monitor: ${w.spec.resource} restarted.`);
      return;
    }
    this.o.log.error(`Monitor: restart of ${w.spec.resource} failed.`);
    this.move(w, 'it stays as it is until the next check');
  }
}
