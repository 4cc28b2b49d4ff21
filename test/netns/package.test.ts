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
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authKeys, clStatus, haCf, ipAddrs, startReal, stopReal, waitFor, writeHaConfig } from './harness/heartbeat.js';
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
}, 400_000);

afterAll(async () => {
  try {
    await lab?.down();
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}, 120_000);

describe('Debian package', () => {
  it('replaces a running Debian heartbeat, joins a 3.0.6 peer, fails a VIP over, and is removed and purged as policy says', async () => {
    const l = lab!;
    const vip = `${l.subnet}.100`;
    const haresources = `node1 IPaddr::${vip}/24/eth0\n`;
    const node1Active = (): Promise<void> => waitFor(() => clStatus(l, 2, ['nodestatus', 'node1']), {
      timeoutMs: 90_000, what: 'node1 active seen by the 3.0.6 peer', until: (r) => r.stdout === 'active\n' }).then(() => undefined);
    const vipOn = (i: number): Promise<void> => waitFor(() => ipAddrs(l, i), {
      timeoutMs: 90_000, what: `VIP ${vip} on node${i}`, until: (a) => a.includes(`${vip}/24`) }).then(() => undefined);
    const vipOff = (i: number): Promise<void> => waitFor(() => ipAddrs(l, i), {
      timeoutMs: 90_000, what: `VIP ${vip} gone from node${i}`, until: (a) => !a.includes(`${vip}/24`) }).then(() => undefined);

    // hb_standby is refused while resources are in transition: wait until both sides settled.
    const STABLE = ['local\n', 'foreign\n', 'all\n', 'none\n'];
    const stable = (): Promise<unknown> => waitFor(
      async () => [(await clStatus(l, 2, ['rscstatus'])).stdout, (await inRoot(l, 1, root, ['cl_status', 'rscstatus'])).stdout],
      { timeoutMs: 90_000, what: 'both nodes stable (cl_status rscstatus)', until: (v) => v.every((x) => STABLE.includes(x)) });

    // The peer: real Heartbeat 3.0.6 in node 2.
    writeHaConfig(l, 2, { hacf: HA_CF, authkeys: AUTHKEYS, haresources });
    await startReal(l, 2);

    // The administrator's node: Debian's heartbeat, configured and running.
    // No init system runs in the throwaway root (runlevel unknown): a
    // policy-rc.d says services may start, as on a booted machine.
    await writeInRoot(l, 1, root, '/usr/sbin/policy-rc.d', '#!/bin/sh\nexit 0\n', '755');
    await writeInRoot(l, 1, root, '/etc/ha.d/ha.cf', HA_CF, '644');
    await writeInRoot(l, 1, root, '/etc/ha.d/authkeys', AUTHKEYS, '600');
    await writeInRoot(l, 1, root, '/etc/ha.d/haresources', haresources, '644');
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat start')).toContain('Done.');
    await node1Active();
    await vipOn(1);

    // The administrator changed one of heartbeat's resource scripts.
    await shInRoot(l, 1, root, 'echo "# changed by the administrator" >> /etc/ha.d/resource.d/Delay');

    // dpkg -i: heartbeat is stopped (its resources go to the peer), removed
    // in favour of heartbeat-ts, and heartbeat-ts starts on the configuration.
    // (--force-confold answers the conffile question as an unattended upgrade does.)
    const inst = await inRoot(l, 1, root, ['dpkg', '-i', '--force-confdef', '--force-confold', `${PKG_MOUNT}/${deb}`], 300_000);
    expect(inst.code, inst.stdout + inst.stderr).toBe(0);
    expect(inst.stdout).toContain('stopping the running heartbeat');
    expect(inst.stdout).toMatch(/will remove heartbeat in favour of heartbeat-ts|Removing heartbeat/);
    expect(await dpkgStatus(l, 1, root, 'heartbeat')).toMatch(/ ok config-files$/);
    expect(await dpkgStatus(l, 1, root, 'heartbeat-ts')).toBe('install ok installed');
    // heartbeat's conffiles were taken over: unchanged ones replaced, the changed one kept (new one beside it)
    expect((await inRoot(l, 1, root, ['dpkg', '--verify', 'heartbeat-ts'])).stdout).toMatch(/^\?\?5\?\?\?\?\?\? c \/etc\/ha\.d\/resource\.d\/Delay\n$/);
    await shInRoot(l, 1, root, 'test -f /etc/ha.d/resource.d/Delay.dpkg-dist && grep -q "changed by the administrator" /etc/ha.d/resource.d/Delay');
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat status')).toMatch(/^heartbeat OK \[pid \d+ et al\] is running on node1/);
    expect(await shInRoot(l, 1, root, 'readlink -f /proc/$(cat /var/run/heartbeat.pid)/exe')).toBe('/usr/bin/node\n');
    await node1Active();
    expect((await inRoot(l, 1, root, ['cl_status', 'nodestatus', 'node2'])).stdout).toBe('active\n');
    await vipOn(1);

    // The layout users' scripts rely on, and 3.0.6's accounts and modes.
    await shInRoot(l, 1, root, 'test -x /usr/sbin/heartbeat && test -x /usr/libexec/heartbeat/heartbeat && test -x /usr/share/heartbeat/hb_standby'
      + ' && test -x /usr/share/heartbeat/hb_takeover && test -f /lib/systemd/system/heartbeat.service'
      + ' && test -f /usr/lib/heartbeat-ts/native/build/Release/hb_icmp.node && test ! -e /usr/lib/heartbeat-ts/node_modules/vitest');
    // the installed dependencies and both native addons load (serial media, ping media)
    expect(await shInRoot(l, 1, root, `cd /usr/lib/heartbeat-ts && node --input-type=module -e "
      const req = (await import('node:module')).createRequire('/usr/lib/heartbeat-ts/package.json');
      req('pino'); req('@serialport/bindings-cpp').autoDetect();
      (await import('/usr/lib/heartbeat-ts/dist/lib/media/icmp-socket.js')).loadIcmpAddon(); console.log('loaded')"`)).toBe('loaded\n');
    // (the existing hacluster account is kept as it is: here cluster-glue's)
    expect(await shInRoot(l, 1, root, 'id -gn hacluster')).toBe('haclient\n');
    expect(await statInRoot(l, 1, root, ['/var/lib/heartbeat/ccm', '/var/lib/heartbeat/cores/hacluster', '/etc/ha.d/authkeys'])).toEqual([
      '750 hacluster:haclient /var/lib/heartbeat/ccm', '700 hacluster:root /var/lib/heartbeat/cores/hacluster', '600 root:root /etc/ha.d/authkeys']);

    // Through the init script: stop fails the VIP over to the peer.
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat stop')).toContain('Done.');
    await vipOn(2);
    await vipOff(1);

    // systemd-style: ExecStart=heartbeat -f in the foreground, ExecStop=heartbeat -k.
    const fg = await spawnInRoot(l, 1, root, ['/usr/sbin/heartbeat', '-f'], join(scratch('log'), 'heartbeat-f.out'));
    await node1Active();
    await vipOn(1);
    await vipOff(2);
    await stable();
    expect((await inRoot(l, 1, root, ['/usr/share/heartbeat/hb_standby'])).code).toBe(0);
    await vipOn(2);
    await vipOff(1);
    expect((await inRoot(l, 1, root, ['/usr/sbin/heartbeat', '-k'], 120_000)).code).toBe(0);
    expect((await fg.exited).status).toBe(0);

    // An upgrade (the same package again) stops the daemon and starts the new one.
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat start')).toContain('Done.');
    await node1Active();
    const oldPid = await shInRoot(l, 1, root, 'cat /var/run/heartbeat.pid');
    const up = await inRoot(l, 1, root, ['dpkg', '-i', `${PKG_MOUNT}/${deb}`], 300_000);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(await shInRoot(l, 1, root, '/etc/init.d/heartbeat status')).toMatch(/^heartbeat OK \[pid \d+ et al\] is running on node1/);
    expect(await shInRoot(l, 1, root, 'cat /var/run/heartbeat.pid')).not.toBe(oldPid);
    await node1Active();

    // dpkg -r stops a running daemon first; configuration stays.
    const rm = await inRoot(l, 1, root, ['dpkg', '-r', 'heartbeat-ts'], 300_000);
    expect(rm.code, rm.stdout + rm.stderr).toBe(0);
    expect(await dpkgStatus(l, 1, root, 'heartbeat-ts')).toBe('deinstall ok config-files');
    expect(await shInRoot(l, 1, root, 'test ! -e /var/run/heartbeat.pid || ! kill -0 $(cat /var/run/heartbeat.pid) 2>/dev/null; echo $?')).toBe('0\n');
    await vipOn(2);
    const kept = ['/etc/init.d/heartbeat', '/etc/ha.d/resource.d/IPaddr', '/etc/logrotate.d/heartbeat', '/etc/ha.d/ha.cf', '/etc/ha.d/authkeys', '/etc/ha.d/haresources'];
    await shInRoot(l, 1, root, kept.map((f) => `test -f ${f}`).join(' && ') + ' && test ! -e /usr/sbin/heartbeat && test ! -e /usr/lib/heartbeat-ts');
    // the init script left behind does nothing, quietly, without its daemon
    expect(await inRoot(l, 1, root, ['/etc/init.d/heartbeat', 'start'])).toMatchObject({ code: 0, stdout: '' });

    // dpkg --purge: the package's conffiles and state go; the administrator's files stay.
    const purge = await inRoot(l, 1, root, ['dpkg', '--purge', 'heartbeat-ts'], 300_000);
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
    expect(await dpkgStatus(l, 1, root, 'heartbeat-ts')).toBe('');
    await shInRoot(l, 1, root, 'test ! -e /etc/init.d/heartbeat && test ! -e /etc/ha.d/resource.d/IPaddr && test ! -e /etc/logrotate.d/heartbeat'
      + ' && test ! -e /var/lib/heartbeat/hb_uuid');
    expect(await shInRoot(l, 1, root, 'cat /etc/ha.d/ha.cf /etc/ha.d/authkeys /etc/ha.d/haresources')).toBe(HA_CF + AUTHKEYS + haresources);
    // heartbeat's own leftover conffiles are heartbeat's, not ours to remove
    await shInRoot(l, 1, root, 'test -f /etc/ha.d/resource.d/portblock');
  }, 900_000);

  it('on an unconfigured node: creates hacluster/haclient, does not start the daemon', async () => {
    const l = lab!;
    await shInRoot(l, 1, root, 'mv /etc/ha.d/authkeys /etc/ha.d/authkeys.off; userdel hacluster; groupdel haclient');
    const inst = await inRoot(l, 1, root, ['dpkg', '-i', `${PKG_MOUNT}/${deb}`], 300_000);
    expect(inst.code, inst.stdout + inst.stderr).toBe(0);
    expect(inst.stdout).toContain('heartbeat-ts: not started: /etc/ha.d/ha.cf and /etc/ha.d/authkeys are needed');
    expect(await shInRoot(l, 1, root, 'test -e /var/run/heartbeat.pid && echo running || echo stopped')).toBe('stopped\n');
    expect(await shInRoot(l, 1, root, 'getent passwd hacluster | cut -d: -f6,7; id -gn hacluster')).toBe('/usr/lib/heartbeat:/bin/false\nhaclient\n');
    const purge = await inRoot(l, 1, root, ['dpkg', '--purge', 'heartbeat-ts'], 300_000);
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
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
