/** Shared types of the resource layer. */
import type { AutoFailback } from '../config/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { HaMsg } from '../wire/message.js';
import type { Fencer } from './fencing.js';
import type { GroupManager } from './group-manager.js';

export type ResourceState = 'init' | 'starting' | 'bothstarting' | 'rscrcvd' | 'stable' | 'shutdown';

/** What the resource layer needs from membership. */
export interface ClusterAccess {
  readonly myName: string;
  send(msg: HaMsg): number;
  /**
   * Normal nodes with their status. `statusKnown` false: packets came from
   * the node but no status message yet (its status is only our default).
   */
  normalNodes(): { name: string; status: string; anyPacketsYet: boolean; statusKnown?: boolean }[];
}

/** What a ResourceController is built from. */
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
  /** STONITH devices: a dead node that may hold resources is reset before its groups are taken. */
  fencer?: Fencer;
  /**
   * heartbeat-ts.cf monitoring: a reason to refuse taking these groups in a
   * standby exchange (one failed here within its failure window).
   */
  acquireVeto?: (keys: string[]) => string | undefined;
  /** Legacy: longest wait at comm-up for heard peers to tell their status (about two keepalives). */
  peerStatusWaitMs?: number;
}
