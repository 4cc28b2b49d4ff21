/**
 * auto_failback legacy: waiting for peers' status at comm-up, and the `ip-request` exchange: a node asks the
 * holder of one of its groups to release it (rc.d/ip-request), the holder
 * answers with `ip-request-resp` (rc.d/ip-request-resp) and the asker takes
 * it. Holds no state of its own: group work goes through the controller's
 * work tracker.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import type { GroupManager } from './group-manager.js';
import type { ClusterAccess } from './types.js';
import type { Work } from './work.js';

export interface LegacyDeps {
  cluster: ClusterAccess;
  clock: Clock;
  groups: GroupManager;
  work: Work;
  takeGroup(key: string): Promise<void>;
  scriptLog: (tag: string) => Logger;
}

export class LegacyIpRequest {
  constructor(private readonly d: LegacyDeps) {}

  /**
   * Legacy asks a peer for our groups only when it counts as `active`. Right
   * after comm-up a peer heard only through a non-status packet (an ack of
   * our first messages, sent before its next heartbeat) is still `init` in
   * our table, so we would take our groups without asking while it holds
   * them — a race heartbeat has. We wait, bounded, for its status first.
   */
  acquireWhenPeersKnown(waitMs: number, acquire: () => void): void {
    const deadline = this.d.clock.nowMs() + waitMs;
    const me = this.d.cluster.myName;
    const attempt = (): void => {
      const unknown = this.d.cluster.normalNodes()
        .some((n) => n.name !== me && n.status !== 'dead' && n.anyPacketsYet && n.statusKnown === false);
      if (unknown && this.d.clock.nowMs() < deadline) this.d.work.later(100, attempt);
      else acquire();
    };
    attempt();
  }

  /** Asks the holder for one of our groups. */
  ask(key: string): void {
    this.d.cluster.send(new HaMsg().add(F.TYPE, T.IP_REQUEST).add(F.IPADDR, key));
  }

  async onRequest(msg: HaMsg, from: string): Promise<void> {
    const key = msg.get(F.IPADDR);
    if (!key) return;
    const first = this.d.groups.group(key)?.resources[0];
    let weown = false;
    await this.d.work.track(async () => {
      if (first && (await this.d.groups.isRunning(first))) {
        weown = true;
        await this.d.groups.giveGroup(key);
      }
    });
    this.d.cluster.send(new HaMsg().add(F.TYPE, T.IP_REQUEST_RESP).add(F.TO, from).add(F.IPADDR, key)
      .add(F.WEOWN, weown ? 'yes' : 'no').add(F.OK, 'OK'));
  }

  async onResponse(msg: HaMsg): Promise<void> {
    const key = msg.get(F.IPADDR);
    if (!key) return;
    const ok = msg.get(F.OK) ?? '';
    this.d.scriptLog('ip-request-resp(default)').info(`received ip-request-resp ${key} ${ok} ${msg.get(F.WEOWN) ?? ''}`);
    if (ok === 'OK') await this.d.work.track(() => this.d.takeGroup(key));
  }
}
