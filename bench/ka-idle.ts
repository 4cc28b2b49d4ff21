/**
 * Scenario 5's keepalived column: a VRRPv3 pair at advert_int 1 s (the
 * counterpart of keepalive 1 s), its CPU and memory per node over the same
 * window, once the master is elected and the backup has heard it a while.
 */
import { MASTER_RE, waitLine } from '../devtools/lab/keepalived.js';
import { sleep } from '../devtools/lab/proc.js';
import type { BenchContext } from './cluster.js';
import { KaCluster } from './ka-cluster.js';
import { usageOver } from './usage.js';

export async function keepalivedIdle(ctx: BenchContext, setting: string, runs: number, windowMs: number): Promise<void> {
  for (let run = 1; run <= runs; run++) {
    ctx.say(`[5] idle cost, 2 nodes, keepalived, run ${run}/${runs}`);
    let c: KaCluster | undefined;
    try {
      c = await KaCluster.start(ctx, 2, 1);
      const cl = c;
      await waitLine(cl.node(1), MASTER_RE, { timeoutMs: 60_000 });
      await sleep(5000); // the start-up's gratuitous ARPs (a second burst after 5 s) are not idle
      const add = (metric: string, unit: string, v: number): void =>
        ctx.rec.add({ scenario: 'idle', metric, setting, daemon: 'keepalived', unit, better: 'lower' }, v);
      const cpu = await usageOver(cl.lab.ids(), (i) => cl.pids(i), windowMs, add);
      ctx.say(`  CPU per node: ${cpu.map((x) => `${x.toFixed(3)} %`).join(', ')}`);
    } catch (err) {
      ctx.say(`  FAILED: ${(err as Error).message.split('\n')[0] ?? ''}`);
      ctx.rec.failure('idle', `2 nodes keepalived run ${run}`, `${(err as Error).message}\n${c?.tails(5) ?? ''}`);
    } finally {
      c?.destroy();
    }
  }
}
