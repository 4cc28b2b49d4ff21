/**
 * scripts/install-system.sh and uninstall-system.sh: a relocated install
 * (--prefix) started and stopped through its own init script in a lab node,
 * clustering with real Heartbeat 3.0.6 on the other node, then removed
 * without a trace; and an install into a scratch root (--root) next to
 * files it must not touch, with --force and the restore on uninstall.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authKeys, haCf, oursPids, startReal, stopReal, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { Lab, REPO_ROOT } from './harness/lab.js';
import { run, teardownMixed } from './ops-support.js';

const INSTALL = join(REPO_ROOT, 'scripts/install-system.sh');
const dirs: string[] = [];
let lab: Lab | undefined;

function sh(argv: string[]): { code: number; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Every file, link and directory under dir (relative paths). */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = join(rel, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...tree(dir, p));
  }
  return out.sort();
}

function scratch(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `hbts-${tag}-${process.pid}-`));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  lab = await Lab.up({ nodes: 2 });
}, 120_000);

afterAll(async () => {
  try {
    await teardownMixed(lab, 2, 1);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}, 120_000);

describe('install-system / uninstall-system', () => {
  it('--prefix: installs, runs a node through its init script, and uninstalls to nothing', async () => {
    const l = lab!;
    const p = scratch('prefix');
    const inst = sh(['bash', INSTALL, '--prefix', p]);
    expect(inst.code, inst.out).toBe(0);
    for (const f of ['etc/ha.d/ha.cf', 'etc/ha.d/haresources', 'etc/ha.d/resource.d/IPaddr', 'etc/init.d/heartbeat',
      'etc/systemd/system/heartbeat.service', 'usr/sbin/heartbeat', 'usr/bin/cl_status', 'usr/bin/hb_status', 'usr/bin/hb2pcmk', 'usr/bin/hb_standby', 'usr/bin/hb_takeover',
      'usr/lib/heartbeat-ts/dist/daemon/heartbeat.js', 'usr/lib/heartbeat-ts/node_modules/serialport/package.json', 'usr/lib/heartbeat-ts/installed-files']) {
      expect(existsSync(join(p, f)), f).toBe(true);
    }
    expect(statSync(join(p, 'etc/ha.d/authkeys')).mode & 0o777).toBe(0o600);
    expect(statSync(join(p, 'etc/init.d/heartbeat')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(p, 'usr/share/heartbeat/hb_standby')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(p, 'usr/lib/heartbeat-ts/node_modules/vitest'))).toBe(false);
    const unit = readFileSync(join(p, 'etc/systemd/system/heartbeat.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${p}/usr/sbin/heartbeat -f`);
    expect(unit).toContain(`ExecStop=${p}/usr/sbin/heartbeat -k`);
    expect(unit).toContain(`ExecReload=${p}/usr/sbin/heartbeat -r`);
    expect(unit).toContain('Type=notify');

    // the administrator configures the installed samples
    const hacf = haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10 }).replace('/var/log/ha-log', `${p}/var/log/ha-log`).replace('/var/log/ha-debug', `${p}/var/log/ha-debug`);
    writeFileSync(join(p, 'etc/ha.d/ha.cf'), hacf);
    writeFileSync(join(p, 'etc/ha.d/authkeys'), authKeys('sha1'));
    writeFileSync(join(p, 'etc/ha.d/haresources'), '');
    writeHaConfig(l, 2, { hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10 }), authkeys: authKeys('sha1'), haresources: '' });
    await startReal(l, 2);

    const init = join(p, 'etc/init.d/heartbeat');
    expect(await run(l, 1, [init, 'start'])).toEqual({ code: 0, stdout: 'Starting High-Availability services: Done.\n\n', stderr: '' });
    const cls = join(p, 'usr/bin/cl_status');
    await waitFor(() => run(l, 1, [cls, 'nodestatus', 'node2']), { timeoutMs: 30_000, what: 'node2 active seen by the installed heartbeat-ts', until: (r) => r.stdout === 'active\n' });
    expect((await run(l, 2, ['cl_status', 'nodestatus', 'node1'])).stdout).toBe('active\n');
    expect((await run(l, 1, [cls, 'listnodes'])).stdout).toBe('node2\nnode1\n');
    expect((await run(l, 1, [init, 'status'])).stdout).toMatch(/^heartbeat OK \[pid \d+ et al\] is running on node1 \[node1\]\.\.\.\n$/);
    expect(readFileSync(join(p, 'var/log/ha-log'), 'utf8')).toContain('Configuration validated. Starting heartbeat 3.0.6');
    expect(existsSync(join(p, 'var/lib/heartbeat/hb_uuid'))).toBe(true);
    expect(existsSync(join(p, 'var/lock/subsys/heartbeat'))).toBe(true);
    // hb_takeover from the installed tree reaches the cluster through the FIFO
    expect(await run(l, 1, [join(p, 'usr/bin/hb_takeover'), 'local'])).toEqual({ code: 0, stdout: '', stderr: '' });

    expect(await run(l, 1, [init, 'stop'])).toEqual({ code: 0, stdout: 'Stopping High-Availability services: Done.\n\n', stderr: '' });
    expect(await oursPids(l, 1)).toEqual([]);
    await stopReal(l, 2);

    // purge: what it installed, what the daemon left in its state directories, the changed samples
    const purge = sh([join(p, 'usr/lib/heartbeat-ts/uninstall-system.sh'), '--prefix', p, '--purge']);
    expect(purge.code, purge.out).toBe(0);
    expect(tree(p)).toEqual([]);

    // without --purge, a changed sample stays (and only that)
    const q = scratch('keep');
    expect(sh(['bash', INSTALL, '--prefix', q]).code).toBe(0);
    writeFileSync(join(q, 'etc/ha.d/ha.cf'), hacf);
    const keep = sh([join(q, 'usr/lib/heartbeat-ts/uninstall-system.sh'), '--prefix', q]);
    expect(keep.code, keep.out).toBe(0);
    expect(keep.out).toContain('kept /etc/ha.d/ha.cf: changed since it was installed (--purge removes it)');
    expect(tree(q)).toEqual(['etc', 'etc/ha.d', 'etc/ha.d/ha.cf']);
  }, 300_000);

  it('--root: never overwrites samples, keeps existing programs unless --force, and restores them on uninstall', () => {
    const r = scratch('root');
    const mine: Record<string, string> = {
      'etc/ha.d/ha.cf': 'node mine\n',
      'etc/init.d/heartbeat': '#!/bin/sh\necho the original init script\n',
      'usr/bin/cl_status': '#!/bin/sh\necho the original cl_status\n',
      'etc/ha.d/resource.d/IPaddr': '#!/bin/sh\necho my IPaddr\n',
      'etc/ha.d/resource.d/Mine': '#!/bin/sh\necho mine\n',
      'usr/bin/unrelated': 'x\n',
    };
    for (const [f, text] of Object.entries(mine)) {
      mkdirSync(join(r, f, '..'), { recursive: true });
      writeFileSync(join(r, f), text, { mode: 0o755 });
    }
    const before = tree(r);
    const first = sh(['bash', INSTALL, '--root', r]);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('kept existing /etc/ha.d/ha.cf');
    expect(first.out).toContain('kept existing /etc/init.d/heartbeat (--force replaces it)');
    for (const [f, text] of Object.entries(mine)) expect(readFileSync(join(r, f), 'utf8'), f).toBe(text);
    // paths inside point at the final locations, not at the scratch root
    expect(readFileSync(join(r, 'usr/sbin/heartbeat'), 'utf8')).toContain('exec /usr/lib/heartbeat-ts/bin/heartbeat "$@"');
    expect(readFileSync(join(r, 'etc/systemd/system/heartbeat.service'), 'utf8')).toContain('ExecStart=/usr/sbin/heartbeat -f');

    const forced = sh(['bash', INSTALL, '--root', r, '--force']);
    expect(forced.code, forced.out).toBe(0);
    expect(readFileSync(join(r, 'etc/init.d/heartbeat'), 'utf8')).toContain('heartbeat-ts');
    expect(readFileSync(join(r, 'etc/init.d/heartbeat.heartbeat-ts-orig'), 'utf8')).toBe(mine['etc/init.d/heartbeat']);
    expect(readFileSync(join(r, 'etc/ha.d/ha.cf'), 'utf8')).toBe(mine['etc/ha.d/ha.cf']);
    // a third run (reinstall) keeps track of the saved originals
    expect(sh(['bash', INSTALL, '--root', r, '--force']).code).toBe(0);

    const un = sh(['bash', join(REPO_ROOT, 'scripts/uninstall-system.sh'), '--root', r]);
    expect(un.code, un.out).toBe(0);
    expect(tree(r)).toEqual(before);
    for (const [f, text] of Object.entries(mine)) expect(readFileSync(join(r, f), 'utf8'), f).toBe(text);
  }, 300_000);

  it('refuses bad arguments', () => {
    expect(sh(['bash', INSTALL, '--prefix', 'relative'])).toMatchObject({ code: 1, out: "install-system: --prefix must be an absolute path, got 'relative'\n" });
    expect(sh(['bash', INSTALL, '--bogus'])).toMatchObject({ code: 1, out: "install-system: unknown argument '--bogus' (see --help)\n" });
    expect(sh(['bash', INSTALL, '--root', '/x', '--prefix', '/y'])).toMatchObject({ code: 1 });
    const r = scratch('none');
    expect(sh(['bash', join(REPO_ROOT, 'scripts/uninstall-system.sh'), '--root', r])).toEqual({
      code: 1, out: `uninstall-system: no installation manifest at ${r}/usr/lib/heartbeat-ts/installed-files\n`,
    });
  });
});
