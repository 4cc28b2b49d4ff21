/**
 * `quorum majority` (heartbeat-ts.cf): which partition may run resources.
 * Heartbeat v1 has no quorum: with three or more nodes every survivor of a
 * partition takes the lost nodes' groups. Here a partition runs resources
 * only while it sees more than half of the configured normal nodes (itself
 * included, ping nodes excluded), and exactly one member takes a dead
 * node's groups: the first live node in ha.cf `node` order. Pure rules; the
 * wiring is in lib/node (resources.ts gates, runtime.ts releases).
 */

export type QuorumMode = 'off' | 'majority';

export interface QuorumState {
  has: boolean;
  /** Normal nodes seen alive (up or active), ourselves included, in ha.cf order. */
  live: string[];
  configured: number;
}

/** What a node's status table says, as the rules need it. */
export interface NodeSeen { name: string; status: string }

export class QuorumRules {
  private readonly order: string[];
  private readonly me: string;

  constructor(configuredNodes: readonly string[], me: string) {
    this.order = configuredNodes.map((n) => n.toLowerCase());
    this.me = me.toLowerCase();
  }

  get configured(): number {
    return this.order.length;
  }

  /** Quorum from the node table: only nodes heard alive count (a node never heard is not a member). */
  evaluate(nodes: readonly NodeSeen[]): QuorumState {
    const alive = new Set(nodes.filter((n) => n.status === 'up' || n.status === 'active').map((n) => n.name.toLowerCase()));
    alive.add(this.me);
    const live = this.order.filter((n) => alive.has(n));
    return { has: live.length * 2 > this.order.length, live, configured: this.order.length };
  }

  /** The member that takes a dead node's groups: the first live node in ha.cf order. */
  taker(state: QuorumState, dead: string): string | undefined {
    const d = dead.toLowerCase();
    return state.live.find((n) => n !== d);
  }

  isMe(name: string | undefined): boolean {
    return name !== undefined && name.toLowerCase() === this.me;
  }

  /**
   * Time the taker waits after a death before starting anything: the lost
   * side declares us dead about when we declare it dead, then stops what it
   * runs; half a deadtime (at least two heartbeats) leaves it that time.
   */
  static graceMs(deadtimeMs: number, keepaliveMs: number): number {
    return Math.max(Math.round(deadtimeMs / 2), 2 * keepaliveMs);
  }
}

/** One line for the log: `2 of 3 nodes (node2, node3)`. */
export function describeQuorum(s: QuorumState): string {
  return `${s.live.length} of ${s.configured} nodes (${s.live.join(', ')})`;
}
