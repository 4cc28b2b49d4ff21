/**
 * The Debian package, as an administrator uses it: `npm run package`'s .deb
 * installed with dpkg over Debian's heartbeat 3.0.6 (running, configured) in
 * a throwaway root inside lab node 1, started through /etc/init.d/heartbeat
 * and systemd-style (`heartbeat -f`, stopped with `heartbeat -k`), joining a
 * real 3.0.6 peer (node 2) and failing a VIP over; then `dpkg -r` and
 * `dpkg --purge`, and an install on an unconfigured node. The machine's own
 * dpkg database and /usr are checked untouched at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authKeys, clStatus, haCf, ipAddrs, startReal, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { Lab, REPO_ROOT } from './harness/lab.js';
import { dpkgStatus, hostFingerprint, inRoot, mountThrowawayRoot, PKG_MOUNT, shInRoot, spawnInRoot, statInRoot, writeInRoot } from './package-support.js';

const dirs: string[] = [];
let lab: Lab | undefined;
let deb = '';
let debDir = '';
let root = '';
const hostBefore = hostFingerprint();

function scratch(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `hbts-${tag}-${process.pid}-`));
  dirs.push(d);
  return d;
}

const NODES = ['node1', 'node2'];
const HA_CF = haCf({ media: 'bcast', nodes: NODES, keepalive: 1, deadtime: 5, initdead: 10, autoFailback: true });
const AUTHKEYS = authKeys('sha1');

beforeAll(async () => {
  debDir = scratch('deb');
  const b = spawnSync('bash', [join(REPO_ROOT, 'scripts/package-deb.sh'), '--out', debDir], { encoding: 'utf8', timeout: 300_000 });
  expect(b.status, `${b.stdout}${b.stderr}`).toBe(0);
  deb = readdirSync(debDir).find((f) => f.endsWith('.deb')) ?? '';
  expect(deb).toMatch(/^heartbeat-ts_\d+\.\d+\.\d+_[a-z0-9]+\.deb$/);
  lab = await Lab.up({ nodes: 2 });
  root = await mountThrowawayRoot(lab, 1, scratch('root'), debDir);
  // the node's mounts stay in its own mount namespace
  expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('hbts-pkg');
}, 400_000);

afterAll(async () => {
  try {
    await lab?.down();
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}, 120_000);

const VIP_HOST = 100;
const vipOf = (l: Lab): string => `${l.subnet}.${VIP_HOST}`;
const haresourcesOf = (l: Lab): string => `node1 IPaddr::${vipOf(l)}/24/eth0\n`;
const BOUND = 90_000;

async function node1Active(l: Lab): Promise<void> {
  await waitFor(() => clStatus(l, 2, ['nodestatus', 'node1']), {
    timeoutMs: BOUND, what: 'node1 active seen by the 3.0.6 peer', until: (r) => r.stdout === 'active\n' });
}

/** Waits until node i holds the VIP (held = true) or does not (held = false). */
async function vip(l: Lab, i: number, held: boolean): Promise<void> {
  const addr = `${vipOf(l)}/24`;
  await waitFor(() => ipAddrs(l, i), {
    timeoutMs: BOUND, what: `VIP ${addr} ${held ? 'on' : 'gone from'} node${i}`, until: (a) => a.includes(addr) === held });
}

/** hb_standby is refused while resources are in transition: waits until both sides settled. */
async function stable(l: Lab): Promise<void> {
  const settled = ['local\n', 'foreign\n', 'all\n', 'none\n'];
  await waitFor(
    async () => [(await clStatus(l, 2, ['rscstatus'])).stdout, (await inRoot(l, 1, root, ['cl_status', 'rscstatus'])).stdout],
    { timeoutMs: BOUND, what: 'both nodes stable (cl_status rscstatus)', until: (v) => v.every((x) => settled.includes(x)) });
}

async function dpkg(l: Lab, args: readonly string[]): Promise<string> {
  const r = await inRoot(l, 1, root, ['dpkg', ...args], 300_000);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout;
}

const RUNNING = /^heartbeat OK \[pid \d+ et al\] is running on node1/;

// The steps run in order, each on what the previous one left.
describe('Debian package', () => {
  it('dpkg -i replaces a configured, running Debian heartbeat and starts on its configuration', async () => {
    const l = lab!;
    // The peer: real Heartbeat 3.0.6 in node 2.
    writeHaConfig(l, 2, { hacf: HA_CF, authkeys: AUTHKEYS, haresources: haresourcesOf(l) });
    await startReal(l, 2);
    // The administrator's node: Debian's heartbeat, configured and running.
    // No init system runs in the throwaway root (runlevel unknown): a
    // policy-rc.d says services may start, as on a booted machine.
    await writeInRoot(l, 1, root, '/usr/sbin/policy-rc.d', '#!/bin/sh\nexit 0\n', '755');
    await writeInRoot(l, 1, root, '/etc/ha.d/ha.cf', HA_CF, '644');
    await writeInRoot(l, 1, root, '/etc/ha.d/authkeys', AUTHKEYS, '600');
    await writeInRoot(l, 1, root, '/etc/ha.d/haresources', haresourcesOf(l), '644');
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat start')).toContain('Done.');
    await node1Active(l);
    await vip(l, 1, true);
    // The administrator changed one of heartbeat's resource scripts.
    await shInRoot(l, 1, root, 'echo "# changed by the administrator" >> /etc/ha.d/resource.d/Delay');

    // heartbeat is stopped (its resources go to the peer) and removed in
    // favour of heartbeat-ts. (--force-confold answers the conffile question
    // as an unattended upgrade does.)
    const out = await dpkg(l, ['-i', '--force-confdef', '--force-confold', `${PKG_MOUNT}/${deb}`]);
    expect(out).toContain('stopping the running heartbeat');
    expect(out).toMatch(/will remove heartbeat in favour of heartbeat-ts|Removing heartbeat/);
    expect(await dpkgStatus(l, 1, root, 'heartbeat')).toMatch(/ ok config-files$/);
    expect(await dpkgStatus(l, 1, root, 'heartbeat-ts')).toBe('install ok installed');
    // heartbeat's conffiles were taken over: unchanged ones replaced, the changed one kept (new one beside it)
    expect((await inRoot(l, 1, root, ['dpkg', '--verify', 'heartbeat-ts'])).stdout).toMatch(/^\?\?5\?\?\?\?\?\? c \/etc\/ha\.d\/resource\.d\/Delay\n$/);
    await shInRoot(l, 1, root, 'test -f /etc/ha.d/resource.d/Delay.dpkg-dist && grep -q "changed by the administrator" /etc/ha.d/resource.d/Delay');
    // heartbeat-ts, started by the postinst, joins the 3.0.6 peer and takes its VIP back
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat status')).toMatch(RUNNING);
    expect(await shInRoot(l, 1, root, 'readlink -f /proc/$(cat /var/run/heartbeat.pid)/exe')).toBe('/usr/bin/node\n');
    await node1Active(l);
    expect((await inRoot(l, 1, root, ['cl_status', 'nodestatus', 'node2'])).stdout).toBe('active\n');
    await vip(l, 1, true);
  }, 400_000);

  it('lays out the paths users\' scripts call, 3.0.6\'s accounts and modes, and loading dependencies', async () => {
    const l = lab!;
    await shInRoot(l, 1, root, 'test -x /usr/sbin/heartbeat && test -x /usr/libexec/heartbeat/heartbeat && test -x /usr/share/heartbeat/hb_standby'
      + ' && test -x /usr/share/heartbeat/hb_takeover && test -f /lib/systemd/system/heartbeat.service'
      + ' && test -x /usr/libexec/heartbeat/ipfail && test -x /usr/lib/heartbeat/ipfail && test -x /usr/lib/heartbeat/hb_standby'
      + ' && test -f /usr/lib/heartbeat-ts/native/build/Release/hb_icmp.node && test ! -e /usr/lib/heartbeat-ts/node_modules/vitest');
    // the installed dependencies and both native addons load (serial media, ping media)
    expect(await shInRoot(l, 1, root, `cd /usr/lib/heartbeat-ts && node --input-type=module -e "
      const req = (await import('node:module')).createRequire('/usr/lib/heartbeat-ts/package.json');
      req('@serialport/bindings-cpp').autoDetect();
      (await import('/usr/lib/heartbeat-ts/dist/lib/media/icmp-socket.js')).loadIcmpAddon(); console.log('loaded')"`)).toBe('loaded\n');
    // the administrator's configuration checks clean with the installed daemon
    expect(await inRoot(l, 1, root, ['heartbeat', '-t'])).toMatchObject({ code: 0 });
    // (the existing hacluster account is kept as it is: here cluster-glue's)
    expect(await shInRoot(l, 1, root, 'id -gn hacluster')).toBe('haclient\n');
    expect(await statInRoot(l, 1, root, ['/var/lib/heartbeat/ccm', '/var/lib/heartbeat/cores/hacluster', '/etc/ha.d/authkeys'])).toEqual([
      '750 hacluster:haclient /var/lib/heartbeat/ccm', '700 hacluster:root /var/lib/heartbeat/cores/hacluster', '600 root:root /etc/ha.d/authkeys']);
  }, 120_000);

  it('/etc/init.d/heartbeat stop and systemd-style heartbeat -f / -k fail the VIP over and back', async () => {
    const l = lab!;
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat stop')).toContain('Done.');
    await vip(l, 2, true);
    await vip(l, 1, false);
    // ExecStart=heartbeat -f in the foreground; auto_failback brings the VIP back
    const fg = await spawnInRoot(l, 1, root, ['/usr/sbin/heartbeat', '-f'], join(scratch('log'), 'heartbeat-f.out'));
    await node1Active(l);
    await vip(l, 1, true);
    await vip(l, 2, false);
    await stable(l);
    expect((await inRoot(l, 1, root, ['/usr/share/heartbeat/hb_standby'])).code).toBe(0);
    await vip(l, 2, true);
    await vip(l, 1, false);
    // ExecStop=heartbeat -k
    expect((await inRoot(l, 1, root, ['/usr/sbin/heartbeat', '-k'], 120_000)).code).toBe(0);
    expect((await fg.exited).status).toBe(0);
  }, 400_000);

  it('an upgrade (the same package again) stops the daemon and starts the new one', async () => {
    const l = lab!;
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat start')).toContain('Done.');
    await node1Active(l);
    const oldPid = await shInRoot(l, 1, root, 'cat /var/run/heartbeat.pid');
    await dpkg(l, ['-i', `${PKG_MOUNT}/${deb}`]);
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat status')).toMatch(RUNNING);
    expect(await shInRoot(l, 1, root, 'cat /var/run/heartbeat.pid')).not.toBe(oldPid);
    await node1Active(l);
  }, 300_000);

  it('dpkg -r stops the running daemon and keeps the configuration', async () => {
    const l = lab!;
    await dpkg(l, ['-r', 'heartbeat-ts']);
    expect(await dpkgStatus(l, 1, root, 'heartbeat-ts')).toBe('deinstall ok config-files');
    expect(await shInRoot(l, 1, root, 'test ! -e /var/run/heartbeat.pid || ! kill -0 $(cat /var/run/heartbeat.pid) 2>/dev/null; echo $?')).toBe('0\n');
    await vip(l, 2, true);
    const kept = ['/etc/init.d/heartbeat', '/etc/ha.d/resource.d/IPaddr', '/etc/logrotate.d/heartbeat', '/etc/ha.d/ha.cf', '/etc/ha.d/authkeys', '/etc/ha.d/haresources'];
    await shInRoot(l, 1, root, kept.map((f) => `test -f ${f}`).join(' && ') + ' && test ! -e /usr/sbin/heartbeat && test ! -e /usr/lib/heartbeat-ts');
    // the init script left behind does nothing, quietly, without its daemon
    expect(await inRoot(l, 1, root, ['/etc/init.d/heartbeat', 'start'])).toMatchObject({ code: 0, stdout: '' });
  }, 300_000);

  it('dpkg --purge removes the conffiles and state, and leaves the administrator\'s files', async () => {
    const l = lab!;
    await dpkg(l, ['--purge', 'heartbeat-ts']);
    expect(await dpkgStatus(l, 1, root, 'heartbeat-ts')).toBe('');
    await shInRoot(l, 1, root, 'test ! -e /etc/init.d/heartbeat && test ! -e /etc/ha.d/resource.d/IPaddr && test ! -e /etc/logrotate.d/heartbeat'
      + ' && test ! -e /var/lib/heartbeat/hb_uuid');
    expect(await shInRoot(l, 1, root, 'cat /etc/ha.d/ha.cf /etc/ha.d/authkeys /etc/ha.d/haresources')).toBe(HA_CF + AUTHKEYS + haresourcesOf(l));
    // heartbeat's own leftover conffiles are heartbeat's, not ours to remove
    await shInRoot(l, 1, root, 'test -f /etc/ha.d/resource.d/portblock');
  }, 300_000);

  it('on an unconfigured node: creates hacluster/haclient, does not start the daemon', async () => {
    const l = lab!;
    // A machine without the accounts has no dpkg overrides naming them either (pacemaker's, when
    // the host has it installed, would make dpkg refuse to run once the user is gone).
    await shInRoot(l, 1, root, 'mv /etc/ha.d/authkeys /etc/ha.d/authkeys.off; '
      + "dpkg-statoverride --list | awk '$1 == \"hacluster\" || $2 == \"haclient\" { print $4 }' | xargs -r -n1 dpkg-statoverride --remove; "
      + 'userdel hacluster; groupdel haclient');
    const out = await dpkg(l, ['-i', `${PKG_MOUNT}/${deb}`]);
    expect(out).toContain('heartbeat-ts: not started: /etc/ha.d/ha.cf and /etc/ha.d/authkeys are needed');
    expect(await shInRoot(l, 1, root, 'test -e /var/run/heartbeat.pid && echo running || echo stopped')).toBe('stopped\n');
    expect(await shInRoot(l, 1, root, 'getent passwd hacluster | cut -d: -f6,7; id -gn hacluster')).toBe('/usr/lib/heartbeat:/bin/false\nhaclient\n');
    await dpkg(l, ['--purge', 'heartbeat-ts']);
  }, 600_000);

  it('lintian: no errors or warnings (the info tags kept are listed in the README)', () => {
    const r = spawnSync('lintian', ['--fail-on', 'none', join(debDir, deb)], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((line) => /^[EW]: /.test(line))).toEqual([]);
  }, 300_000);

  it('leaves the machine itself untouched', () => {
    expect(hostFingerprint()).toEqual(hostBefore);
    expect(spawnSync('dpkg-query', ['-W', '-f=${Status}', 'heartbeat'], { encoding: 'utf8' }).stdout).toBe('install ok installed');
  });
});
