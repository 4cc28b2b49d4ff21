/** Shared types of the resource layer. */
import type { HaMsg } from '../wire/message.js';

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
