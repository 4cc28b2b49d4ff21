/**
 * Bringing communications up (spec 5.4): once every node was heard from or
 * declared dead, ask the first live peer for its node list (`reqnodes`,
 * retried every second) and go `active` on its `repnodes` — or at once when
 * no peer is alive, or without flow control (an old peer). A real 3.0.6
 * peer that gets no `repnodes` never leaves `up`, so we always answer.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import type { NodeInfo } from './nodes.js';

const REQNODES_RETRY_MS = 1000;

export type CommState = 'init' | 'linksup' | 'up';

export interface CommUpPort {
  /** The node table, read-only, in configuration order. */
  nodes(): readonly NodeInfo[];
  readonly myName: string;
  /** Flow control on: every peer speaks protocol 1, which has reqnodes. */
  flowControl(): boolean;
  send(msg: HaMsg): number;
  /** Every node heard: deadtime replaces initdead for liveness. */
  linksUp(): void;
  /** Local status `active`, membership published, `commUp` emitted. */
  commNowUp(): void;
}

export class CommUp {
  private state_: CommState = 'init';
  private gotRepnodes = false;
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly port: CommUpPort, private readonly clock: Clock) {}

  get state(): CommState {
    return this.state_;
  }

  /** After every received message and liveness check while still `init`. */
  check(): void {
    if (this.state_ !== 'init') return;
    if (!this.port.nodes().every((n) => n.anyPacketsYet || n.status === 'dead')) return;
    this.state_ = 'linksup';
    this.port.linksUp();
    if (this.port.flowControl()) this.sendReqnodes(0);
    else this.up();
  }

  onReqnodes(from: string): void {
    if (from === this.port.myName) return;
    const nodelist = this.port.nodes().filter((n) => n.type === 'normal').map((n) => `${n.name} `).join('');
    this.port.send(new HaMsg().add(F.TO, from).add(F.TYPE, T.REPNODES).add(F.NODELIST, nodelist).add(F.DELNODELIST, ' '));
  }

  onRepnodes(): void {
    this.gotRepnodes = true;
    this.timer?.cancel();
    this.timer = null;
    this.up();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private sendReqnodes(startIndex: number): void {
    if (this.gotRepnodes || this.stopped) return;
    const peers = this.port.nodes().filter((n) => n.name !== this.port.myName && n.type === 'normal');
    let index = startIndex >= peers.length ? 0 : startIndex;
    let target: NodeInfo | undefined;
    for (; index < peers.length; index++) {
      const p = peers[index];
      if (p && p.status !== 'dead') {
        target = p;
        break;
      }
    }
    if (!target) {
      this.gotRepnodes = true;
      this.up();
      return;
    }
    this.port.send(new HaMsg().add(F.TYPE, T.REQNODES).add(F.TO, target.name));
    const next = index;
    this.timer = this.clock.setTimer(() => this.sendReqnodes(next), REQNODES_RETRY_MS);
  }

  private up(): void {
    if (this.state_ === 'up') return;
    this.state_ = 'up';
    this.port.commNowUp();
  }
}
