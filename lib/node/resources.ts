/**
 * A node's resource half: group management and the v1 resource controller,
 * wired to whichever membership core currently runs (a reload of ha.cf
 * rebinds it to a new one; the controller keeps its holdings, as heartbeat
 * -R does). This wiring is the only place membership meets resources.
 */
import type { MonitorSpec } from '../config/hbts-cf.js';
import type { HaConfig, ResourceGroup } from '../config/types.js';
import type { Cluster } from '../membership/cluster.js';
import { ResourceController } from '../resources/controller.js';
import type { Fencer } from '../resources/fencing.js';
import { GroupManager } from '../resources/group-manager.js';
import { ResourceMonitor, type MonitorEntry } from '../resources/monitor.js';
import { QuorumRules, type QuorumMode } from '../resources/quorum.js';
import { advertiseFastStart, watchFastStart } from './fast-start.js';
import { QuorumGate } from './quorum-gate.js';
import type { ResourceScripts } from '../resources/script-runner.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { HaMsg } from '../wire/message.js';

export interface ResourceParts {
  config: HaConfig;
  groups: ResourceGroup[];
  nodename: string;
  clock: Clock;
  log: Logger;
  scripts: ResourceScripts;
  /** HA_STOPRETRYMAX: stop retries, one per second. */
  stopRetryMax: number;
  /** A resource that will not stop: heartbeat reboots (nothing may reach the peers after this). */
  onUnstoppable: (spec: string) => void;
  /** RQSTDELAY (both nodes starting), normally 10 s. */
  requestDelayMs?: number;
  /** STONITH devices (ha.cf stonith/stonith_host). */
  fencer?: Fencer;
  /** heartbeat-ts.cf `monitor` lines (none without the file: 3.0.6's behaviour). */
  monitors?: readonly MonitorSpec[];
  /** heartbeat-ts.cf `quorum` (off without the file: 3.0.6's behaviour). */
  quorum?: QuorumMode;
  /** heartbeat-ts.cf `fast_start` (off without the file: 3.0.6's RQSTDELAY). */
  fastStart?: boolean;
}

export class NodeResources {
  readonly groupManager: GroupManager;
  readonly controller: ResourceController;
  private monitor: ResourceMonitor | null = null;
  private cluster: Cluster | null = null;
  private unbind: (() => void) | null = null;

  constructor(private readonly p: ResourceParts) {
    this.groupManager = new GroupManager({
      groups: p.groups,
      myName: p.nodename,
      runner: p.scripts,
      clock: p.clock,
      log: p.log.script('ResourceManager(default)'),
      stopRetryMax: p.stopRetryMax,
      onUnstoppable: (r) => p.onUnstoppable(r.spec),
    });
    this.controller = new ResourceController({
      cluster: {
        myName: p.nodename,
        send: (m) => this.cluster?.send(p.fastStart === true ? advertiseFastStart(m) : m) ?? 0,
        normalNodes: () => this.cluster?.normalNodes() ?? [],
      },
      groups: this.groupManager,
      autoFailback: p.config.autoFailback,
      peerStatusWaitMs: 2 * p.config.keepaliveMs + 500,
      clock: p.clock,
      log: p.log,
      scriptLog: (tag) => p.log.script(tag),
      ...(p.requestDelayMs !== undefined ? { requestDelayMs: p.requestDelayMs } : {}),
      ...(p.fencer !== undefined ? { fencer: p.fencer } : {}),
      acquireVeto: (keys) => this.monitor?.veto(keys),
    });
    this.setMonitors(p.monitors ?? []);
  }

  /** (Re)configures monitoring (start, reload of heartbeat-ts.cf); none: no monitor at all. */
  setMonitors(specs: readonly MonitorSpec[]): void {
    if (this.monitor) {
      this.monitor.configure(specs);
      return;
    }
    if (specs.length === 0) return;
    this.monitor = new ResourceMonitor({
      specs, groups: this.groupManager, clock: this.p.clock, log: this.p.log,
      host: { heldKeys: () => this.controller.heldKeys(), moveAway: (key) => this.controller.moveAway(key) },
    });
  }

  /** Monitored resources with their failure counts (`cl_status rscstatus -v`). */
  monitors(): MonitorEntry[] {
    return this.monitor?.report() ?? [];
  }

  /** Follows `cluster` from now on (and no longer the previous one). */
  bind(c: Cluster): void {
    this.unbind?.();
    this.cluster = c;
    const unwatch = this.p.fastStart === true ? watchFastStart(c, { me: this.p.nodename, nodes: this.p.config.nodes, controller: this.controller }) : (): void => undefined;
    if (this.p.quorum === 'majority') {
      const gate = new QuorumGate({
        rules: new QuorumRules(this.p.config.nodes, this.p.nodename), controller: this.controller, clock: this.p.clock, log: this.p.log,
        graceMs: QuorumRules.graceMs(this.p.config.deadtimeMs, this.p.config.keepaliveMs),
        me: this.p.nodename,
        hasOwnGroups: this.groupManager.ourKeys().length > 0,
        nodesWithGroups: new Set(this.p.groups.map((g) => g.node.toLowerCase())),
        answerWaitMs: this.p.config.initdeadMs + this.p.config.deadtimeMs,
      });
      const ungate = gate.bind(c);
      this.unbind = () => { ungate(); unwatch(); };
      return;
    }
    const onCommUp = (): void => this.controller.commUp();
    const onMessage = (msg: HaMsg, from: string, local: boolean): void => {
      // As in heartbeat, resource handlers exist only once comm is up:
      // earlier `starting`/`resource` messages are not for us yet.
      if (c.isCommUp) this.controller.message(msg, from, local);
    };
    const onDead = (name: string, heardFrom: boolean): void => {
      if (name === this.p.nodename || c.node(name)?.type !== 'normal') return;
      this.controller.nodeDead(name, heardFrom);
    };
    // Legacy: a restarted peer asks us for its groups only if it has seen
    // our status `active` by its comm-up; an ack of its first packets can
    // reach it before our next heartbeat and make it take them without
    // asking while we hold them (a heartbeat race). Our status goes first.
    const onPeerRestart = (): void => {
      if (this.p.config.autoFailback === 'legacy' && c.isCommUp) c.sendLocalStatus();
    };
    c.on('commUp', onCommUp);
    c.on('message', onMessage);
    c.on('nodeDead', onDead);
    c.on('peerRestart', onPeerRestart);
    this.unbind = () => {
      unwatch();
      c.off('commUp', onCommUp);
      c.off('message', onMessage);
      c.off('nodeDead', onDead);
      c.off('peerRestart', onPeerRestart);
    };
  }

  /** The process dies (simulated kill -9): every timer stops, nothing is released. */
  halt(): void {
    this.monitor?.stop();
    this.controller.stop();
  }

  /** Gives up every group (after any transition in flight) and stops the controller's timers. */
  async shutdown(): Promise<void> {
    this.monitor?.stop();
    await this.controller.giveUpAll();
    this.controller.stop();
  }
}
