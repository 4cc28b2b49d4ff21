/**
 * STONITH (issue 18): the partition of partition.test.ts (two nodes, VIP +
 * ext4 on a shared loop device, link cut), now with a fencing device:
 * `stonith_host * external/hblab …`, the lab's power switch as a
 * cluster-glue external plugin (test/netns/fixtures/stonith/hblab). Both
 * nodes see the other dead and both ask to reset it; the switch serves the
 * first request (the asker of the second is off by then, like a real
 * machine), so one node survives and takes the group only after the reset.
 * The disk and the VIP are never on two nodes at once (sampled every 50 ms),
 * for heartbeat-ts, for Heartbeat 3.0.6 with the same ha.cf, and for the two
 * mixed pairs (either one can be the survivor).
 * Also: `meatware` waits for the operator (`meatclient -c`), and a device
 * that always fails makes the survivor retry every 5 s and never take over.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { Lab } from '../harness/lab.js';
import { REPO_ROOT } from '../harness/lab.js';
import { signalAll } from '../harness/proc.js';
import {
  createLoopDisk, FaultCluster, HoldingMonitor, type Impl, type LoopDisk, mountProbe, unmountEverywhere, vipProbe, waitHolding,
} from './support.js';

const MNT = '/srv/shared';
const PLUGIN_DIR = '/usr/lib/stonith/plugins/external';
const PLUGIN = readFileSync(join(REPO_ROOT, 'test/netns/fixtures/stonith/hblab'), 'utf8');
const clusters: FaultCluster[] = [];
const disks: LoopDisk[] = [];
const switches: PowerSwitch[] = [];

afterAll(async () => {
  for (const s of switches) s.stop();
  const problems = (await Promise.all(clusters.map((c) => c.teardown(() => unmountEverywhere(c.lab, MNT))))).flat();
  for (const d of disks) problems.push(...d.release());
  if (problems.length > 0) throw new Error(problems.join('; '));
}, 120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lab node switched off: cables out, every process killed, its mount and addresses gone. */
async function powerOff(lab: Lab, id: number): Promise<void> {
  await lab.cut(id);
  signalAll(await lab.pids(id), 'SIGKILL');
  await lab.sh(id, `umount -l ${MNT} 2>/dev/null; ip -4 addr flush dev eth0; true`);
}

/**
 * The lab's power switch: serves the plugin's `<asker>-<target>.reset`
 * requests by powering the target off — every process killed, its mounts
 * and addresses gone, its cables out — then answers `.done`. A request from
 * a node that is already off is dropped: a machine that is off asks nothing.
 */
class PowerSwitch {
  readonly dir = mkdtempSync(join(tmpdir(), 'hbts-fence-'));
  readonly off = new Set<string>();
  readonly log: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private lab: Lab | undefined;
  private readonly t0 = Date.now();

  /** Starts serving the nodes of `lab`. */
  start(lab: Lab): this {
    this.lab = lab;
    this.timer = setInterval(() => void this.poll(), 50);
    return this;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async poll(): Promise<void> {
    if (this.busy || !existsSync(this.dir)) return;
    this.busy = true;
    try {
      for (const f of readdirSync(this.dir).filter((x) => x.endsWith('.reset')).sort()) {
        const [asker, target] = f.slice(0, -'.reset'.length).split('-');
        if (asker === undefined || target === undefined) continue;
        rmSync(join(this.dir, f), { force: true });
        if (this.off.has(asker)) {
          this.log.push(`${this.ms()} ms: ${asker} asked to reset ${target}, but ${asker} is off`);
          continue;
        }
        await this.powerOff(target);
        writeFileSync(join(this.dir, `${asker}-${target}.done`), '');
        this.log.push(`${this.ms()} ms: ${target} powered off at ${asker}'s request`);
      }
    } finally {
      this.busy = false;
    }
  }

  private async powerOff(name: string): Promise<void> {
    this.off.add(name);
    if (this.lab !== undefined) await powerOff(this.lab, Number(name.replace('node', '')));
  }

  private ms(): number {
    return Date.now() - this.t0;
  }
}

async function fencedCluster(impl: Impl | readonly Impl[], device: (sw: PowerSwitch) => string | string[]): Promise<{ c: FaultCluster; sw: PowerSwitch; disk: LoopDisk }> {
  const disk = createLoopDisk();
  disks.push(disk);
  const sw = new PowerSwitch();
  switches.push(sw);
  const c = await FaultCluster.create({
    impl, nodes: 2, lab: { private: ['/srv:empty', `${PLUGIN_DIR}:copy`] },
    hacf: { deadtime: 5, initdead: 10, extra: [device(sw)].flat() },
    haresources: (lab) => `node1 IPaddr::${lab.subnet}.100/24/eth0 Filesystem::${disk.device}::${MNT}::ext4\n`,
  });
  clusters.push(c);
  sw.start(c.lab);
  for (const i of c.lab.ids()) {
    c.lab.writeFile(i, `${PLUGIN_DIR}/hblab`, PLUGIN, 0o755);
    await c.lab.exec(i, ['mkdir', '-p', MNT]);
  }
  return { c, sw, disk };
}

const hblab = (sw: PowerSwitch, mode = 'ok'): string => `stonith_host * external/hblab node1,node2 ${sw.dir} ${mode}`;

describe.concurrent('STONITH: partition with a shared disk, fenced', () => {
  // Mixed pairs: node1's device fails, so node2 is the one that fences: 3.0.6 fences heartbeat-ts,
  // then heartbeat-ts fences 3.0.6. Same-implementation pairs race (the switch serves the first).
  const pairs: Array<{ impl: Impl | readonly Impl[]; label: string }> = [
    { impl: 'ours', label: 'ours' }, { impl: 'real', label: 'real' },
    { impl: ['ours', 'real'], label: '3.0.6 (node2) fences heartbeat-ts (node1)' },
    { impl: ['real', 'ours'], label: 'heartbeat-ts (node2) fences 3.0.6 (node1)' },
  ];
  for (const { impl, label } of pairs) {
    const device = (sw: PowerSwitch): string[] => (typeof impl === 'string'
      ? [hblab(sw)]
      : [hblab(sw, 'fail').replace('stonith_host *', 'stonith_host node1'), hblab(sw).replace('stonith_host *', 'stonith_host node2')]);
    it(`${label}: one node is reset, the other takes the group after the reset; disk and VIP never on both`, async ({ expect }) => {
      const { c, sw } = await fencedCluster(impl, device);
      const m = new HoldingMonitor(c.lab, { vip: vipProbe(`${c.lab.subnet}.100`), fs: mountProbe(MNT) }, 50).start();
      await c.startAll();
      await waitHolding(m, 'node1 holds VIP and disk', (h) => h['vip']?.join() === '1' && h['fs']?.join() === '1', 60_000)
        .catch((err: unknown) => { console.log(c.log(1), c.out(1)); throw err; });
      const at = [c.logSize(1), c.logSize(2)];
      const cut = m.now();
      await c.lab.partition([[1], [2]]);
      // the holder must be the node left on: the switch marks a node off before its processes are gone
      await waitHolding(m, 'one node off, the other holding VIP and disk', (h) => sw.off.size === 1
        && h['vip']?.length === 1 && h['fs']?.length === 1 && h['vip']?.[0] === h['fs']?.[0]
        && !sw.off.has(`node${h['vip']?.[0] ?? 0}`), 90_000);
      const taken = m.now();
      const survivor = sw.off.has('node1') ? 2 : 1;
      await sleep(3000);
      m.stop();
      const log = c.log(survivor).slice(at[survivor - 1]);
      c.note(`stonith: node${survivor} survived; switch: ${sw.log.join('; ')}; group settled on node${survivor} by ${((taken - cut) / 1000).toFixed(1)} s after the cut\n${m.timeline(cut)}`);
      expect(m.doubles(0), m.timeline()).toEqual([]);
      const victim = survivor === 1 ? 'node2' : 'node1';
      expect(log).toMatch(new RegExp(`Resetting node ${victim} with \\[`));
      expect(log).toMatch(new RegExp(`node ${victim} now reset\\.`));
      expect(log).not.toMatch(/No STONITH device configured/);
      expect(m.current()['fs']).toEqual([survivor]);
      if (typeof impl !== 'string') expect(survivor).toBe(2);
    }, 240_000);
  }

  it('ours: meatware: no takeover until the operator confirms with meatclient -c', async ({ expect }) => {
    const { c } = await fencedCluster('ours', () => 'stonith_host * meatware node1 node2');
    const m = new HoldingMonitor(c.lab, { vip: vipProbe(`${c.lab.subnet}.100`), fs: mountProbe(MNT) }, 50).start();
    await c.startAll();
    await waitHolding(m, 'node1 holds VIP and disk', (h) => h['vip']?.join() === '1' && h['fs']?.join() === '1', 60_000);
    const at = c.logSize(2);
    // node1 crashes: powered off by hand (what the operator will confirm)
    await powerOff(c.lab, 1);
    await c.waitLog(2, /Resetting node node1 with \[meatware\]/, 30_000, at);
    await sleep(8000);
    expect(m.current()['fs'] ?? [], 'no takeover before the operator confirms').toEqual([]);
    const confirmed = m.now();
    const r = await c.lab.exec(2, ['meatclient', '-c', 'node1'], { input: 'yes\n', timeoutMs: 30_000 });
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    await waitHolding(m, 'node2 holds VIP and disk', (h) => h['vip']?.join() === '2' && h['fs']?.join() === '2', 60_000);
    const took = m.now() - confirmed;
    m.stop();
    c.note(`meatware: group on node2 ${(took / 1000).toFixed(1)} s after meatclient -c`);
    expect(c.log(2).slice(at)).toMatch(/node node1 now reset\./);
  }, 240_000);

  it('ours: a device that fails: retried every 5 s, the group never taken', async ({ expect }) => {
    const { c } = await fencedCluster('ours', (s) => hblab(s, 'fail'));
    const m = new HoldingMonitor(c.lab, { vip: vipProbe(`${c.lab.subnet}.100`), fs: mountProbe(MNT) }, 50).start();
    await c.startAll();
    await waitHolding(m, 'node1 holds VIP and disk', (h) => h['vip']?.join() === '1' && h['fs']?.join() === '1', 60_000);
    const at = c.logSize(2);
    await c.lab.cut(1);
    signalAll(await c.lab.pids(1), 'SIGKILL');
    await c.waitLog(2, /STONITH of node1 failed\. {2}Retrying\.\.\./, 60_000, at);
    await sleep(12_000);
    m.stop();
    const retries = c.count(2, /STONITH of node1 failed\. {2}Retrying\.\.\./, at);
    c.note(`failing device: ${retries} retries logged in ~12 s`);
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(m.samples.filter((s) => (s.held['fs'] ?? []).includes(2) || (s.held['vip'] ?? []).includes(2))).toEqual([]);
    expect(c.log(2).slice(at)).not.toMatch(/Resources being acquired from node1/);
  }, 240_000);
});
