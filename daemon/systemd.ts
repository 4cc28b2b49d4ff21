/**
 * systemd's notify protocol for the `Type=notify` unit (daemon/heartbeat.service):
 * READY=1 once the node runs, STATUS= with the cluster state when it changes,
 * WATCHDOG=1 every WatchdogSec/2 from the event loop (a stalled loop stops the
 * pings, and systemd acts), STOPPING=1 when a shutdown begins. Only when
 * systemd set NOTIFY_SOCKET; otherwise nothing here runs. The variables are
 * taken out of the environment so resource scripts and respawned clients do
 * not inherit them (systemd would ignore them anyway: NotifyAccess=main).
 */
import type { HaConfig } from '../lib/config/types.js';
import type { Cluster } from '../lib/membership/cluster.js';
import type { Attachment, NodeHandle } from '../lib/node/runtime.js';
import { errnoName, loadAddon } from '../lib/util/addon.js';
import type { Clock, TimerHandle } from '../lib/util/clock.js';
import type { Logger } from '../lib/util/log.js';

interface NotifyAddon {
  notifySend(address: string, data: Buffer): number;
}

/** Longest STATUS= text we send (systemd shows one line). */
export const MAX_STATUS = 400;
/** How often the STATUS attachment looks for changes it has no event for (resource holdings). */
const STATUS_POLL_MS = 1000;

export type NotifySend = (address: string, data: Buffer) => number;

/** Parses WATCHDOG_USEC (and WATCHDOG_PID, which must name us when set): the ping interval in ms, or undefined. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined | Error {
  const usec = env['WATCHDOG_USEC'];
  if (usec === undefined || usec === '') return undefined;
  const wpid = env['WATCHDOG_PID'];
  if (wpid !== undefined && wpid !== '' && wpid !== String(pid)) return undefined;
  if (!/^\d{1,15}$/.test(usec) || Number(usec) === 0) return new Error(`WATCHDOG_USEC=${usec.slice(0, 40)}: not a positive number of microseconds`);
  return Math.max(1, Math.floor(Number(usec) / 2000));
}

export class SdNotifier {
  private watchdog: TimerHandle | undefined;
  private lastStatus = '';
  private stoppingSent = false;
  private warned = false;

  private constructor(
    private readonly address: string,
    private readonly intervalMs: number | undefined,
    private readonly log: Logger,
    private readonly send: NotifySend,
  ) {}

  /**
   * From systemd's variables (then removed from `env`); undefined when NOTIFY_SOCKET
   * is unset. `send` defaults to the hb_notify addon (native/hb_notify.c).
   */
  static fromEnv(env: NodeJS.ProcessEnv, log: Logger, send?: NotifySend): SdNotifier | undefined {
    const address = env['NOTIFY_SOCKET'];
    const interval = watchdogIntervalMs(env, process.pid);
    for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[k];
    if (address === undefined || address === '') return undefined;
    if (!/^[/@]/.test(address) || address.length > 107) {
      log.warn(`NOTIFY_SOCKET=${JSON.stringify(address.slice(0, 120))}: not a socket path or @abstract name; no notifications`);
      return undefined;
    }
    if (interval instanceof Error) log.warn(`${interval.message}; no watchdog pings`);
    let addon: NotifyAddon | undefined;
    const viaAddon: NotifySend = (a, data) => {
      addon ??= loadAddon<NotifyAddon>('hb_notify', 'NOTIFY', 'systemd notify');
      return addon.notifySend(a, data);
    };
    return new SdNotifier(address, interval instanceof Error ? undefined : interval, log, send ?? viaAddon);
  }

  /** The watchdog ping interval (WatchdogSec/2), when systemd asked for pings. */
  get watchdogMs(): number | undefined {
    return this.intervalMs;
  }

  notify(text: string): void {
    let rc: number;
    try {
      rc = this.send(this.address, Buffer.from(text));
    } catch (err) {
      rc = -1;
      this.warnOnce(`systemd notify: ${(err as Error).message}`);
    }
    if (rc > 0) this.warnOnce(`systemd notify: cannot send to ${this.address}: ${errnoName(rc)}`);
  }

  /** READY=1 with the first status; starts the watchdog pings on `clock` (the event loop's timers). */
  ready(clock: Clock, status: string): void {
    this.lastStatus = clampStatus(status);
    this.notify(`READY=1\nSTATUS=${this.lastStatus}`);
    if (this.intervalMs !== undefined && this.watchdog === undefined) {
      this.notify('WATCHDOG=1');
      this.watchdog = clock.setRepeating(() => this.notify('WATCHDOG=1'), this.intervalMs);
    }
  }

  /** STATUS= when the text changed. */
  status(text: string): void {
    const s = clampStatus(text);
    if (s === this.lastStatus) return;
    this.lastStatus = s;
    this.notify(`STATUS=${s}`);
  }

  stopping(status: string): void {
    if (this.stoppingSent) return;
    this.stoppingSent = true;
    this.lastStatus = clampStatus(status);
    this.notify(`STOPPING=1\nSTATUS=${this.lastStatus}`);
  }

  /** The process is about to exit: no more pings. */
  close(): void {
    this.watchdog?.cancel();
    this.watchdog = undefined;
  }

  private warnOnce(line: string): void {
    if (this.warned) return;
    this.warned = true;
    this.log.warn(line);
  }
}

/** One line, bounded: STATUS= ends at the first newline. */
function clampStatus(text: string): string {
  const line = text.replace(/[\x00-\x1f\x7f]/g, ' ');
  return line.length > MAX_STATUS ? `${line.slice(0, MAX_STATUS - 3)}...` : line;
}

/** The cluster state in one line: `node1 active (resources: local); node2 dead; links up 3/4`. */
export function clusterStatusLine(cluster: Cluster, myName: string, rsc: string | undefined): string {
  const parts: string[] = [];
  let up = 0;
  let all = 0;
  for (const v of cluster.views()) {
    if (v.type !== 'normal') continue;
    parts.push(v.name === myName && rsc !== undefined ? `${v.name} ${v.status} (resources: ${rsc})` : `${v.name} ${v.status}`);
    if (v.name === myName) continue;
    for (const l of v.links) {
      all++;
      if (l.status === 'up') up++;
    }
  }
  return `${parts.join('; ')}; links up ${up}/${all}`;
}

/**
 * Per node (re-created on restart): sends STATUS= on membership and link
 * changes (and resource changes, looked at every second), READY=1 on the
 * first start, STOPPING=1 when a shutdown (not a restart) begins. Placed last
 * among the attachments, so it starts after the API listens and stops first.
 */
export class SystemdStatus implements Attachment {
  readonly name = 'systemd';
  private cluster: Cluster | null = null;
  private poll: TimerHandle | undefined;
  private readonly update = (): void => this.refresh();

  constructor(private readonly o: {
    notifier: SdNotifier;
    clock: Clock;
    myName: string;
    rscstatus: () => string | undefined;
    stopping: () => boolean;
  }) {}

  start(node: NodeHandle): void {
    this.bind(node.cluster);
    this.o.notifier.ready(this.o.clock, this.line());
    this.poll = this.o.clock.setRepeating(this.update, STATUS_POLL_MS);
  }

  rebind(node: NodeHandle): void {
    this.bind(node.cluster);
    this.refresh();
  }

  reconfigure(_config: HaConfig): void {
    this.refresh();
  }

  async shutdown(): Promise<void> {
    this.poll?.cancel();
    this.bind(null);
    if (this.o.stopping()) this.o.notifier.stopping('shutting down: giving up resources');
    else this.o.notifier.status('restarting');
  }

  private bind(cluster: Cluster | null): void {
    this.cluster?.off('nodeStatus', this.update);
    this.cluster?.off('link', this.update);
    this.cluster = cluster;
    cluster?.on('nodeStatus', this.update);
    cluster?.on('link', this.update);
  }

  private line(): string {
    return this.cluster ? clusterStatusLine(this.cluster, this.o.myName, this.o.rscstatus()) : 'starting';
  }

  private refresh(): void {
    if (this.cluster) this.o.notifier.status(this.line());
  }
}
