/**
 * The node table: every configured node (normal and ping) with its status,
 * links, identity and sequence tracking. Plain data; the Cluster mutates it.
 */
import type { TimerHandle } from '../util/clock.js';
import { freshSeqState, type SeqState } from './sequencing.js';
import { uuidToText } from './state-files.js';

export type NodeStatus = 'init' | 'up' | 'active' | 'dead' | 'ping';
export type NodeType = 'normal' | 'ping';
export type LinkStatus = 'up' | 'dead';

export interface LinkRecord {
  name: string;
  status: LinkStatus;
  /** Monotonic ms of the last packet on this link; 0 = never. */
  lastHeardMs: number;
}

export interface NodeRecord {
  name: string;
  type: NodeType;
  status: NodeStatus;
  uuid: Buffer | undefined;
  /** Dead time this node advertised (`dt`), or the configured one. */
  deadtimeMs: number;
  /** Monotonic ms of the last accepted status message; 0 = never. */
  lastStatusMs: number;
  /** The peer's own clock (`ts`) of its last status, for the stale-status rule. */
  remoteLastUpdate: number;
  statusSeq: number;
  anyPacketsYet: boolean;
  seq: SeqState;
  links: LinkRecord[];
  /** NS_ackmsg bookkeeping: the random trigger digit for this peer, and what it acked of ours. */
  ackTrigger: number;
  ackedOurSeq: number;
  rexmitTimers: Map<number, TimerHandle>;
  weight: number;
  site: string;
}

export function newNode(name: string, type: NodeType, linkNames: string[], deadtimeMs: number, ackTrigger: number): NodeRecord {
  return {
    name,
    type,
    // Ping nodes too start in init, as in heartbeat's add_node: comm-up then
    // waits for their first reply or for initdead, like for any other node.
    status: 'init',
    uuid: undefined,
    deadtimeMs,
    lastStatusMs: 0,
    remoteLastUpdate: 0,
    statusSeq: 0,
    anyPacketsYet: false,
    seq: freshSeqState(),
    links: linkNames.map((n) => ({ name: n, status: 'dead', lastHeardMs: 0 })),
    ackTrigger,
    ackedOurSeq: 0,
    rexmitTimers: new Map(),
    weight: 100,
    site: '',
  };
}

/** Read-only view of a node for the API, cl_status and tests. */
export interface NodeView {
  name: string;
  type: NodeType;
  status: NodeStatus;
  uuid: string | undefined;
  links: { name: string; status: LinkStatus }[];
  weight: number;
  site: string;
}

export function toView(n: NodeRecord): NodeView {
  return {
    name: n.name,
    type: n.type,
    status: n.status,
    uuid: n.uuid ? uuidToText(n.uuid) : undefined,
    links: n.links.map((l) => ({ name: l.name, status: l.status })),
    weight: n.weight,
    site: n.site,
  };
}
