/**
 * The failover scenario steps shared by failover.test.ts (two heartbeat-ts
 * nodes, shared disk) and failover-mixed.test.ts (real heartbeat 3.0.6 next
 * to heartbeat-ts): who serves HTTP on the VIP, a crash with the link cut,
 * the crashed node's reboot and return, and checks that exactly one node
 * holds the VIP (and the disk) at each checkpoint.
 */
import { type Member, whoServes } from './failover-cluster.js';
import { type ExclusivityMonitor, rebootCleanup } from './failover-support.js';
import { ipAddrs, mounts, waitFor } from './harness/heartbeat.js';
import type { Lab } from './harness/lab.js';

export interface FailoverOptions {
  vip: string;
  /** HTTP port of the web service on the VIP */
  port: number;
  /** shared disk: device and mount point (failover.test.ts only) */
  device?: string;
  mountDir?: string;
}

export class Failover {
  /** Measured durations, printed by the tests (never asserted tightly). */
  readonly measurements: string[] = [];

  constructor(
    readonly lab: Lab,
    readonly members: readonly Member[],
    readonly monitor: ExclusivityMonitor,
    readonly o: FailoverOptions,
  ) {}

  member(i: number): Member {
    const m = this.members.find((x) => x.id === i);
    if (m === undefined) throw new Error(`no member ${i}`);
    return m;
  }

  /** Polls HTTP on the VIP until node i answers; returns the ms it took. */
  async waitServedBy(i: number, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    const name = this.lab.name(i);
    await waitFor(() => whoServes(this.lab, this.o.vip, this.o.port, 1000), {
      timeoutMs,
      intervalMs: 100,
      what: `HTTP on ${this.o.vip}:${this.o.port} answered by ${name}`,
      until: (w) => w.node === name,
    });
    return Date.now() - t0;
  }

  /** For `ms`, every HTTP answer on the VIP comes from node i. */
  async keepsServing(i: number, ms: number): Promise<void> {
    const name = this.lab.name(i);
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const w = await whoServes(this.lab, this.o.vip, this.o.port, 2000);
      if (w.node !== name) throw new Error(`expected ${name} to keep serving ${this.o.vip}, got: ${w.node || w.body}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * Waits until every member reports a stable resource state (rscstatus is
   * not `transition`). A standby request made while the other side is
   * still settling is refused by the requester ("Other side is in flux")
   * yet accepted by its peer, which then waits an hour for a handshake that
   * never comes — heartbeat's protocol, so the tests ask when stable, as an
   * administrator checking cl_status would.
   */
  async waitStable(timeoutMs = 30_000): Promise<void> {
    const stable = new Set(['local', 'foreign', 'all', 'none']);
    await waitFor(() => Promise.all(this.members.map((m) => m.rscstatus())), {
      timeoutMs,
      intervalMs: 300,
      what: 'every node stable (cl_status rscstatus)',
      until: (v) => v.every((x) => stable.has(x)),
    });
  }

  private async holdsVip(i: number): Promise<boolean> {
    return (await ipAddrs(this.lab, i)).includes(`${this.o.vip}/24`);
  }

  private async holdsMount(i: number): Promise<boolean> {
    if (this.o.mountDir === undefined) return false;
    return (await mounts(this.lab, i)).some((m) => m.target === this.o.mountDir);
  }

  /**
   * Node i holds the VIP (`ip addr`) and the disk; every other node not
   * listed in `frozen` (crashed and cut off) holds neither.
   */
  async expectSoleHolder(i: number, frozen: readonly number[] = []): Promise<void> {
    const problems: string[] = [];
    for (const m of this.members) {
      if (frozen.includes(m.id)) continue;
      const vip = await this.holdsVip(m.id);
      const mnt = await this.holdsMount(m.id);
      const want = m.id === i;
      if (vip !== want) problems.push(`node${m.id} ${vip ? 'holds' : 'lacks'} the VIP`);
      if (this.o.mountDir !== undefined && mnt !== want) problems.push(`node${m.id} ${mnt ? 'has' : 'lacks'} the disk mounted`);
    }
    if (problems.length > 0) throw new Error(`node${i} should be the only holder: ${problems.join(', ')}`);
  }

  /** No node holds the VIP or the disk. */
  async expectNobodyHolds(): Promise<void> {
    for (const m of this.members) {
      if (await this.holdsVip(m.id)) throw new Error(`node${m.id} still holds the VIP`);
      if (await this.holdsMount(m.id)) throw new Error(`node${m.id} still has the disk mounted`);
    }
  }

  /**
   * kill -9 of node i's daemon, then its link cut (a crashed machine): from
   * then on the monitor ignores node i, whose leftovers are frozen and
   * unreachable. Returns the time of the kill (Date.now()).
   */
  async crashAndCut(i: number): Promise<number> {
    const t = Date.now();
    await this.member(i).crash();
    await this.lab.cut(i, 'link');
    this.monitor.exclude(i);
    return t;
  }

  /**
   * The crashed node reboots and comes back: its leftovers (processes, the
   * VIP, the mount, /run) are cleaned as a reboot would, the monitor counts
   * it again from that moment, the link is healed and the daemon restarted.
   */
  async rebootAndRejoin(i: number): Promise<void> {
    await rebootCleanup(this.lab, i, { vip: this.o.vip, ...(this.o.mountDir !== undefined ? { mountDir: this.o.mountDir } : {}) });
    this.monitor.include(i);
    await this.lab.heal(i);
    await this.member(i).start();
  }

  /** Stops every daemon gracefully, those holding nothing first; then nobody may hold anything. */
  async stopAll(): Promise<void> {
    const holders: Member[] = [];
    for (const m of this.members) {
      if (await this.holdsVip(m.id)) holders.push(m);
      else await m.stop();
    }
    for (const m of holders) await m.stop();
    await this.expectNobodyHolds();
  }

  /**
   * A clean slate between cases, whatever the previous one left: every
   * node "rebooted" (all processes gone, /run emptied, VIP and disk
   * released), links healed, every node counted by the monitor.
   */
  async resetAll(): Promise<void> {
    await this.lab.heal();
    for (const m of this.members) {
      await rebootCleanup(this.lab, m.id, { vip: this.o.vip, ...(this.o.mountDir !== undefined ? { mountDir: this.o.mountDir } : {}) });
      this.monitor.include(m.id);
    }
  }

  /** Throws with the monitor's timeline if the VIP or disk was ever on two counted nodes. */
  expectNoDoubleHolding(): void {
    const v = this.monitor.violations;
    if (v.length > 0) {
      const first = v.slice(0, 5).map((x) => `${(x.t / 1000).toFixed(1)} s ${x.what} on ${x.nodes.join('+')}`).join('; ');
      throw new Error(`held by two nodes at once (${v.length} samples): ${first}\ntimeline:\n${this.monitor.timeline()}`);
    }
    if (this.monitor.errors.length > 0) throw new Error(`monitor errors: ${this.monitor.errors.join('; ')}`);
  }

  note(text: string): void {
    this.measurements.push(text);
    console.log(`[failover] ${text}`);
  }
}
