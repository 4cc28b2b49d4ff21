/**
 * keepalived's side of the benchmark: a VRRPv3 group of lab nodes moving the
 * same VIP the Heartbeat clusters move, and how its timing is chosen next to
 * a Heartbeat setting (a backup's master-down interval ≈ the deadtime).
 */
import { type KeepalivedNode, keepalivedPids, masterDownMs, startKeepalived, vrrpPriority } from '../devtools/lab/keepalived.js';
import type { Lab } from '../devtools/lab/lab.js';
import { descendants, signalAll } from '../devtools/lab/proc.js';
import { type BenchContext, VIP_HOST } from './cluster.js';

/** The advert_int (centiseconds) whose master-down interval on node2 comes closest to `deadtimeMs`. */
export function advertFor(deadtimeMs: number): number {
  const perAdvert = masterDownMs(1, vrrpPriority(2)) / 1000;
  return Math.min(40.95, Math.max(0.01, Math.round(deadtimeMs / perAdvert / 10) / 100));
}

/** "advert_int 0.15s": the keepalived part of a setting label (README: how it is matched to the deadtime). */
export function advertLabel(advertS: number, realtime = false): string {
  return `advert_int ${advertS}s${realtime ? ', realtime' : ''}`;
}

export class KaCluster {
  private constructor(
    readonly lab: Lab,
    readonly advertS: number,
    readonly nodes: KeepalivedNode[],
    private readonly release: () => void,
  ) {}

  get vip(): string {
    return `${this.lab.subnet}.${VIP_HOST}`;
  }

  /** A lab of n nodes, keepalived started on each (node1 the preferred master). */
  static async start(ctx: BenchContext, n: number, advertS: number): Promise<KaCluster> {
    const { lab, release } = await ctx.lab(n);
    const nodes: KeepalivedNode[] = [];
    // killed by PID before the lab goes (the lab's removal would end them too, but not first)
    const unkill = ctx.cleanup.add(`keepalived of ${lab.labName}`, () => {
      for (const k of nodes) if (k.proc.pid !== undefined) signalAll([k.proc.pid, ...descendants(k.proc.pid)], 'SIGKILL');
    });
    const all = (): void => {
      unkill();
      release();
    };
    const c = new KaCluster(lab, advertS, nodes, all);
    try {
      for (const i of lab.ids()) nodes.push(await startKeepalived(lab, i, { advertS, vip: c.vip, prefix: 24, realtime: ctx.opts.keepalivedRealtime }));
      return c;
    } catch (err) {
      c.destroy();
      throw err;
    }
  }

  node(i: number): KeepalivedNode {
    const k = this.nodes[i - 1];
    if (k === undefined) throw new Error(`no keepalived on node${i}`);
    return k;
  }

  /** Host PIDs of node i's keepalived processes. */
  pids(i: number): Promise<number[]> {
    return keepalivedPids(this.lab, i);
  }

  /** Last log lines of every node, for failure messages. */
  tails(lines = 8): string {
    return this.nodes.map((k) => `--- node${k.node} (keepalived) ---\n${k.lines.slice(-lines).map((l) => l.text).join('\n')}`).join('\n');
  }

  destroy(): void {
    this.release();
  }
}
