/**
 * ipfail's decision logic (spec 12), as heartbeat 3.0.6's ipfail makes it:
 * compare the number of ping nodes each side of a two-node cluster can see,
 * and make the side that sees fewer give its resources away through the
 * standby protocol, after a delay (2 x keepalive) during which the other side
 * may still report a balance.
 *
 * This is the pure part: no sockets, one injected clock for the delayed
 * giveup and the post-stability recheck. The client process (API sign-on,
 * callbacks, respawn) feeds it events and carries out what it asks for:
 *
 *   inputs   nodeStatus(), linkStatus(), message() (hbapi-clstat, resource,
 *            num_ping_nodes, abort_giveup, you_are_dead), and two queries
 *            made when heartbeat's ipfail makes them: the nodes now in
 *            status `ping` and the local resource state.
 *   outputs  env.send(): messages to the partner or to the cluster (the
 *            giveup is an `ask_resources ... info=me` standby request), and
 *            the log lines ipfail writes, at its levels, through env.log.
 *
 * Differences from the C program, deliberate and noted where they happen:
 * the 10 s pause after the partner becomes stable is a timer, not a sleep
 * that blocks every other event; the number in `Aborted delayed giveup (N)`
 * is our own timer count, not a glib source id; malformed peer messages that
 * would crash the C program (a missing field) are logged and ignored.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T } from '../wire/fields.js';
import type { HaMsg } from '../wire/message.js';
import {
  IPFAIL_CLIENT, IPFAIL_T, abortGiveupMsg, askResourcesMsg, cAtoi, clStrToBoolean,
  numPingNodesMsg, youAreDeadMsg, type GiveupSet,
} from './messages.js';

/** The API's resource state: none|local|foreign|all|transition, undefined when resources are not managed. */
export type ResourceState = string | undefined;

export type IpfailOutbound =
  /** sendnodemsg: to the partner node's ipfail. */
  | { kind: 'node'; to: string; msg: HaMsg }
  /** sendclustermsg: the standby request of a giveup. */
  | { kind: 'cluster'; msg: HaMsg; giveup: GiveupSet };

export interface IpfailEnv {
  clock: Clock;
  /** Logger with entity `ipfail`; debug lines go to `log.debug`. */
  log: Logger;
  /** Names of the nodes whose status is `ping` right now, in node-walk order (ipfail's ping_node_status). */
  pingNodes(): readonly string[];
  /** The local resource state right now (ipfail's get_resources). */
  resources(): ResourceState;
  /** The daemon's keepalive in ms (get_keepalive). */
  keepaliveMs: number;
  send(out: IpfailOutbound): void;
}

export interface IpfailNode {
  name: string;
  /** `normal` or `ping`. */
  type: string;
  status: string;
}

export interface IpfailStartInput {
  myName: string;
  /** The `auto_failback` parameter as the daemon reports it (undefined if it has none). */
  autoFailback: string | undefined;
  /** The node walk, in the daemon's order. */
  nodes: readonly IpfailNode[];
}

export type IpfailStart =
  | { ok: true; ipfail: Ipfail }
  /** ipfail exits; 100 tells heartbeat not to respawn it. */
  | { ok: false; exitCode: number };

/** ipfail's main() after sign-on: checks, auto_failback, node walk (partner = last other normal node). */
export function startIpfail(input: IpfailStartInput, env: IpfailEnv): IpfailStart {
  const { log } = env;
  if (env.resources() === undefined) {
    log.error('No managed resources');
    return { ok: false, exitCode: 100 };
  }
  log.debug(`[We are ${input.myName}]`);
  let autoFailback = false;
  const param = input.autoFailback;
  if (param !== undefined) {
    if (param === 'legacy') {
      log.error('auto_failback set to incompatible legacy option.');
      return { ok: false, exitCode: 100 };
    }
    const b = clStrToBoolean(param);
    if (b === undefined) {
      // Spelling (leading space, "faiback") as ipfail prints it.
      log.error(` invalid auto_faiback value(${param})`);
      return { ok: false, exitCode: 100 };
    }
    autoFailback = b;
    log.debug(`auto_failback -> ${b ? 1 : 0} (${param})`);
  } else {
    log.error("Couldn't get auto_failback setting.");
  }
  // The client has its callbacks and filter by now (setfmode in the C program).
  log.debug('Setting message filter mode');
  log.debug('Starting node walk');
  let partner: string | undefined;
  for (const n of input.nodes) {
    log.debug(`Cluster node: ${n.name}: status: ${n.status}`);
    if (n.type === 'normal' && n.name !== input.myName) {
      partner = n.name;
      log.debug(`[They are ${partner}]`);
    }
  }
  return { ok: true, ipfail: new Ipfail(env, input.myName, partner, autoFailback) };
}

/** How long ipfail waits after the partner became stable before re-asking (its sleep(10)). */
export const STABLE_RECHECK_MS = 10_000;

export class Ipfail {
  private giveupTimer: { tag: number; handle: TimerHandle; set: GiveupSet } | undefined;
  private nextTag = 1;
  private recheckTimer: TimerHandle | undefined;
  /** A giveup fired while our resources were in transition: redo it once the partner is stable. */
  private needStandby = false;
  /** The partner's last reported stability (ipfail tracks it but decides on the local state). */
  private partnerStable: boolean | undefined;
  private stopped = false;

  constructor(
    private readonly env: IpfailEnv,
    readonly me: string,
    /** The other normal node; undefined in a one-node cluster (messages to it are then dropped). */
    readonly partner: string | undefined,
    readonly autoFailback: boolean,
  ) {}

  /** The set a pending delayed giveup will release, if one is pending. */
  get pendingGiveup(): GiveupSet | undefined {
    return this.giveupTimer?.set;
  }
  get waitingForStability(): boolean {
    return this.needStandby;
  }
  get partnerIsStable(): boolean | undefined {
    return this.partnerStable;
  }

  /** Cancels the timers; nothing is sent afterwards. */
  stop(): void {
    this.stopped = true;
    this.giveupTimer?.handle.cancel();
    this.giveupTimer = undefined;
    this.recheckTimer?.cancel();
    this.recheckTimer = undefined;
  }

  // ------------------------------------------------------------- inputs

  /** API node status callback (any node, ping nodes included). */
  nodeStatus(node: string, status: string): void {
    if (this.stopped) return;
    const { log } = this.env;
    log.info(`Status update: Node ${node} now has status ${status}`);
    if (status === 'dead') {
      log.info(this.pingCount() > 0 ? 'NS: We are still alive!' : 'NS: We are dead. :<');
    } else if (status === 'ping') {
      // A router came back: make sure both sides agree before anyone moves.
      log.info('A ping node just came up.');
      this.askPingNodes(this.pingCount());
    }
  }

  /** API link status callback. */
  linkStatus(node: string, link: string, status: string): void {
    if (this.stopped) return;
    const { log } = this.env;
    log.info(`Link Status update: Link ${node}/${link} now has status ${status}`);
    if (status !== 'dead') return;
    const n = this.pingCount();
    if (n > 0) {
      this.askPingNodes(n);
      log.info('Checking remote count of ping nodes.');
    } else {
      log.info('We are dead. :<');
      this.askPingNodes(0);
    }
  }

  /** Any message the API delivers to ipfail; the ones it has callbacks for are acted on. */
  message(msg: HaMsg): void {
    if (this.stopped) return;
    switch (msg.get(F.TYPE)) {
      case T.APICLSTAT:
        this.onClientStatus(msg);
        break;
      case T.RESOURCE:
        this.onResources(msg);
        break;
      case IPFAIL_T.NUM_PING_NODES:
        this.onNumPingNodes(msg);
        break;
      case IPFAIL_T.ABORT_GIVEUP:
        this.abortGiveup();
        break;
      case IPFAIL_T.YOU_ARE_DEAD:
        this.env.log.info('Giving up because we were told that we have less ping nodes.');
        this.delayGiveup('all');
        break;
      default:
        break;
    }
  }

  /** hbapi-clstat: the partner's ipfail joined, compare counts. */
  private onClientStatus(msg: HaMsg): void {
    const from = msg.get(F.ORIG);
    if (msg.get(F.STATUS) !== 'join' || msg.get(F.FROMID) !== IPFAIL_CLIENT || from === undefined || from === this.me) return;
    this.env.log.debug(`Got join message from another ipfail client. (${from})`);
    this.askPingNodes(this.pingCount());
  }

  /** `resource` messages: learn when the partner's resource transition is over. */
  private onResources(msg: HaMsg): void {
    const orig = msg.get(F.ORIG);
    const isstable = msg.get(F.ISSTABLE);
    if (orig === undefined || isstable === undefined || orig !== this.partner) return;
    if (!msg.has(F.INFO) && isstable === '1') {
      this.env.log.debug('Other side is now stable.');
      this.partnerStable = true;
      if (this.needStandby && this.recheckTimer === undefined) {
        // ipfail sleeps 10 s here (resource scripts may still be busy), then
        // re-counts instead of giving up blindly.
        this.recheckTimer = this.env.clock.setTimer(() => {
          this.recheckTimer = undefined;
          if (this.stopped) return;
          this.askPingNodes(this.pingCount());
          this.needStandby = false;
        }, STABLE_RECHECK_MS);
      }
    } else if (isstable === '0') {
      this.env.log.debug('Other side is unstable.');
      this.partnerStable = false;
    }
  }

  private onNumPingNodes(msg: HaMsg): void {
    const { log } = this.env;
    log.debug('Got asked for num_ping.');
    const theirsText = msg.get(F.NUM_PING);
    if (theirsText === undefined) {
      log.error(`num_ping_nodes message from ${msg.get(F.ORIG) ?? '<?>'} without ${F.NUM_PING} field: ignored`);
      return;
    }
    const mine = this.pingCount();
    const theirs = cAtoi(theirsText);
    if (mine > theirs) {
      log.info('Telling other node that we have more visible ping nodes.');
      log.debug('Sending you_are_dead.');
      this.sendToPartner(youAreDeadMsg());
      log.debug('Message [you_are_dead] sent.');
    } else if (mine < theirs) {
      log.info('Giving up because we have less visible ping nodes.');
      this.delayGiveup('all');
    } else {
      log.info('Ping node count is balanced.');
      this.sendToPartner(abortGiveupMsg(this.me));
      log.debug('Abort message sent.');
      if (this.giveupTimer !== undefined) {
        this.abortGiveup();
      } else if (this.autoFailback && this.isStable()) {
        // Balanced again: with auto_failback, hand back what belongs to the partner.
        log.info('Giving up foreign resources (auto_failback).');
        this.delayGiveup('foreign');
      }
    }
  }

  // ------------------------------------------------------------- actions

  private pingCount(): number {
    const found = this.env.pingNodes();
    for (const n of found) this.env.log.debug(`Found ping node ${n}!`);
    return found.length;
  }

  /** ipfail's is_stable(): true unless in transition (also when resources are unmanaged, as in C where -1 is true). */
  private isStable(): boolean {
    return this.env.resources() !== 'transition';
  }

  private sendToPartner(msg: HaMsg): void {
    if (this.partner === undefined) return;
    this.env.send({ kind: 'node', to: this.partner, msg });
  }

  private askPingNodes(count: number): void {
    this.env.log.info('Asking other side for ping node count.');
    this.sendToPartner(numPingNodesMsg(this.me, count));
    this.env.log.debug(`Message [${F.NUM_PING}] sent.`);
  }

  private delayGiveup(set: GiveupSet): void {
    const { log, clock } = this.env;
    const ms = this.env.keepaliveMs * 2;
    log.info(`Delayed giveup in ${Math.trunc(ms / 1000)} seconds.`);
    if (this.giveupTimer !== undefined) {
      log.debug('Detected existing delay timer, overriding');
      this.removeGiveupTimer();
    }
    const tag = this.nextTag++;
    const handle = clock.setTimer(() => this.giveup(set), ms);
    this.giveupTimer = { tag, handle, set };
  }

  private removeGiveupTimer(): void {
    this.giveupTimer?.handle.cancel();
    this.giveupTimer = undefined;
    this.env.log.debug('giveup timeout has been destroyed.');
  }

  private abortGiveup(): void {
    const t = this.giveupTimer;
    if (t !== undefined) {
      this.env.log.info(`Aborted delayed giveup (${t.tag})`);
      this.removeGiveupTimer();
    } else {
      this.env.log.info('No giveup timer to abort.');
    }
  }

  private giveup(set: GiveupSet): void {
    if (this.stopped) return;
    const { log } = this.env;
    log.info('giveup() called (timeout worked)');
    if (this.isStable()) {
      this.env.send({ kind: 'cluster', msg: askResourcesMsg(this.me, set), giveup: set });
      log.debug(`Message [${T.ASK_RESOURCES}] sent.`);
      this.needStandby = false;
    } else {
      this.needStandby = true;
    }
    this.removeGiveupTimer();
  }
}
