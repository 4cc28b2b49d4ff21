/**
 * A node's life: start, graceful shutdown, heartbeat's restart (after a
 * healed partition or a lost local heartbeat: give everything up, stay
 * silent a deadtime so peers see us gone, start again with a new
 * generation) and the reload of ha.cf (new messaging, resources kept).
 * Operations run one after another on a queue; the phase says what the
 * node is doing, and a later request sees it.
 */
import type { AuthCounters } from '../auth/authenticator.js';
import type { MonitorSpec } from '../config/hbts-cf.js';
import type { AuthKeys, HaConfig } from '../config/types.js';
import type { Cluster } from '../membership/cluster.js';
import { describeQuorum, QuorumRules, type QuorumMode } from '../resources/quorum.js';
import { sleep } from '../util/clock.js';
import { describeError } from '../util/errors.js';
import { assembleMessaging, assembleNode, type AssembledNode, type NodeParts } from './assemble.js';
import type { Messaging } from './messaging.js';

/** What attachments see of the running node. */
export interface NodeHandle {
  readonly cluster: Cluster;
  /** Packets accepted and rejected per reason (observers: /metrics). */
  readonly auth?: { snapshot(): AuthCounters };
}

/** Something that runs on top of the node (API server, FIFO, respawned clients, rc.d hooks). */
export interface Attachment {
  readonly name: string;
  start(node: NodeHandle): Promise<void> | void;
  /** Graceful shutdown: give up whatever it holds. */
  shutdown(): Promise<void>;
  /** Messaging restarted with a new node (reload of ha.cf): rebind, keep state. */
  rebind?(node: NodeHandle): void;
  /** The configuration changed (reload): take what applies at run time (apiauth, parameters). */
  reconfigure?(config: HaConfig): void;
  /** The node has fallen silent (its last status sent): release what must outlive the shutdown. */
  silenced?(): void;
}

export interface RuntimeOptions {
  parts: NodeParts;
  /** What runs on top of a freshly assembled node, in start order (shut down in reverse). */
  attachments: (node: AssembledNode, config: HaConfig) => Attachment[];
  /** For the shutdown log line. */
  pid: number;
}

export type RuntimePhase = 'new' | 'running' | 'restarting' | 'stopping' | 'stopped';

export class NodeRuntime {
  private node: AssembledNode | null = null;
  private attachments: Attachment[] = [];
  private phase_: RuntimePhase = 'new';
  private ops: Promise<void> = Promise.resolve();
  private parts: NodeParts;
  private resolveExit: (code: number) => void = () => undefined;
  /** Resolves with the exit code once the node has stopped for good. */
  readonly exited: Promise<number>;

  constructor(private readonly o: RuntimeOptions) {
    this.parts = o.parts;
    this.exited = new Promise((resolve) => { this.resolveExit = resolve; });
  }

  get phase(): RuntimePhase {
    return this.phase_;
  }
  get config(): HaConfig {
    return this.parts.config;
  }
  /** The node now running (undefined between a restart's stop and start). */
  get current(): AssembledNode | undefined {
    return this.node ?? undefined;
  }

  private get log(): NodeParts['log'] {
    return this.parts.log;
  }

  /** Assembles and starts the node; throws when it cannot start (nothing is left running). */
  async start(): Promise<void> {
    await this.startNode();
    this.phase_ = 'running';
  }

  /** Graceful shutdown: resources given up, `shutdone` announced, then silence. */
  shutdown(): void {
    if (this.phase_ === 'stopping' || this.phase_ === 'stopped') return;
    this.phase_ = 'stopping';
    this.enqueue(async () => {
      if (this.node) await this.giveUpAndStop();
      this.log.info(`${this.parts.nodename} Heartbeat shutdown complete.`);
      this.finish(0);
    });
  }

  restart(why: string): void {
    if (this.phase_ !== 'running') return;
    this.phase_ = 'restarting';
    this.enqueue(async () => {
      try {
        this.log.info(`Restarting heartbeat: ${why}`);
        await this.giveUpAndStop();
        this.log.info(`${this.parts.nodename} Heartbeat shutdown complete.`);
        await sleep(this.parts.clock, this.parts.config.deadtimeMs + 1000);
        if (this.phase_ !== 'restarting') return;
        this.log.info('Heartbeat restart: starting again.');
        await this.startNode();
        this.phase_ = 'running';
      } catch (err) {
        this.log.error(`Restart failed: ${describeError(err)}; exiting.`);
        this.finish(1);
      }
    });
  }

  /** A changed `quorum`: it governs resources from the next start of the node (a running gate is not swapped). */
  setQuorum(mode: QuorumMode): void {
    if ((this.parts.quorum ?? 'off') === mode) return;
    this.parts = { ...this.parts, quorum: mode };
    this.log.warn(`quorum ${mode}: takes effect when heartbeat next starts (or restarts).`);
  }

  /** A changed heartbeat-ts.cf: new monitors now and after any restart. */
  setMonitors(specs: readonly MonitorSpec[]): void {
    this.parts = { ...this.parts, monitors: specs };
    this.node?.resources?.setMonitors(specs);
  }

  /** A changed ha.cf: messaging restarts with it, resources keep what they hold. */
  reloadMessaging(config: HaConfig, keys: AuthKeys): Promise<void> {
    return this.enqueueResult(async () => {
      const node = this.node;
      if (this.phase_ !== 'running' || !node) return;
      this.parts = { ...this.parts, config, keys };
      const fresh = assembleMessaging(this.parts);
      await node.messaging.stop();
      node.resources?.bind(fresh.cluster);
      this.node = { messaging: fresh, resources: node.resources };
      await fresh.start();
      for (const a of this.attachments) {
        a.reconfigure?.(config);
        a.rebind?.(fresh);
      }
      this.watch(fresh);
    });
  }

  /** A changed authkeys alone: from now on only these keys sign and verify. */
  setKeys(keys: AuthKeys): void {
    this.parts = { ...this.parts, keys };
    this.node?.messaging.setKeys(keys);
  }

  private async startNode(): Promise<void> {
    const node = assembleNode(this.parts);
    await node.messaging.start();
    this.node = node;
    this.attachments = this.o.attachments(node, this.parts.config);
    for (const a of this.attachments) await a.start(node.messaging);
    this.watch(node.messaging);
  }

  private watch(m: Messaging): void {
    const c = m.cluster;
    c.on('partitionHeal', () => {
      if (this.phase_ !== 'running' || this.node?.messaging !== m) return;
      c.sendLocalStatus();
      this.parts.clock.setTimer(() => this.restart('cluster partition healed; giving up resources'), 2000);
    });
    c.on('nodeDead', (name) => {
      if (name === this.parts.nodename && this.node?.messaging === m) this.restart('no local heartbeat');
    });
    if (this.parts.quorum === 'majority') this.watchQuorum(m);
  }

  /**
   * quorum majority: a node whose partition loses quorum gives everything
   * up and rejoins as a new generation (the restart below), so that the
   * majority sees a restarted peer on heal, not a partition to restart for.
   */
  private watchQuorum(m: Messaging): void {
    const c = m.cluster;
    const rules = new QuorumRules(this.parts.config.nodes, this.parts.nodename);
    let had = false;
    c.on('nodeStatus', () => {
      const q = rules.evaluate(c.normalNodes());
      if (q.has) {
        had = true;
      } else if (had && this.phase_ === 'running' && this.node?.messaging === m) {
        this.log.crit(`Quorum lost: ${describeQuorum(q)} seen.`);
        this.restart('quorum lost; giving up resources and rejoining as a new generation');
      }
    });
  }

  /** Gives up every resource, announces `shutdone` and falls silent. */
  private async giveUpAndStop(): Promise<void> {
    const node = this.node;
    if (!node) return;
    this.log.info(`Heartbeat shutdown in progress. (${this.o.pid})`);
    for (const a of [...this.attachments].reverse()) await this.guarded(a.name, () => a.shutdown());
    if (node.resources) await this.guarded('resources', () => (node.resources as NonNullable<typeof node.resources>).shutdown());
    const c = node.messaging.cluster;
    c.sendShutdone();
    // Two more statuses after our own shutdone, as heartbeat does, so
    // peers see the final state before silence.
    c.sendLocalStatus();
    c.sendLocalStatus();
    await node.messaging.stop();
    for (const a of this.attachments) a.silenced?.();
    this.node = null;
    this.attachments = [];
  }

  private async guarded(name: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.log.error(`${name}: shutdown failed: ${describeError(err)}`);
    }
  }

  private finish(code: number): void {
    this.phase_ = 'stopped';
    this.resolveExit(code);
  }

  private enqueue(work: () => Promise<void>): void {
    void this.enqueueResult(work).catch(() => undefined);
  }

  private enqueueResult(work: () => Promise<void>): Promise<void> {
    const run = this.ops.then(work);
    this.ops = run.catch(() => undefined);
    return run;
  }
}
