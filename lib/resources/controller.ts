/**
 * v1 resource management (spec 6): who holds which haresources groups.
 * The nice_failback negotiation (`starting` / `resource`), the standby
 * 3-phase protocol (`ask_resources`), takeover when a peer dies, the legacy
 * `ip-request` exchange and the audits — heartbeat's hb_resource.c and its
 * rc.d/mach_down scripts, as one event-driven state machine. Group work runs
 * in-process through GroupManager; membership only feeds events in.
 */
import type { AutoFailback } from '../config/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import type { GroupManager } from './group-manager.js';
import { mirror, parseRsc, RSC, rscName, type RscName, type RscSet } from './sets.js';
import { StandbyProtocol } from './standby.js';

export type ResourceState = 'init' | 'starting' | 'bothstarting' | 'rscrcvd' | 'stable' | 'shutdown';

/** What the controller needs from membership. */
export interface ClusterAccess {
  readonly myName: string;
  send(msg: HaMsg): number;
  /**
   * Normal nodes with their status. `statusKnown` false: packets came from
   * the node but no status message yet (its status is only our default).
   */
  normalNodes(): { name: string; status: string; anyPacketsYet: boolean; statusKnown?: boolean }[];
}

export interface ControllerOptions {
  cluster: ClusterAccess;
  groups: GroupManager;
  autoFailback: AutoFailback;
  clock: Clock;
  log: Logger;
  /** Script-layout loggers for the lines heartbeat's shell helpers write. */
  scriptLog: (tag: string) => Logger;
  /** RQSTDELAY: how long both-starting nodes wait before taking their own groups. */
  requestDelayMs?: number;
  /** Delay before a failed group start asks for standby (heartbeat: 30 s). */
  failedStartStandbyDelayMs?: number;
  /** Legacy: longest wait at comm-up for heard peers to tell their status (about two keepalives). */
  peerStatusWaitMs?: number;
}

const RQSTDELAY_MS = 10_000;

export class ResourceController {
  readonly nice: boolean;
  readonly auto: boolean;
  state: ResourceState = 'init';
  iHold: RscSet = RSC.NONE;
  otherHolds: RscSet = RSC.NONE;
  otherIsStable = false;
  takeoverInProgress = false;
  /** Group operations in flight (heartbeat's ResourceMgmt_child_count). */
  busy = 0;
  shutdownInProgress = false;
  private rscNeedsFailback = false;
  private rscNeedsShutdown: (() => void) | null = null;
  private localWorkDone = false;
  private foreignWorkDone = false;
  private announced = false;
  private rqstTimer: TimerHandle | null = null;
  /** When the RQSTDELAY after the first `rscrcvd` runs out (clock.nowMs). */
  private rqstDueMs: number | null = null;
  private readonly timers = new Set<TimerHandle>();
  private readonly standby: StandbyProtocol;
  private readonly me: string;
  /** Peers that announced a graceful shutdown (legacy: no fencing needed). */
  private readonly shutdone = new Set<string>();

  constructor(private readonly o: ControllerOptions) {
    this.nice = o.autoFailback !== 'legacy';
    this.auto = o.autoFailback === 'on';
    this.me = o.cluster.myName;
    this.standby = new StandbyProtocol(this, {
      groups: o.groups,
      send: (m) => void o.cluster.send(m),
      log: o.log,
      clock: o.clock,
    });
  }

  private get log(): Logger {
    return this.o.log;
  }

  // ------------------------------------------------------------------ status

  /** hb_rsc_isstable */
  isStable(): boolean {
    if (!this.nice) return this.busy === 0;
    if (this.shutdownInProgress && this.state === 'init') return true;
    return this.otherIsStable && !this.takeoverInProgress && this.standby.idle && this.busy === 0
      && (this.state === 'stable' || this.state === 'shutdown' || this.state === 'init');
  }

  /** What `cl_status rscstatus` reports. */
  rscstatus(): RscName | 'transition' {
    return this.isStable() ? rscName(this.iHold) : 'transition';
  }

  // ------------------------------------------------------------------ inputs

  commUp(): void {
    const dead = this.o.cluster.normalNodes().filter((n) => n.status === 'dead').length;
    if (dead === 0) this.foreignWorkDone = true;
    if (this.nice) {
      this.o.cluster.send(new HaMsg().add(F.TYPE, T.STARTING));
      this.state = 'starting';
    } else {
      this.legacyAcquireWhenPeersKnown(this.o.clock.nowMs() + (this.o.peerStatusWaitMs ?? 5000));
    }
  }

  /**
   * Legacy asks a peer for our groups only when it counts as `active`. Right
   * after comm-up a peer heard only through a non-status packet (an ack of
   * our first messages, sent before its next heartbeat) is still `init` in
   * our table, so we would take our groups without asking while it holds
   * them — a race heartbeat has. We wait, bounded, for its status first.
   */
  private legacyAcquireWhenPeersKnown(deadlineMs: number): void {
    if (this.shutdownInProgress) return;
    const unknown = this.o.cluster.normalNodes()
      .some((n) => n.name !== this.me && n.status !== 'dead' && n.anyPacketsYet && n.statusKnown === false);
    if (unknown && this.o.clock.nowMs() < deadlineMs) {
      this.later(100, () => this.legacyAcquireWhenPeersKnown(deadlineMs));
      return;
    }
    this.reqOurResources(false);
  }

  message(msg: HaMsg, from: string, local: boolean): void {
    const type = msg.get(F.TYPE) ?? '';
    const fromMe = from === this.me;
    this.standby.checkTimeout();
    switch (type) {
      case T.STARTING:
      case T.RESOURCE:
        this.processResources(type, msg, fromMe);
        break;
      case T.SHUTDONE:
        this.onShutdone(msg, fromMe);
        break;
      case T.ASK_RESOURCES:
        if (!this.nice) {
          this.log.info('Standby mode only implemented when nice_failback on');
          break;
        }
        if (this.state === 'shutdown') break;
        this.standby.onMessage(msg, fromMe);
        this.shutdownIfNeeded();
        break;
      case T.IP_REQUEST:
        if (!fromMe) void this.onIpRequest(msg, from);
        break;
      case T.IP_REQUEST_RESP:
        if (msg.get(F.TO) === this.me) void this.onIpRequestResp(msg);
        break;
      case T.HB_TAKEOVER:
        if (!fromMe) this.onHbTakeover(msg);
        break;
      default:
        void local;
    }
  }

  nodeDead(node: string, anyPacketsYet: boolean): void {
    if (this.standby.active) {
      this.log.info('Cancelling pending standby operation');
      this.standby.cancel();
      if (!this.otherIsStable && this.iHold === RSC.ALL) this.otherIsStable = true;
      this.shutdownIfNeeded();
    }
    if (this.shutdownInProgress) {
      if (this.state !== 'shutdown' && this.state !== 'stable') void this.giveUpAll();
      return;
    }
    this.rscNeedsFailback = true;
    const needFencing = !(anyPacketsYet && (this.nice ? this.otherHolds === RSC.NONE : this.shutdone.has(node)));
    if (needFencing) {
      this.sendStonith(node, 'n_stnth');
      this.log.warn('No STONITH device configured.');
      this.log.warn('Shared disks are not protected.');
      this.takeoverFromNode(node);
      return;
    }
    this.log.info(`Dead node ${node} gave up resources.`);
    this.sendStonith(node, 'unneeded');
    if (!this.nice) {
      this.takeoverFromNode(node);
      return;
    }
    if (this.iHold === RSC.ALL) {
      this.otherIsStable = true;
      // A shutdown delayed while the peer was in flux (it announced its own
      // shutdown, then its shutdone was lost) may go on now: nothing else
      // would ever re-check it.
      this.shutdownIfNeeded();
      return;
    }
    if (!(this.iHold & RSC.LOCAL)) this.reqOurResources(true);
    if (!(this.iHold & RSC.FOREIGN)) this.takeoverFromNode(node);
  }

  // ------------------------------------------------------------------ nice_failback negotiation

  private processResources(type: string, msg: HaMsg, fromMe: boolean): void {
    this.shutdownIfNeeded();
    if (!this.nice) return;
    let next = this.state;
    if (type === T.STARTING && !fromMe) {
      // `starting` means the other node (re)started: a standby exchange with its
      // previous run can never finish, and would hold us "unstable" (no shutdown,
      // no failback) until the one-hour standby timeout.
      if (this.standby.active) {
        this.log.info('Cancelling pending standby operation: the other node restarted.');
        this.standby.cancel();
      }
      if (this.state === 'starting') {
        next = 'bothstarting';
        this.foreignWorkDone = true;
        this.announce('HB_R_BOTHSTARTING');
      } else if (this.state !== 'rscrcvd' && this.state !== 'stable' && this.state !== 'shutdown') {
        this.log.error(`Received 'starting' message in state ${this.state}`);
        return;
      }
      this.otherIsStable = false;
      if (this.takeoverInProgress) this.log.warn('T_STARTING received during takeover.');
      this.sendHeld(this.state === 'stable');
    }
    if (type === T.RESOURCE) {
      const n = parseRsc(msg.get(F.RSC_HOLD));
      if (n === undefined) {
        this.log.error(`resource message without a valid rsc_hold field (${msg.get(F.RSC_HOLD) ?? 'none'}).`);
        return;
      }
      const full = msg.get(F.RTYPE) === 'full';
      if (this.state === 'starting' || this.state === 'bothstarting') {
        next = 'rscrcvd';
        if (!this.auto) {
          this.foreignWorkDone = true;
          this.announce('T_RESOURCES');
        }
      } else if (this.state === 'init') {
        this.log.error(`resource message received in state ${this.state}`);
        return;
      }
      const update = (cur: RscSet): RscSet => (full ? n : n === RSC.NONE ? RSC.NONE : ((n | cur) as RscSet));
      if (!fromMe) {
        this.otherHolds = update(this.otherHolds);
        const stable = msg.get(F.ISSTABLE);
        if (stable === '1') {
          if (!this.otherIsStable) {
            this.log.info('remote resource transition completed.');
            this.otherIsStable = true;
            this.sendHeld(this.state === 'stable');
            this.performAutoFailback();
          }
        } else if (stable !== undefined) {
          this.otherIsStable = false;
        }
        if (next !== 'stable' && next !== 'shutdown' && this.otherIsStable) {
          this.log.info('remote resource transition completed.');
          this.state = next = 'stable';
          this.reqOurResources(false);
          this.sendHeld(true);
          this.performAutoFailback();
          this.foreignWorkDone = true;
          if (!this.auto && this.otherHolds & RSC.FOREIGN) this.localWorkDone = true;
          this.announce('T_RESOURCES(them)');
        }
      } else {
        this.iHold = update(this.iHold);
        if (this.iHold & RSC.LOCAL) {
          this.localWorkDone = true;
          this.announce('T_RESOURCES(us)');
        }
        const info = msg.get(F.INFO);
        if (info === 'mach_down') {
          this.log.info('mach_down takeover complete.');
          this.takeoverInProgress = false;
          this.iHold = (this.iHold | RSC.FOREIGN) as RscSet;
          this.rscNeedsFailback = true;
          this.otherIsStable = true;
          this.foreignWorkDone = true;
          this.announce('mach_down');
        } else if (info === 'shutdown') {
          next = 'shutdown';
        }
      }
    }
    this.state = next;
    if (this.state === 'rscrcvd') this.armRequestDelay();
    this.audit();
    this.shutdownIfNeeded();
  }

  /**
   * Both nodes starting and neither stable: take our own groups RQSTDELAY
   * after the first `rscrcvd`. Like heartbeat's polled deadline, it is kept
   * when it passes in another state and acted on once `rscrcvd` is back.
   */
  private armRequestDelay(): void {
    const now = this.o.clock.nowMs();
    this.rqstDueMs ??= now + (this.o.requestDelayMs ?? RQSTDELAY_MS);
    if (this.rqstTimer !== null) return;
    this.rqstTimer = this.o.clock.setTimer(() => {
      this.rqstTimer = null;
      this.requestDelayExpired();
    }, Math.max(0, this.rqstDueMs - now));
  }

  private requestDelayExpired(): void {
    if (this.state !== 'rscrcvd') return;
    this.state = 'stable';
    this.reqOurResources(false);
    this.log.info('local resource transition completed.');
    this.sendHeld(true);
    this.audit();
  }

  private onShutdone(msg: HaMsg, fromMe: boolean): void {
    void msg;
    if (fromMe) {
      this.state = 'shutdown';
      this.iHold = RSC.NONE;
      return;
    }
    // heartbeat also starts a handshake-less standby acquisition here whose
    // set computation is inverted; taking over the departing node's groups
    // and our own (below) reaches the intended end state directly.
    const node = msg.get(F.ORIG) ?? '';
    this.shutdone.add(node);
    this.otherIsStable = false;
    this.otherHolds = RSC.NONE;
    this.log.info(`Received shutdown notice from '${node}'.`);
    this.takeoverFromNode(node);
  }

  /** Called by the standby protocol and others to (re)announce holdings. */
  sendHeld(stable: boolean, comment?: string): void {
    if (!this.nice) return;
    const m = new HaMsg()
      .add(F.TYPE, T.RESOURCE)
      .add(F.RSC_HOLD, rscName(this.iHold))
      .add(F.RTYPE, 'full')
      .add(F.ISSTABLE, stable ? '1' : '0');
    if (comment !== undefined) m.add(F.INFO, comment);
    this.o.cluster.send(m);
  }

  private announce(reason: string): void {
    if (this.announced || !this.localWorkDone || !this.foreignWorkDone) return;
    this.announced = true;
    this.log.info(`Initial resource acquisition complete (${reason})`);
  }

  markLocalWorkDone(reason: string): void {
    this.localWorkDone = true;
    this.announce(reason);
  }

  /** The audits of spec 6.3, logged when they happen. */
  audit(): void {
    if (!this.nice) return;
    if (this.iHold & RSC.LOCAL && this.otherHolds & RSC.FOREIGN) this.log.error('Both machines own our resources!');
    if (this.otherHolds & RSC.LOCAL && this.iHold & RSC.FOREIGN) this.log.error('Both machines own foreign resources!');
    if (this.isStable() && !this.shutdownInProgress && this.state !== 'shutdown') {
      if (!(this.iHold & RSC.LOCAL) && !(this.otherHolds & RSC.FOREIGN)) this.log.error('No one owns our local resources!');
      if (!(this.otherHolds & RSC.LOCAL) && !(this.iHold & RSC.FOREIGN)) this.log.error('No one owns foreign resources!');
    }
  }

  performAutoFailback(): void {
    if (this.shutdownInProgress || !(this.iHold & RSC.FOREIGN) || !this.rscNeedsFailback || !this.auto) {
      this.rscNeedsFailback = false;
      this.shutdownIfNeeded();
      return;
    }
    if (!this.standby.idle || !this.otherIsStable || this.state !== 'stable' || this.busy > 0) {
      this.log.debug('Auto failback delayed.');
      this.later(1000, () => this.performAutoFailback());
      return;
    }
    this.rscNeedsFailback = false;
    this.standby.request(RSC.FOREIGN);
  }

  // ------------------------------------------------------------------ acquisition

  /** req_our_resources (spec 6.2). */
  reqOurResources(getThemAnyway: boolean): void {
    if (this.shutdownInProgress) return;
    if (this.nice) {
      if ((this.otherHolds & RSC.FOREIGN || this.iHold & RSC.LOCAL) && !getThemAnyway && this.standby.idle) {
        this.log.info('Local Resource acquisition completed. (none)');
        return;
      }
      this.iHold = (this.iHold | RSC.LOCAL) as RscSet;
    }
    const nodes = this.o.cluster.normalNodes();
    let upcount = nodes.filter((n) => n.status === 'active').length;
    if (nodes.find((n) => n.name === this.me)?.status !== 'active') upcount++;
    const keys = this.o.groups.ourKeys();
    void this.track(async () => {
      for (const key of keys) {
        const g = this.o.groups.group(key);
        const first = g?.resources[0];
        if (first && (await this.o.groups.isRunning(first))) continue;
        if (this.nice || upcount < 2) {
          await this.takeGroup(key);
        } else {
          this.o.cluster.send(new HaMsg().add(F.TYPE, T.IP_REQUEST).add(F.IPADDR, key));
        }
      }
      if (keys.length === 0) this.log.info(`No local resources [ResourceManager listkeys ${this.me}] to acquire.`);
      else this.log.info('Local Resource acquisition completed.');
      this.sendHeld(true, 'req_our_resources()');
    });
  }

  /** Takeover of a dead (or departing) node's groups: mach_down. */
  private takeoverFromNode(node: string): void {
    if (this.shutdownInProgress) {
      this.log.info('Resource takeover cancelled - shutdown in progress.');
      this.shutdownIfNeeded();
      return;
    }
    this.log.info(`Resources being acquired from ${node}.`);
    if (this.nice) {
      this.iHold = (this.iHold | RSC.FOREIGN) as RscSet;
      this.otherHolds = RSC.NONE;
      this.otherIsStable = true;
      this.takeoverInProgress = true;
    }
    const md = this.o.scriptLog('mach_down(default)');
    const keys = this.o.groups.keysOf(node);
    void this.track(async () => {
      for (const key of keys) {
        md.info(`Taking over resource group ${key}`);
        await this.takeGroup(key);
      }
      if (this.nice) {
        md.info('/usr/share/heartbeat/mach_down: nice_failback: foreign resources acquired');
        this.o.cluster.send(new HaMsg().add(F.TYPE, T.RESOURCE).add(F.RSC_HOLD, 'foreign').add(F.INFO, 'mach_down'));
      }
      md.info(`mach_down takeover complete for node ${node}.`);
    });
    this.reqOurResources(true);
  }

  /** takegroup, and heartbeat's reaction to a failed start: ask for standby of that group's set later. */
  async takeGroup(key: string): Promise<void> {
    const result = await this.o.groups.takeGroup(key);
    if (result.ok || !this.nice) return;
    // heartbeat meant to ask for standby of the failed group's set but a
    // trailing space made it always ask `foreign`; we ask for the right set.
    const set: RscSet = this.o.groups.group(key)?.node === this.me ? RSC.LOCAL : RSC.FOREIGN;
    this.later(this.o.failedStartStandbyDelayMs ?? 30_000, () => {
      this.o.scriptLog('hb_standby(default)').info(`Going standby [${rscName(set)}].`);
      this.standby.request(set);
    });
  }

  async giveGroup(key: string): Promise<void> {
    await this.o.groups.giveGroup(key);
  }

  /** Counts a piece of group work so stability and shutdown can wait for it. */
  async track(work: () => Promise<void>): Promise<void> {
    this.busy++;
    try {
      await work();
    } catch (err) {
      this.log.error(`resource operation failed: ${(err as Error).message}`);
    } finally {
      this.busy--;
      this.shutdownIfNeeded();
    }
  }

  // ------------------------------------------------------------------ legacy ip-request

  private async onIpRequest(msg: HaMsg, from: string): Promise<void> {
    const key = msg.get(F.IPADDR);
    if (!key) return;
    const first = this.o.groups.group(key)?.resources[0];
    let weown = false;
    await this.track(async () => {
      if (first && (await this.o.groups.isRunning(first))) {
        weown = true;
        await this.giveGroup(key);
      }
    });
    this.o.cluster.send(new HaMsg().add(F.TYPE, T.IP_REQUEST_RESP).add(F.TO, from).add(F.IPADDR, key)
      .add(F.WEOWN, weown ? 'yes' : 'no').add(F.OK, 'OK'));
  }

  private async onIpRequestResp(msg: HaMsg): Promise<void> {
    const key = msg.get(F.IPADDR);
    if (!key) return;
    const ok = msg.get(F.OK) ?? '';
    this.o.scriptLog('ip-request-resp(default)').info(`received ip-request-resp ${key} ${ok} ${msg.get(F.WEOWN) ?? ''}`);
    if (ok === 'OK') await this.track(() => this.takeGroup(key));
  }

  /** A peer ran hb_takeover: we go standby for the mirrored set (rc.d/hb_takeover). */
  private onHbTakeover(msg: HaMsg): void {
    const hold = msg.get(F.RSC_HOLD);
    const set = hold === 'local' ? RSC.FOREIGN : hold === 'foreign' ? RSC.LOCAL : RSC.ALL;
    this.requestStandby(set);
  }

  /** hb_standby: sends the standby request of the 3-phase protocol. */
  requestStandby(set: RscSet): void {
    this.o.scriptLog('hb_standby(default)').info(`Going standby [${rscName(set)}].`);
    this.o.cluster.send(new HaMsg().add(F.TYPE, T.ASK_RESOURCES).add(F.RSC_HOLD, rscName(set)).add(F.INFO, 'me'));
  }

  private sendStonith(node: string, result: string): void {
    this.o.cluster.send(new HaMsg().add(F.TYPE, T.STONITH).add(F.NODE, node).add(F.RESULT, result));
  }

  // ------------------------------------------------------------------ shutdown

  /**
   * Gives up every group (right to left in each), after any running
   * transition finishes (spec 5.7). Resolves once all are released.
   */
  giveUpAll(): Promise<void> {
    return new Promise((resolve) => {
      const attempt = (): void => {
        if (!this.isStable()) {
          if (this.rscNeedsShutdown === null) this.log.warn('Shutdown delayed until current resource activity finishes.');
          this.rscNeedsShutdown = attempt;
          return;
        }
        this.rscNeedsShutdown = null;
        if (this.shutdownInProgress && this.state === 'shutdown' && this.iHold === RSC.NONE && this.busy === 0) {
          // Already released (e.g. a second request).
        }
        this.shutdownInProgress = true;
        this.iHold = RSC.NONE;
        this.state = 'shutdown';
        this.sendHeld(false, 'shutdown');
        this.log.info('Giving up all HA resources.');
        void this.track(async () => {
          for (const key of this.o.groups.allKeys()) await this.giveGroup(key);
          this.log.info('All HA resources relinquished.');
          resolve();
        });
      };
      attempt();
    });
  }

  shutdownIfNeeded(): void {
    const pending = this.rscNeedsShutdown;
    if (pending && this.isStable()) pending();
  }

  later(ms: number, fn: () => void): void {
    const t = this.o.clock.setTimer(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  stop(): void {
    this.rqstTimer?.cancel();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.standby.cancel();
  }

  /** Exposed for the standby protocol. */
  mirrorSet(set: RscSet): RscSet {
    return mirror(set);
  }
}
