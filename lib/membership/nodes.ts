/**
 * A node's record: status, links, identity and sequence tracking. Plain
 * data, changed only by the NodeTable (node-table.ts); everyone else gets
 * the read-only `NodeInfo`. Timing (when we last heard) belongs to
 * Liveness, retransmission and acks to Reliability.
 */
import { freshSeqState, type SeqState } from './sequencing.js';
import { uuidToText } from './state-files.js';

export type NodeStatus = 'init' | 'up' | 'active' | 'dead' | 'ping';
export type NodeType = 'normal' | 'ping';
export type LinkStatus = 'up' | 'dead';

export interface LinkRecord {
  name: string;
  status: LinkStatus;
}

export interface NodeRecord {
  name: string;
  type: NodeType;
  status: NodeStatus;
  uuid: Buffer | undefined;
  /** Dead time this node advertised (`dt`), or the configured one. */
  deadtimeMs: number;
  /** The peer's own clock (`ts`) of its last status, for the stale-status rule. */
  remoteLastUpdate: number;
  statusSeq: number;
  anyPacketsYet: boolean;
  seq: SeqState;
  links: LinkRecord[];
  weight: number;
  site: string;
}

export function newNode(name: string, type: NodeType, linkNames: string[], deadtimeMs: number): NodeRecord {
  return {
    name,
    type,
    // Ping nodes too start in init, as in heartbeat's add_node: comm-up then
    // waits for their first reply or for initdead, like for any other node.
    status: 'init',
    uuid: undefined,
    deadtimeMs,
    remoteLastUpdate: 0,
    statusSeq: 0,
    anyPacketsYet: false,
    seq: freshSeqState(),
    links: linkNames.map((n) => ({ name: n, status: 'dead' })),
    weight: 100,
    site: '',
  };
}

/** What the node table's collaborators may read of a record. */
export type NodeInfo = Readonly<Omit<NodeRecord, 'links' | 'seq'>> & {
  readonly links: readonly Readonly<LinkRecord>[];
  readonly seq: Readonly<Omit<SeqState, 'missing'>> & { readonly missing: ReadonlySet<number> };
};

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

export function toView(n: NodeInfo): NodeView {
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
