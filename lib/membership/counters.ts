/**
 * Running totals the membership core keeps for observers (the daemon's
 * /metrics): heartbeats, late heartbeats and lost packets per peer. Keyed
 * by configured node names only (the node table admits no others), so the
 * maps stay as small as the cluster.
 */
export interface PeerCounts {
  /** Status heartbeats received. */
  heartbeats: number;
  /** Heartbeats later than warntime (those past deadtime included). */
  late: number;
  /** Sequence numbers found missing (each starts a retransmission request). */
  lost: number;
  /** Times tracking was reset after a gap too large to ask for (`lost a lot of packets!`). */
  lostALot: number;
}

export class MembershipCounters {
  /** Our own status heartbeats sent. */
  heartbeatsSent = 0;
  private readonly peers = new Map<string, PeerCounts>();

  peer(name: string): PeerCounts {
    let p = this.peers.get(name);
    if (!p) {
      p = { heartbeats: 0, late: 0, lost: 0, lostALot: 0 };
      this.peers.set(name, p);
    }
    return p;
  }

  /** Every peer heard from so far, with its totals (copies). */
  snapshot(): Array<{ node: string } & PeerCounts> {
    return [...this.peers].map(([node, c]) => ({ node, ...c }));
  }
}
