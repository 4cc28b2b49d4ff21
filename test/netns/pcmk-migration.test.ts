/**
 * Issue 19: a Heartbeat v1 configuration converted by hb2pcmk runs on real
 * Corosync 3 + Pacemaker 2.1 (Debian's packages) in the project's lab, no
 * systemd: `corosync -f` and `pacemakerd` started in each node, each with
 * its own /etc/corosync, /var/lib/pacemaker (owned by hacluster), /dev/shm
 * (a tmpfs-like private 1777 directory) and logs. The group (a VIP and an
 * LSB web service, the failover tests' pair) serves on its home node, moves
 * on kill -9 + cut of that node, and obeys the converted failback rule when
 * the node returns: auto_failback off -> it stays; on -> it goes home.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness/heartbeat.js';
import { Lab, REPO_ROOT } from './harness/lab.js';
import { signalAll } from './harness/proc.js';

const HB2PCMK = join(REPO_ROOT, 'bin/hb2pcmk');
const WEB = readFileSync(join(REPO_ROOT, 'test/netns/fixtures/httpd-init.sh'), 'utf8');
const PRIVATE = ['/etc/corosync:copy', '/var/lib/corosync:empty', '/var/lib/pacemaker:copy', '/dev/shm:empty'];
const labs: Lab[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const l of labs) {
    for (const i of l.ids()) signalAll(await l.pids(i).catch(() => []), 'SIGKILL');
    await l.down();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

/** hb2pcmk over a Heartbeat /etc/ha.d written for this lab; returns the output directory. */
function convertFor(l: Lab, autoFailback: 'on' | 'off'): string {
  const ha = mkdtempSync(join(tmpdir(), 'hbts-hb2pcmk-'));
  dirs.push(ha);
  mkdirSync(join(ha, 'resource.d'));
  writeFileSync(join(ha, 'ha.cf'), `keepalive 1\ndeadtime 5\ninitdead 10\nbcast eth0\nauto_failback ${autoFailback}\nnode node1 node2\n`);
  writeFileSync(join(ha, 'authkeys'), 'auth 1\n1 sha1 migration-test\n', { mode: 0o600 });
  chmodSync(join(ha, 'authkeys'), 0o600);
  writeFileSync(join(ha, 'haresources'), `node1 IPaddr::${l.subnet}.100/24/eth0 hbtsweb\n`);
  const out = join(ha, 'out');
  // hbtsweb is an init script of the nodes, not of this machine
  mkdirSync(join(ha, 'init.d'));
  writeFileSync(join(ha, 'init.d', 'hbtsweb'), WEB, { mode: 0o755 });
  const r = spawnSync(HB2PCMK, ['--ha-dir', ha, '--init-dir', join(ha, 'init.d'), '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hb2pcmk: ${r.stdout}${r.stderr}`);
  return out;
}

async function startStack(l: Lab, i: number, out: string): Promise<void> {
  l.writeFile(i, '/etc/corosync/corosync.conf', readFileSync(join(out, 'corosync.conf'), 'utf8'), 0o644);
  l.writeFile(i, '/etc/corosync/authkey', readFileSync(join(out, 'authkey')), 0o400);
  const prep = await l.sh(i, 'chmod 1777 /dev/shm && mkdir -p /var/log/corosync /var/log/pacemaker /var/www/html && '
    + 'chown hacluster:haclient /var/log/pacemaker && echo "served by $(uname -n)" > /var/www/html/index.html');
  if (prep.code !== 0) throw new Error(`node${i}: ${prep.stderr}`);
  await l.spawn(i, ['corosync', '-f']);
  await waitFor(async () => (await l.sh(i, 'corosync-cfgtool -s')).code, { timeoutMs: 30_000, what: `corosync on node${i}`, until: (c) => c === 0 });
  await l.spawn(i, ['pacemakerd']);
}

async function crmMon(l: Lab, i: number): Promise<string> {
  return (await l.exec(i, ['crm_mon', '-1', '-r'], { timeoutMs: 20_000 })).stdout;
}

/** Which node answers HTTP on the VIP (from the lab's client), or '' for nobody. */
async function servedBy(l: Lab): Promise<string> {
  const r = await l.exec('c', ['curl', '-s', '-m', '2', `http://${l.subnet}.100/`], { timeoutMs: 10_000 });
  return /served by (node\d)/.exec(r.stdout)?.[1] ?? '';
}

async function crash(l: Lab, i: number): Promise<void> {
  await l.cut(i);
  signalAll(await l.pids(i), 'SIGKILL');
  await l.sh(i, `ip -4 addr del ${l.subnet}.100/24 dev eth0 2>/dev/null; true`);
}

describe.concurrent('hb2pcmk output on real Corosync + Pacemaker', () => {
  for (const af of ['off', 'on'] as const) {
    it(`VIP + LSB service, auto_failback ${af}: serves on node1, moves on kill -9 + cut, then ${af === 'on' ? 'goes home' : 'stays'} when node1 returns`, async () => {
      const l = await Lab.up({ nodes: 2, private: PRIVATE, privateInitD: true, purpose: 'pcmk' });
      labs.push(l);
      const out = convertFor(l, af);
      for (const i of l.ids()) {
        l.writeFile(i, '/etc/init.d/hbtsweb', WEB, 0o755);
        await startStack(l, i, out);
      }
      const t0 = Date.now();
      await waitFor(() => crmMon(l, 1), { timeoutMs: 120_000, intervalMs: 1000, what: 'both nodes online', until: (s) => /Online: \[ node1 node2 \]/.test(s) });
      const cib = await l.exec(1, ['cibadmin', '--replace', '--xml-file', join(out, 'cib.xml')], { timeoutMs: 60_000 });
      expect(cib.code, cib.stderr).toBe(0);
      await waitFor(() => servedBy(l), { timeoutMs: 120_000, intervalMs: 500, what: 'the VIP served by node1', until: (n) => n === 'node1' });
      console.log(`[pcmk ${af}] group serving on node1 ${(Date.now() - t0) / 1000} s after corosync started`);

      const cutAt = Date.now();
      await crash(l, 1);
      await waitFor(() => servedBy(l), { timeoutMs: 120_000, intervalMs: 200, what: 'the VIP served by node2', until: (n) => n === 'node2' });
      const moved = (Date.now() - cutAt) / 1000;
      console.log(`[pcmk ${af}] kill -9 + cut of node1 -> node2 serves after ${moved} s (token ${readFileSync(join(out, 'corosync.conf'), 'utf8').match(/token: (\d+)/)?.[1]} ms)`);

      await l.heal(1);
      await startStack(l, 1, out);
      await waitFor(() => crmMon(l, 2), { timeoutMs: 120_000, intervalMs: 1000, what: 'node1 back online', until: (s) => /Online: \[ node1 node2 \]/.test(s) });
      if (af === 'on') {
        await waitFor(() => servedBy(l), { timeoutMs: 120_000, intervalMs: 500, what: 'the group back on node1', until: (n) => n === 'node1' });
      } else {
        await new Promise((r) => setTimeout(r, 15_000));
        expect(await servedBy(l)).toBe('node2');
      }
    }, 420_000);
  }
});
