/**
 * Taking groups: our own (req_our_resources), a dead or departing node's
 * (mach_down), and one group with heartbeat's reaction to a failed start.
 * Only group work and the messages that report it; the holdings these
 * change belong to the controller, which decides when to call them.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { F, T } from '../wire/fields.js';
import { HaMsg } from '../wire/message.js';
import type { GroupManager } from './group-manager.js';
import { LegacyIpRequest } from './legacy.js';
import { RSC, type RscSet } from './sets.js';
import type { ClusterAccess } from './types.js';
import type { Work } from './work.js';

export interface AcquireDeps {
  cluster: ClusterAccess;
  clock: Clock;
  groups: GroupManager;
  work: Work;
  log: Logger;
  scriptLog: (tag: string) => Logger;
  nice: boolean;
  /** After a failed start (nice_failback): ask, later, for standby of the group's set. */
  standbyAfterFailedStart(set: RscSet): void;
  /** Announces holdings once our own groups are taken. */
  sendHeld(stable: boolean, comment?: string): void;
}

export class Acquisition {
  /** auto_failback legacy: asking for our groups, and the waiting at comm-up. */
  readonly legacy: LegacyIpRequest;
  private readonly me: string;

  constructor(private readonly d: AcquireDeps) {
    this.me = d.cluster.myName;
    this.legacy = new LegacyIpRequest({ ...d, takeGroup: (key) => this.takeGroup(key) });
  }

  /** Our own groups: taken (nice_failback, or nobody else up), else asked for with ip-request. */
  ourGroups(): void {
    const nodes = this.d.cluster.normalNodes();
    let upcount = nodes.filter((n) => n.status === 'active').length;
    if (nodes.find((n) => n.name === this.me)?.status !== 'active') upcount++;
    const keys = this.d.groups.ourKeys();
    void this.d.work.track(async () => {
      for (const key of keys) {
        const first = this.d.groups.group(key)?.resources[0];
        if (first && (await this.d.groups.isRunning(first))) continue;
        if (this.d.nice || upcount < 2) await this.takeGroup(key);
        else this.legacy.ask(key);
      }
      if (keys.length === 0) this.d.log.info(`No local resources [ResourceManager listkeys ${this.me}] to acquire.`);
      else this.d.log.info('Local Resource acquisition completed.');
      this.d.sendHeld(true, 'req_our_resources()');
    });
  }

  /** mach_down: the groups whose preferred owner is `node`. */
  takeover(node: string): void {
    const md = this.d.scriptLog('mach_down(default)');
    const keys = this.d.groups.keysOf(node);
    void this.d.work.track(async () => {
      for (const key of keys) {
        md.info(`Taking over resource group ${key}`);
        await this.takeGroup(key);
      }
      if (this.d.nice) {
        md.info('/usr/share/heartbeat/mach_down: nice_failback: foreign resources acquired');
        this.d.cluster.send(new HaMsg().add(F.TYPE, T.RESOURCE).add(F.RSC_HOLD, 'foreign').add(F.INFO, 'mach_down'));
      }
      md.info(`mach_down takeover complete for node ${node}.`);
    });
  }

  /** takegroup, and heartbeat's reaction to a failed start: ask for standby of that group's set later. */
  async takeGroup(key: string): Promise<void> {
    const result = await this.d.groups.takeGroup(key);
    if (result.ok || !this.d.nice) return;
    // heartbeat meant to ask for standby of the failed group's set but a
    // trailing space made it always ask `foreign`; we ask for the right set.
    this.d.standbyAfterFailedStart(this.d.groups.group(key)?.node === this.me ? RSC.LOCAL : RSC.FOREIGN);
  }
}
