/**
 * The director: runs every real server's health check on its own timer,
 * turns results into health (failurecount, combined checks, maintenance),
 * and keeps the data plane in step with the desired table.
 *
 * Checks are independent promises with their own deadlines: a real server
 * that accepts and never answers delays nothing but its own next check.
 * Table updates are serialised and coalesced: whatever happened while one
 * update ran is folded into the next.
 */
import { existsSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { describeError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { appendMonitor, fallbackCommand, monitorLine, sendAlert } from './actions.js';
import { runCheck, type CheckContext, type CheckKind, type CheckOutcome } from './checks/index.js';
import type { DataPlane, PlaneTable } from './plane.js';
import { computeTable, realKey, transitions, upCount } from './state.js';
import {
  checkPort, effectiveTimeouts, virtualId, virtualLabel, type LdConfig, type RealServer, type VirtualService,
} from './types.js';

export type CheckRunner = (kind: CheckKind, c: CheckContext, timeoutMs: number, signal: AbortSignal) => Promise<CheckOutcome>;
export type Phase = 'starting' | 'running' | 'reloading' | 'stopping';

export interface DirectorDeps {
  plane: DataPlane & { needsRetry?(): boolean };
  logger: Logger;
  clock?: Clock;
  hostname?: string;
  /** Injected in unit tests; the real checks otherwise. */
  check?: CheckRunner;
  now?: () => Date;
}

interface RealRuntime {
  key: string;
  v: VirtualService;
  r: RealServer;
  failcount: number;
  numConnects: number;
  timer: TimerHandle | undefined;
  inFlight: boolean;
  lastMessage: string;
  /** Bumped on reload/stop: results of older generations are dropped. */
  gen: number;
}

const PHASE_BIT: Record<Phase, number> = { starting: 1, running: 2, stopping: 4, reloading: 8 };

export class Director {
  private cfg: LdConfig | undefined;
  private readonly health = new Map<string, boolean>();
  private reals = new Map<string, RealRuntime>();
  private applied: PlaneTable = [];
  private dirty = false;
  private syncing: Promise<void> | undefined;
  private retryTimer: TimerHandle | undefined;
  private abort = new AbortController();
  private readonly fallbackStatus = new Map<string, 'start' | 'stop'>();
  private gen = 0;
  private phase: Phase = 'starting';
  private readonly clock: Clock;
  private readonly check: CheckRunner;
  private readonly host: string;

  constructor(private readonly deps: DirectorDeps) {
    this.clock = deps.clock ?? systemClock;
    this.check = deps.check ?? runCheck;
    this.host = deps.hostname ?? osHostname();
  }

  get config(): LdConfig | undefined {
    return this.cfg;
  }

  /** The table last applied to the data plane. */
  get table(): PlaneTable {
    return this.applied;
  }

  isUp(key: string): boolean {
    return this.health.get(key) === true;
  }

  async start(cfg: LdConfig): Promise<void> {
    this.phase = 'starting';
    this.cfg = cfg;
    this.setupReals(cfg);
    await this.syncNow();
    this.phase = 'running';
    this.startTimers();
  }

  /** Applies a new configuration; real servers that stay keep their health. */
  async reload(cfg: LdConfig): Promise<void> {
    this.phase = 'reloading';
    this.cancelTimers();
    this.cfg = cfg;
    this.setupReals(cfg);
    for (const key of [...this.health.keys()]) if (!this.reals.has(key)) this.health.delete(key);
    await this.syncNow();
    this.phase = 'running';
    this.startTimers();
  }

  async stop(): Promise<void> {
    this.phase = 'stopping';
    this.cancelTimers();
    this.abort.abort();
    await this.syncing;
    this.retryTimer?.cancel();
    const cfg = this.cfg;
    if (!cfg) return;
    const keep = new Set(cfg.virtuals.filter((v) => !(v.cleanstop ?? cfg.cleanstop)).map((v) => virtualId(v)));
    for (const s of this.applied) {
      if (!keep.has(s.id)) this.deps.logger.info(`Purged virtual server (stop): ${s.protocol === 'fwm' ? String(s.fwmark ?? 0) : `${s.address ?? ''}:${s.port}`}`);
    }
    try {
      if (keep.size === 0) await this.deps.plane.clear();
      else await this.deps.plane.apply(this.applied.filter((s) => keep.has(s.id)));
    } catch (e) {
      this.deps.logger.error(`cleaning up the ${this.deps.plane.name} data plane failed: ${describeError(e)}`);
    }
  }

  private setupReals(cfg: LdConfig): void {
    const old = this.reals;
    this.gen++;
    this.reals = new Map();
    for (const v of cfg.virtuals) {
      for (const r of v.reals) {
        const key = realKey(v, r);
        if (this.reals.has(key)) continue;
        const prev = old.get(key);
        this.reals.set(key, {
          key, v, r, failcount: prev?.failcount ?? 0, numConnects: prev?.numConnects ?? Number.MAX_SAFE_INTEGER,
          timer: undefined, inFlight: false, lastMessage: prev?.lastMessage ?? '', gen: this.gen,
        });
      }
    }
  }

  private startTimers(): void {
    for (const rt of this.reals.values()) {
      if (rt.v.checktype === 'on' || rt.v.checktype === 'off') continue;
      this.schedule(rt, 0);
    }
  }

  private cancelTimers(): void {
    for (const rt of this.reals.values()) {
      rt.timer?.cancel();
      rt.timer = undefined;
    }
    // In-flight checks of the old generation are abandoned, not awaited.
    this.abort.abort();
    this.abort = new AbortController();
  }

  private schedule(rt: RealRuntime, delayMs: number): void {
    rt.timer?.cancel();
    rt.timer = this.clock.setTimer(() => void this.checkOne(rt), delayMs);
  }

  private intervalMs(v: VirtualService): number {
    return (v.checkinterval ?? this.cfg?.checkinterval ?? 10) * 1000;
  }

  private context(v: VirtualService, r: RealServer): CheckContext {
    const cfg = this.cfg as LdConfig;
    return {
      host: r.address, port: checkPort(v, r), realPort: r.port, protocol: v.protocol, service: v.service,
      request: r.request ?? v.request, receive: r.receive ?? v.receive, httpmethod: v.httpmethod,
      virtualhost: v.virtualhost, login: v.login, passwd: v.passwd,
      virtualHost: v.protocol === 'fwm' ? String(v.fwmark ?? 0) : (v.address ?? ''), virtualPort: v.port,
      checkcommand: v.checkcommand, checkcount: v.checkcount ?? cfg.checkcount,
      checktimeoutS: effectiveTimeouts(cfg, v).check, hostname: this.host,
    };
  }

  private inMaintenance(r: RealServer): boolean {
    const dir = this.cfg?.maintenancedir;
    if (!dir) return false;
    return existsSync(`${dir}/${r.address}:${r.port}`) || existsSync(`${dir}/${r.address}`);
  }

  private async checkOne(rt: RealRuntime): Promise<void> {
    const cfg = this.cfg;
    if (!cfg || rt.gen !== this.gen || this.phase === 'stopping') return;
    rt.timer = undefined;
    if (rt.inFlight) return;
    rt.inFlight = true;
    const started = this.clock.nowMs();
    const { v, r } = rt;
    let outcome: CheckOutcome;
    let kind: CheckKind = v.checktype === 'combined' ? 'negotiate' : v.checktype as CheckKind;
    if (v.checktype === 'combined') kind = rt.numConnects >= v.numConnects ? 'negotiate' : 'connect';
    if (this.inMaintenance(r)) {
      outcome = { up: false, message: 'Server in maintenance' };
    } else {
      const t = effectiveTimeouts(cfg, v);
      const timeoutMs = (kind === 'negotiate' ? t.negotiate : t.check) * 1000;
      const signal = this.abort.signal;
      try {
        outcome = await this.check(kind, this.context(v, r), timeoutMs, signal);
      } catch (e) {
        outcome = { up: false, message: `check failed: ${describeError(e)}` };
      }
    }
    rt.inFlight = false;
    // The phase may have moved on while the check ran.
    if (rt.gen !== this.gen || (this.phase as Phase) === 'stopping') return;
    if (v.checktype === 'combined') {
      if (kind === 'negotiate' && outcome.up) rt.numConnects = 0;
      else if (kind === 'connect') rt.numConnects = outcome.up ? rt.numConnects + 1 : Number.MAX_SAFE_INTEGER;
    }
    this.deps.logger.debug(`Checked ${kind}: real server=${r.address}:${r.port} (virtual=${virtualId(v)}): ${outcome.up ? 'up' : 'down'}: ${outcome.message}`);
    this.record(rt, outcome);
    if (v.monitorfile) {
      void appendMonitor(v.monitorfile, monitorLine(this.deps.now?.() ?? new Date(), process.pid, r.address, r.port, outcome.up, outcome.message), this.deps.logger);
    }
    const elapsed = this.clock.nowMs() - started;
    this.schedule(rt, Math.max(0, this.intervalMs(v) - elapsed));
  }

  private record(rt: RealRuntime, o: CheckOutcome): void {
    const cfg = this.cfg as LdConfig;
    const was = this.health.get(rt.key) === true;
    const label = `${rt.r.address}:${rt.r.port} (${virtualLabel(rt.v)})`;
    rt.lastMessage = o.message;
    if (o.up) {
      if (rt.failcount > 0) this.deps.logger.info(`Resetting soft failure count: ${label}`);
      rt.failcount = 0;
      if (!was) {
        this.health.set(rt.key, true);
        this.requestSync();
      }
      return;
    }
    if (!was) return;
    rt.failcount++;
    const limit = rt.v.failurecount ?? cfg.failurecount;
    if (rt.failcount < limit) {
      this.deps.logger.info(`Soft failure real server: ${label} failure ${rt.failcount}/${limit}: ${o.message}`);
      return;
    }
    this.health.set(rt.key, false);
    this.requestSync();
  }

  private requestSync(): void {
    this.dirty = true;
    if (!this.syncing) {
      this.syncing = this.syncLoop().finally(() => { this.syncing = undefined; });
    }
  }

  private async syncNow(): Promise<void> {
    this.dirty = true;
    await this.syncing;
    this.requestSync();
    await this.syncing;
  }

  private async syncLoop(): Promise<void> {
    while (this.dirty && this.cfg) {
      this.dirty = false;
      await this.applyOnce(this.cfg);
    }
  }

  private async applyOnce(cfg: LdConfig): Promise<void> {
    const table = computeTable(cfg, this.health);
    const same = JSON.stringify(table) === JSON.stringify(this.applied);
    if (same && !this.deps.plane.needsRetry?.()) return;
    const { lines, changes } = transitions(this.applied, table);
    try {
      await this.deps.plane.apply(table);
    } catch (e) {
      this.deps.logger.error(`updating the ${this.deps.plane.name} data plane failed: ${describeError(e)}; retrying`);
      this.retryLater(cfg);
      return;
    }
    if (this.deps.plane.needsRetry?.()) this.retryLater(cfg);
    this.applied = table;
    const reasons = new Map<string, string>();
    for (const rt of this.reals.values()) reasons.set(`${virtualId(rt.v)}|${rt.r.address}:${rt.r.port}`, rt.lastMessage);
    for (const line of lines) this.deps.logger.info(line);
    for (const c of changes) {
      const why = reasons.get(`${c.serviceId}|${c.server}`);
      if (!c.fallback && why && (c.kind === 'deleted' || c.kind === 'quiescent')) this.deps.logger.info(`  reason: ${why}`);
      this.alert(cfg, c.serviceId, c.text);
    }
    this.runFallbackCommands(cfg);
  }

  private retryLater(cfg: LdConfig): void {
    this.retryTimer?.cancel();
    this.retryTimer = this.clock.setTimer(() => {
      if (this.phase !== 'stopping' && this.cfg === cfg) this.requestSync();
    }, Math.min(5000, cfg.checkinterval * 1000));
  }

  private alert(cfg: LdConfig, serviceId: string, text: string): void {
    const v = cfg.virtuals.find((x) => virtualId(x) === serviceId);
    const to = v?.emailalert ?? cfg.emailalert;
    const mask = v?.emailalertstatus ?? cfg.emailalertstatus;
    if (!to || (mask & PHASE_BIT[this.phase]) === 0) return;
    void sendAlert(to, text, cfg.emailalertfrom, this.phase, this.deps.logger);
  }

  private runFallbackCommands(cfg: LdConfig): void {
    for (const v of cfg.virtuals) {
      const cmd = v.fallbackcommand ?? cfg.fallbackcommand;
      const want = upCount(v, this.health) === 0 ? 'start' : 'stop';
      const id = virtualId(v);
      if (this.fallbackStatus.get(id) === want) continue;
      this.fallbackStatus.set(id, want);
      if (cmd) void fallbackCommand(cmd, want, this.deps.logger);
    }
  }
}
