/**
 * Issue 19: Heartbeat v1 configurations converted by hb2pcmk run on real
 * Corosync 3 + Pacemaker 2.1 (Debian's packages) in the project's lab, no
 * systemd: `corosync -f` and `pacemakerd` in each node, each with its own
 * /etc/corosync, /var/lib/pacemaker (owned by hacluster), /dev/shm (1777)
 * and logs. Four configurations, the failover tests' kind: a VIP and an LSB
 * web service; the same with a Filesystem on a shared loop disk; two groups
 * on two nodes; three nodes. Each: the groups start on their home nodes,
 * move on kill -9 + cut of node1, and obey the converted failback rule when
 * node1 returns (auto_failback off: they stay; on: they go home).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLoopDisk, localAddrsOf, type LoopDisk } from './failover-support.js';
import { waitFor } from './harness/heartbeat.js';
import { Lab, REPO_ROOT } from './harness/lab.js';
import { signalAll } from './harness/proc.js';

const HB2PCMK = join(REPO_ROOT, 'bin/hb2pcmk');
const WEB = readFileSync(join(REPO_ROOT, 'test/netns/fixtures/httpd-init.sh'), 'utf8');
const DELAY = readFileSync(join(REPO_ROOT, 'resource.d/Delay'), 'utf8');
const MNT = '/srv/shared';
const PRIVATE = ['/etc/corosync:copy', '/var/lib/corosync:empty', '/var/lib/pacemaker:copy', '/dev/shm:empty', '/var/www:empty', '/srv:empty'];
const labs: Lab[] = [];
const dirs: string[] = [];
const disks: LoopDisk[] = [];

afterAll(async () => {
  for (const l of labs) {
    for (const i of l.ids()) signalAll(await l.pids(i).catch(() => []), 'SIGKILL');
    for (const i of l.ids()) await l.sh(i, `umount -l ${MNT} 2>/dev/null; true`).catch(() => undefined);
    await l.down();
  }
  for (const d of disks) d.release();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

interface Scenario {
  name: string;
  nodes: 2 | 3;
  autoFailback: 'on' | 'off';
  disk?: boolean;
  /** haresources for this lab (VIPs in its subnet). */
  haresources: (l: Lab, disk?: LoopDisk) => string;
  /** VIP host octets and the home node of their group. */
  vips: Array<{ host: number; home: number }>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'VIP + LSB service, auto_failback on', nodes: 2, autoFailback: 'on', vips: [{ host: 100, home: 1 }],
    haresources: (l) => `node1 IPaddr::${l.subnet}.100/24/eth0 hbtsweb\n`,
  },
  {
    name: 'VIP + Filesystem + LSB service, auto_failback off', nodes: 2, autoFailback: 'off', disk: true, vips: [{ host: 100, home: 1 }],
    haresources: (l, d) => `node1 IPaddr::${l.subnet}.100/24/eth0 Filesystem::${d?.device ?? ''}::${MNT}::ext4 hbtsweb\n`,
  },
  {
    name: 'two groups on two nodes, auto_failback off', nodes: 2, autoFailback: 'off', vips: [{ host: 100, home: 1 }, { host: 101, home: 2 }],
    haresources: (l) => `node1 IPaddr::${l.subnet}.100/24/eth0 hbtsweb\nnode2 IPaddr::${l.subnet}.101/24/eth0 Delay::1::1\n`,
  },
  {
    name: 'three nodes, VIP + LSB service, auto_failback on', nodes: 3, autoFailback: 'on', vips: [{ host: 100, home: 1 }],
    haresources: (l) => `node1 IPaddr::${l.subnet}.100/24/eth0 hbtsweb\n`,
  },
];

/** hb2pcmk over a Heartbeat /etc/ha.d written for this lab; returns the output directory. */
function convertFor(l: Lab, s: Scenario, disk: LoopDisk | undefined): string {
  const ha = mkdtempSync(join(tmpdir(), 'hbts-hb2pcmk-'));
  dirs.push(ha);
  mkdirSync(join(ha, 'resource.d'));
  writeFileSync(join(ha, 'resource.d', 'Delay'), DELAY, { mode: 0o755 });
  const nodes = l.ids().map((i) => `node${i}`).join(' ');
  writeFileSync(join(ha, 'ha.cf'), `keepalive 1\ndeadtime 5\ninitdead 10\nbcast eth0\nauto_failback ${s.autoFailback}\nnode ${nodes}\n`);
  writeFileSync(join(ha, 'authkeys'), 'auth 1\n1 sha1 migration-test\n', { mode: 0o600 });
  chmodSync(join(ha, 'authkeys'), 0o600);
  writeFileSync(join(ha, 'haresources'), s.haresources(l, disk));
  // hbtsweb is an init script of the nodes, not of this machine
  mkdirSync(join(ha, 'init.d'));
  writeFileSync(join(ha, 'init.d', 'hbtsweb'), WEB, { mode: 0o755 });
  const out = join(ha, 'out');
  const r = spawnSync(HB2PCMK, ['--ha-dir', ha, '--init-dir', join(ha, 'init.d'), '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hb2pcmk: ${r.stdout}${r.stderr}`);
  return out;
}

async function startStack(l: Lab, i: number, out: string): Promise<void> {
  l.writeFile(i, '/etc/corosync/corosync.conf', readFileSync(join(out, 'corosync.conf'), 'utf8'), 0o644);
  l.writeFile(i, '/etc/corosync/authkey', readFileSync(join(out, 'authkey')), 0o400);
  const prep = await l.sh(i, `chmod 1777 /dev/shm && mkdir -p /var/log/corosync /var/log/pacemaker /var/www/html ${MNT} && `
    + 'chown hacluster:haclient /var/log/pacemaker && echo "served by $(uname -n)" > /var/www/html/index.html');
  if (prep.code !== 0) throw new Error(`node${i}: ${prep.stderr}`);
  await l.spawn(i, ['corosync', '-f']);
  await waitFor(async () => (await l.sh(i, 'corosync-cfgtool -s')).code, { timeoutMs: 30_000, what: `corosync on node${i}`, until: (c) => c === 0 });
  await l.spawn(i, ['pacemakerd']);
}

const crmMon = async (l: Lab, i: number): Promise<string> => (await l.exec(i, ['crm_mon', '-1', '-r'], { timeoutMs: 20_000 })).stdout;

/** Nodes holding address ip (read from their kernels), e.g. [2]. */
function holders(l: Lab, ip: string): number[] {
  return l.ids().filter((i) => {
    const pid = l.initPid(i);
    return pid !== undefined && localAddrsOf(pid).has(ip);
  });
}

/** Which node answers HTTP on the first VIP (the web service writes its node's name), or ''. */
async function servedBy(l: Lab): Promise<string> {
  const r = await l.exec('c', ['curl', '-s', '-m', '2', `http://${l.subnet}.100/`], { timeoutMs: 10_000 });
  return /served by (node\d)/.exec(r.stdout)?.[1] ?? '';
}

const mountedOn = (l: Lab): number[] => l.ids().filter((i) => {
  const pid = l.initPid(i);
  return pid !== undefined && readFileSync(`/proc/${pid}/mounts`, 'utf8').includes(` ${MNT} `);
});

async function crash(l: Lab, i: number): Promise<void> {
  await l.cut(i);
  signalAll(await l.pids(i), 'SIGKILL');
  await l.sh(i, `umount -l ${MNT} 2>/dev/null; ip -4 addr flush dev eth0; ip addr add ${l.ip(i)}/24 brd + dev eth0; true`);
}

/** Every VIP on exactly the node `where` says, and the web page from the first VIP's node. */
async function placed(l: Lab, s: Scenario, where: (home: number) => number[], what: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(async () => ({ vips: s.vips.map((v) => holders(l, `${l.subnet}.${v.host}`)), web: await servedBy(l) }), {
    timeoutMs, intervalMs: 300, what,
    until: (x) => s.vips.every((v, k) => x.vips[k]?.length === 1 && where(v.home).includes(x.vips[k]?.[0] ?? 0))
      && where(1).includes(Number(x.web.replace('node', ''))),
  }).catch(async (err: unknown) => { throw new Error(`${(err as Error).message}\n${await crmMon(l, l.ids().at(-1) ?? 2)}`); });
}

describe.concurrent('hb2pcmk output on real Corosync + Pacemaker', () => {
  for (const s of SCENARIOS) {
    it(s.name, async () => {
      const disk = s.disk === true ? createLoopDisk({ 'index.html': 'on the shared disk\n' }) : undefined;
      if (disk !== undefined) disks.push(disk);
      const l = await Lab.up({ nodes: s.nodes, private: PRIVATE, privateInitD: true, purpose: 'pcmk' });
      labs.push(l);
      const out = convertFor(l, s, disk);
      for (const i of l.ids()) {
        l.writeFile(i, '/etc/init.d/hbtsweb', WEB, 0o755);
        await startStack(l, i, out);
      }
      const t0 = Date.now();
      await waitFor(() => crmMon(l, 1), { timeoutMs: 120_000, intervalMs: 1000, what: 'every node online', until: (m) => new RegExp(`Online: \\[ ${l.ids().map((i) => `node${i}`).join(' ')} \\]`).test(m) });
      const cib = await l.exec(1, ['cibadmin', '--replace', '--xml-file', join(out, 'cib.xml')], { timeoutMs: 60_000 });
      expect(cib.code, cib.stderr).toBe(0);
      await placed(l, s, (home) => [home], 'every group on its home node');
      if (disk !== undefined) expect(mountedOn(l)).toEqual([1]);
      console.log(`[pcmk] ${s.name}: groups home ${(Date.now() - t0) / 1000} s after corosync started`);

      const cutAt = Date.now();
      await crash(l, 1);
      const others = l.ids().filter((i) => i !== 1);
      await placed(l, s, () => others, 'node1\'s groups on the other nodes');
      const token = /token: (\d+)/.exec(readFileSync(join(out, 'corosync.conf'), 'utf8'))?.[1];
      console.log(`[pcmk] ${s.name}: kill -9 + cut of node1 -> served elsewhere after ${(Date.now() - cutAt) / 1000} s (token ${token} ms)`);
      if (disk !== undefined) expect(mountedOn(l).filter((i) => i !== 1)).toHaveLength(1);

      await l.heal(1);
      await startStack(l, 1, out);
      await waitFor(() => crmMon(l, 2), { timeoutMs: 120_000, intervalMs: 1000, what: 'node1 back online', until: (m) => /Online: \[ node1 /.test(m) });
      if (s.autoFailback === 'on') {
        await placed(l, s, (home) => [home], 'the groups back home');
      } else {
        await new Promise((r) => setTimeout(r, 15_000));
        await placed(l, s, (home) => (home === 1 ? others : [home]), 'the groups where they were (no failback)', 10_000);
      }
    }, 480_000);
  }
});
