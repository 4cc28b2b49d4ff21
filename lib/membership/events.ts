/**
 * What membership publishes. Upper layers (resources, API, ipfail) subscribe;
 * membership never calls them.
 */
import type { HaMsg } from '../wire/message.js';
import type { LinkStatus, NodeStatus } from './nodes.js';

export interface MembershipChange {
  /** Normal nodes currently alive (not dead), ourselves included, in config order. */
  members: string[];
  joined: string[];
  left: string[];
}

export interface ClusterEvents {
  /** A node's status changed (`Status update for node X: status Y`, or dead). */
  nodeStatus: [node: string, status: NodeStatus, previous: NodeStatus];
  link: [node: string, link: string, status: LinkStatus];
  membership: [change: MembershipChange];
  /**
   * A node was declared dead (silence past its deadtime, or a late heartbeat
   * past it). `heardFrom`: we had received packets from it since it was last
   * dead or since we started (it may have announced it holds nothing).
   */
  nodeDead: [node: string, heardFrom: boolean];
  /** Our communications are up: local status became `active`. */
  commUp: [];
  /** A peer restarted (higher generation). */
  peerRestart: [node: string];
  /** A peer we had declared dead came back with the same generation. */
  partitionHeal: [node: string];
  /** Our own event loop was stalled for this long; liveness judgements were deferred. */
  stalled: [ms: number];
  /**
   * A message for the upper layers (every type without a built-in membership
   * handler), after sequencing; `local` is true for our own loopback copy.
   */
  message: [msg: HaMsg, from: string, local: boolean];
  /** Our own status (a heartbeat) went out: the watchdog is fed from here, in step with the heartbeats. */
  statusSent: [];
  /** Our own `shutdone` came back: the graceful shutdown may finish. */
  shutdownComplete: [];
}
