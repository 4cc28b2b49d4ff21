/**
 * v1 resource management (spec 6; heartbeat's hb_resource.c and mach_down)
 * as one event-driven state machine: negotiation, standby, takeover (after
 * fencing where configured), the legacy `ip-request` exchange, the audits.
 * It alone owns the holdings; its helpers report through narrow interfaces,
 * and membership only feeds events in.
 */
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import { Acquisition } from './acquire.js';
import { ShutdownGate, StartupReport } from './gates.js';
import { Negotiation, type NegotiationHost } from './negotiation.js';
import { auditHoldings, mirror, mirrorOfHeld, RSC, rscName, type RscName, type RscSet } from './sets.js';
import { type Fencing, fencingFor } from './fencing.js';
import { StandbyProtocol, type StandbyHost } from './standby.js';
import type { ControllerOptions, ResourceState } from './types.js';
import { Work } from './work.js';

export type { ClusterAccess, ControllerOptions, ResourceState } from './types.js';

export class ResourceController {
  readonly nice: boolean;
  readonly auto: boolean;
  private iHold: RscSet = RSC.NONE;
  private otherHolds: RscSet = RSC.NONE;
  private otherStable = false;
  private takeoverInProgress = false;
  private shutdownInProgress = false;
  private rscNeedsFailback = false;
  private readonly report: StartupReport;
  private readonly shutdownGate: ShutdownGate;
  private readonly negotiation: Negotiation;
  private readonly standby: StandbyProtocol;
  private readonly work: Work;
  private readonly acquire: Acquisition;
  private readonly me: string;
  /** Peers that announced a graceful shutdown (legacy: no fencing needed). */
  private readonly shutdone = new Set<string>();
  /** STONITH before takeover, when devices are configured. */
  private readonly fencing: Fencing | undefined;

  constructor(private readonly o: ControllerOptions) {
    this.nice = o.autoFailback !== 'legacy';
    this.auto = o.autoFailback === 'on';
    this.me = o.cluster.myName;
    this.report = new StartupReport(o.log);
    this.shutdownGate = new ShutdownGate(() => this.isStable(), o.log);
    this.negotiation = new Negotiation(this.negotiationHost(), o.clock, o.requestDelayMs);
    this.work = new Work(o.clock, o.log, () => this.shutdownIfNeeded());
    this.standby = new StandbyProtocol(this.standbyHost(), {
      groups: o.groups,
      send: (m) => void o.cluster.send(m),
      log: o.log,
      clock: o.clock,
    });
    this.acquire = new Acquisition({
      cluster: o.cluster,
      clock: o.clock,
      groups: o.groups,
      work: this.work,
      log: o.log,
      scriptLog: o.scriptLog,
      nice: this.nice,
      standbyAfterFailedStart: (set) => this.work.later(o.failedStartStandbyDelayMs ?? 30_000, () => this.requestStandby(set)),
      sendHeld: (stable, comment) => this.sendHeld(stable, comment),
    });
    this.fencing = fencingFor(o, (node, result) => this.sendStonith(node, result), (node) => this.takeoverFromNode(node));
  }

  /** The negotiation's view of this controller: the holdings it reads and changes. */
  private negotiationHost(): NegotiationHost {
    return {
      auto: this.auto,
      log: this.o.log,
      report: this.report,
      otherIsStable: () => this.otherStable,
      setOtherStable: (stable) => { this.otherStable = stable; },
      takeoverInProgress: () => this.takeoverInProgress,
      standbyActive: () => this.standby.active,
      cancelStandby: () => this.standby.cancel(),
      peerHolds: (update) => (this.otherHolds = update(this.otherHolds)),
      weHold: (update) => (this.iHold = update(this.iHold)),
      machDownComplete: () => {
        this.takeoverInProgress = false;
        this.iHold = (this.iHold | RSC.FOREIGN) as RscSet;
        this.rscNeedsFailback = true;
        this.otherStable = true;
      },
      sendHeld: (stable, comment) => this.sendHeld(stable, comment),
      reqOurResources: () => this.reqOurResources(false),
      performAutoFailback: () => this.performAutoFailback(),
      audit: () => this.audit(),
    };
  }

  /** The standby protocol's view of this controller: what it reads, what it reports. */
  private standbyHost(): StandbyHost {
    return {
      auto: this.auto,
      otherIsStable: () => this.otherStable,
      locallyStable: () => this.negotiation.state === 'stable',
      standbyBegan: () => { this.otherStable = false; },
      standbyTimedOut: () => {
        this.otherStable = true;
        this.shutdownIfNeeded();
      },
      givingUp: (set) => {
        this.otherStable = false;
        this.iHold = (this.iHold & ~set & 3) as RscSet;
        this.sendHeld(false, 'standby');
      },
      released: (set) => { this.iHold = (this.iHold & ~set & 3) as RscSet; },
      acquired: (set) => {
        if (this.auto) this.report.local('auto_failback');
        this.iHold = (this.iHold | mirror(set)) as RscSet;
      },
      finished: () => this.sendHeld(true),
      track: (w) => this.work.track(w),
      vetoAcquire: (keys) => this.o.acquireVeto?.(keys),
      takeGroup: (key) => this.acquire.takeGroup(key),
      giveGroup: (key) => this.o.groups.giveGroup(key).then(() => undefined),
    };
  }

  // ------------------------------------------------------------------ status
  get state(): ResourceState { return this.negotiation.state; }
  get otherIsStable(): boolean { return this.otherStable; }
  /** Group operations in flight (heartbeat's ResourceMgmt_child_count). */
  get busy(): number { return this.work.busy; }

  /** hb_rsc_isstable */
  isStable(): boolean {
    if (!this.nice) return this.work.busy === 0;
    if (this.shutdownInProgress && this.negotiation.state === 'init') return true;
    return this.otherStable && !this.takeoverInProgress && this.standby.idle && this.work.busy === 0
      && (this.negotiation.state === 'stable' || this.negotiation.state === 'shutdown' || this.negotiation.state === 'init');
  }

  /** Both sides' holdings as this node knows them (hb_status: who holds which group). */
  get holdings(): { iHold: RscSet; otherHolds: RscSet } { return { iHold: this.iHold, otherHolds: this.otherHolds }; }

  /** What `cl_status rscstatus` reports. */
  rscstatus(): RscName | 'transition' {
    return this.isStable() ? rscName(this.iHold) : 'transition';
  }

  // ------------------------------------------------------------------ inputs

  commUp(): void {
    const dead = this.o.cluster.normalNodes().filter((n) => n.status === 'dead').length;
    if (dead === 0) this.report.markForeign();
    if (this.nice) {
      this.o.cluster.send(new HaMsg().add(F.TYPE, T.STARTING));
      this.negotiation.started();
    } else {
      this.acquire.legacy.acquireWhenPeersKnown(this.o.peerStatusWaitMs ?? 5000, () => {
        if (!this.shutdownInProgress) this.reqOurResources(false);
      });
    }
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
          this.o.log.info('Standby mode only implemented when nice_failback on');
          break;
        }
        if (this.negotiation.state === 'shutdown') break;
        this.standby.onMessage(msg, fromMe);
        this.shutdownIfNeeded();
        break;
      case T.IP_REQUEST:
        if (!fromMe) void this.acquire.legacy.onRequest(msg, from);
        break;
      case T.IP_REQUEST_RESP:
        if (msg.get(F.TO) === this.me) void this.acquire.legacy.onResponse(msg);
        break;
      case T.HB_TAKEOVER:
        // a peer ran hb_takeover: we go standby for the mirrored set (rc.d/hb_takeover)
        if (!fromMe) this.requestStandby(mirrorOfHeld(msg.get(F.RSC_HOLD)));
        break;
      default:
        void local;
    }
  }

  nodeDead(node: string, anyPacketsYet: boolean): void {
    if (this.standby.active) {
      this.o.log.info('Cancelling pending standby operation');
      this.standby.cancel();
      if (!this.otherStable && this.iHold === RSC.ALL) this.otherStable = true;
      this.shutdownIfNeeded();
    }
    if (this.shutdownInProgress) {
      if (this.negotiation.state !== 'shutdown' && this.negotiation.state !== 'stable') void this.giveUpAll();
      return;
    }
    this.rscNeedsFailback = true;
    const needFencing = !(anyPacketsYet && (this.nice ? this.otherHolds === RSC.NONE : this.shutdone.has(node)));
    if (needFencing && this.fencing) {
      this.fencing.fenceThenTakeover(node);
      return;
    }
    if (needFencing) {
      this.sendStonith(node, 'n_stnth');
      this.o.log.warn('No STONITH device configured.');
      this.o.log.warn('Shared disks are not protected.');
      this.takeoverFromNode(node);
      return;
    }
    this.o.log.info(`Dead node ${node} gave up resources.`);
    this.sendStonith(node, 'unneeded');
    if (!this.nice) {
      this.takeoverFromNode(node);
      return;
    }
    if (this.iHold === RSC.ALL) {
      this.otherStable = true;
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
    if (!this.negotiation.onMessage(type, msg, fromMe)) return;
    this.audit();
    this.shutdownIfNeeded();
  }

  private onShutdone(msg: HaMsg, fromMe: boolean): void {
    if (fromMe) {
      this.negotiation.shuttingDown();
      this.iHold = RSC.NONE;
      return;
    }
    // heartbeat also starts a handshake-less standby acquisition here whose
    // set computation is inverted; taking over the departing node's groups
    // and our own (below) reaches the intended end state directly.
    const node = msg.get(F.ORIG) ?? '';
    this.shutdone.add(node);
    this.otherStable = false;
    this.otherHolds = RSC.NONE;
    this.o.log.info(`Received shutdown notice from '${node}'.`);
    this.takeoverFromNode(node);
  }

  /** (Re)announces holdings. */
  private sendHeld(stable: boolean, comment?: string): void {
    if (!this.nice) return;
    const m = new HaMsg()
      .add(F.TYPE, T.RESOURCE)
      .add(F.RSC_HOLD, rscName(this.iHold))
      .add(F.RTYPE, 'full')
      .add(F.ISSTABLE, stable ? '1' : '0');
    if (comment !== undefined) m.add(F.INFO, comment);
    this.o.cluster.send(m);
  }

  /** The audits of spec 6.3, logged when they happen. */
  private audit(): void {
    if (!this.nice) return;
    const settled = this.isStable() && !this.shutdownInProgress && this.negotiation.state !== 'shutdown';
    for (const line of auditHoldings({ iHold: this.iHold, otherHolds: this.otherHolds, settled })) this.o.log.error(line);
  }

  private performAutoFailback(): void {
    if (this.shutdownInProgress || !(this.iHold & RSC.FOREIGN) || !this.rscNeedsFailback || !this.auto) {
      this.rscNeedsFailback = false;
      this.shutdownIfNeeded();
      return;
    }
    if (!this.standby.idle || !this.otherStable || this.negotiation.state !== 'stable' || this.work.busy > 0) {
      this.o.log.debug('Auto failback delayed.');
      this.work.later(1000, () => this.performAutoFailback());
      return;
    }
    this.rscNeedsFailback = false;
    this.standby.request(RSC.FOREIGN);
  }

  // ------------------------------------------------------------------ acquisition

  /** req_our_resources (spec 6.2). */
  private reqOurResources(getThemAnyway: boolean): void {
    if (this.shutdownInProgress) return;
    if (this.nice) {
      if ((this.otherHolds & RSC.FOREIGN || this.iHold & RSC.LOCAL) && !getThemAnyway && this.standby.idle) {
        this.o.log.info('Local Resource acquisition completed. (none)');
        return;
      }
      this.iHold = (this.iHold | RSC.LOCAL) as RscSet;
    }
    this.acquire.ourGroups();
  }

  /** Takeover of a dead (or departing) node's groups: mach_down. */
  private takeoverFromNode(node: string): void {
    if (this.shutdownInProgress) {
      this.o.log.info('Resource takeover cancelled - shutdown in progress.');
      this.shutdownIfNeeded();
      return;
    }
    this.o.log.info(`Resources being acquired from ${node}.`);
    if (this.nice) {
      this.iHold = (this.iHold | RSC.FOREIGN) as RscSet;
      this.otherHolds = RSC.NONE;
      this.otherStable = true;
      this.takeoverInProgress = true;
    }
    this.acquire.takeover(node);
    this.reqOurResources(true);
  }

  /** heartbeat-ts.cf fast start: every node said it skips RQSTDELAY, so we do too. */
  expediteStart(): void { this.negotiation.expedite(); }

  /** quorum majority: this node is the one member taking `node`'s groups (2-node holdings aside), after fencing. */
  takeoverAsQuorumTaker(node: string): void {
    if (this.fencing) this.fencing.fenceThenTakeover(node);
    else this.takeoverFromNode(node);
  }

  /** Groups held here while everything is stable (what a monitor checks); none in legacy mode (no holdings kept). */
  heldKeys(): string[] {
    if (!this.nice || !this.isStable() || this.shutdownInProgress) return [];
    const g = this.o.groups;
    return [...(this.iHold & RSC.LOCAL ? g.ourKeys() : []), ...(this.iHold & RSC.FOREIGN ? g.otherKeys() : [])];
  }

  /** A monitor's move (only ever asked with nice_failback): standby of the set holding `key`; a reason when it cannot go now. */
  moveAway(key: string): string | undefined {
    if (!this.o.cluster.normalNodes().some((n) => n.name !== this.me && n.status !== 'dead')) return 'no other node is up';
    if (!this.standby.idle) return 'a standby is already in progress';
    this.requestStandby(this.o.groups.group(key)?.node === this.me ? RSC.LOCAL : RSC.FOREIGN);
    return undefined;
  }

  /** hb_standby: sends the standby request of the 3-phase protocol. */
  requestStandby(set: RscSet): void {
    this.o.scriptLog('hb_standby(default)').info(`Going standby [${rscName(set)}].`);
    this.standby.request(set);
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
    return new Promise((resolve) => this.shutdownGate.request(() => {
      this.shutdownInProgress = true;
      this.iHold = RSC.NONE;
      this.negotiation.shuttingDown();
      this.sendHeld(false, 'shutdown');
      this.o.log.info('Giving up all HA resources.');
      void this.work.track(async () => {
        for (const key of this.o.groups.allKeys()) await this.o.groups.giveGroup(key);
        this.o.log.info('All HA resources relinquished.');
        resolve();
      });
    }));
  }

  private shutdownIfNeeded(): void {
    this.shutdownGate.poll();
  }

  stop(): void {
    this.fencing?.stop();
    this.negotiation.stop();
    this.work.stop();
    this.standby.cancel();
  }
}
