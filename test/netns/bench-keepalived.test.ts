/**
 * The benchmark's keepalived column (devtools/lab/keepalived.ts,
 * devtools/lab/ping-probe.ts): a VRRPv3 pair of Debian's keepalived 2.2 on
 * a two-node lab, its configuration and pid files under the lab's state
 * directory, the client pinging the VIP; node1's cable pulled and its
 * keepalived killed by PID, the VIP answers again from node2. No timing is
 * asserted (timings belong to `npm run bench`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  crashKeepalived, KEEPALIVED, keepalivedDir, keepalivedPids, type KeepalivedNode, MASTER_RE, startKeepalived, waitLine,
} from '../../devtools/lab/keepalived.js';
import { PingProbe } from '../../devtools/lab/ping-probe.js';
import { descendants, nowMs, signalAll } from '../../devtools/lab/proc.js';
import { Lab, labUp } from './harness/lab.js';

const WAIT_MS = 60_000;
let lab: Lab | undefined;
let probe: PingProbe | undefined;
const nodes: KeepalivedNode[] = [];

const vip = (): string => `${labUp(lab).subnet}.100`;

async function vipOn(i: number): Promise<boolean> {
  const r = await labUp(lab).exec(i, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  return r.stdout.includes(` ${vip()}/24 `);
}

beforeAll(async () => {
  expect(existsSync(KEEPALIVED), `${KEEPALIVED} (scripts/ensure-os-packages.sh installs keepalived)`).toBe(true);
  lab = await Lab.up({ nodes: 2 });
  for (const i of [1, 2]) nodes.push(await startKeepalived(lab, i, { advertS: 0.2, vip: vip(), prefix: 24 }));
  probe = await PingProbe.start(lab, vip(), 2);
}, 120_000);

afterAll(() => {
  probe?.stop();
  // by PID: each keepalived we started and its VRRP child
  for (const k of nodes) if (k.proc.pid !== undefined) signalAll([k.proc.pid, ...descendants(k.proc.pid)], 'SIGKILL');
  const left = lab?.downSync() ?? [];
  expect(left).toEqual([]);
});

describe('keepalived VRRPv3 pair in the lab (bench column)', () => {
  it('runs VRRPv3 from the lab state directory, node1 master, the VIP answering ping', async () => {
    const l = labUp(lab);
    const conf = readFileSync(join(keepalivedDir(l, 1), 'keepalived.conf'), 'utf8');
    expect(conf).toMatch(/^\s*vrrp_version 3$/m);
    expect(conf).toMatch(/^\s*advert_int 0\.2$/m);
    expect(conf).toContain(`${vip()}/24 dev eth0`);
    await waitLine(nodes[0]!, MASTER_RE, { timeoutMs: WAIT_MS });
    expect(await vipOn(1)).toBe(true);
    expect(await vipOn(2)).toBe(false);
    await probe!.waitReply(0, WAIT_MS);
    // pid files where we asked, not /run/keepalived.pid of the host
    expect(readFileSync(join(keepalivedDir(l, 1), 'keepalived.pid'), 'utf8').trim()).toMatch(/^\d+$/);
    expect((await keepalivedPids(l, 1)).length).toBeGreaterThanOrEqual(2); // parent and VRRP child
  }, 120_000);

  it('moves the VIP to node2 when node1 is cut off and killed', async () => {
    const l = labUp(lab);
    const from = nodes[1]!.lines.length;
    await l.cut(1, 'link');
    const tCut = nowMs();
    const { pids } = await crashKeepalived(l, 1);
    expect(pids.length).toBeGreaterThan(0);
    await waitLine(nodes[1]!, MASTER_RE, { from, timeoutMs: WAIT_MS });
    expect(await vipOn(2)).toBe(true);
    await probe!.waitReply(tCut, WAIT_MS);
  }, 120_000);
});
