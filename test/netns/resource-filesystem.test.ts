/**
 * resource.d/Filesystem on a real ext4 image attached to a loop device:
 * mount/status/umount, device forms (symlink, LABEL=, -U, image file),
 * and stop against busy mounts (processes killed with TERM, then KILL;
 * a mount kept busy by the kernel fails loudly).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RSC_DIR, rscHost, statusSaysRunning } from './resource-support.js';

const FS = join(RSC_DIR, 'Filesystem');
const label = `hbfs${process.pid.toString(36)}`.slice(0, 16);
const uuid = randomUUID();
let dir = '';
let image = '';
let loop = '';
const holders: ChildProcess[] = [];
const extraLoops: string[] = [];

function sh(argv: string[]): string {
  const r = spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const mountsAt = (mnt: string): string[] => readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1] === mnt);
const fs = (args: string[], op: string, env: Record<string, string> = {}) =>
  rscHost(FS, [...args, op], { HA_RSCTMP: join(dir, 'rsctmp'), ...env });

/** A process with a file open on the mount; ignoreTerm makes it survive SIGTERM. */
function holdOpen(file: string, ignoreTerm: boolean): Promise<ChildProcess> {
  const script = `${ignoreTerm ? "trap '' TERM; " : ''}exec 3>>"$1"; echo ready; exec sleep 600`;
  const child = spawn('/bin/sh', ['-c', script, 'holder', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  holders.push(child);
  return new Promise((ok, fail) => {
    child.stdout?.once('data', () => ok(child));
    child.once('exit', (code, sig) => fail(new Error(`holder exited early: ${code ?? sig}`)));
  });
}
const exitOf = (c: ChildProcess): Promise<NodeJS.Signals | number | null> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.signalCode ?? c.exitCode) : new Promise((ok) => c.once('exit', (code, sig) => ok(sig ?? code)));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hb-fs-'));
  image = join(dir, 'disk.img');
  sh(['truncate', '-s', '32M', image]);
  sh(['mkfs.ext4', '-q', '-L', label, '-U', uuid, image]);
  loop = sh(['losetup', '-f', '--show', image]).trim();
});

afterAll(() => {
  for (const h of holders) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
  // deepest mounts first, then the loop devices, then the files
  const ours = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => dir !== '' && m.startsWith(`${dir}/`));
  for (const m of ours.sort().reverse()) spawnSync('umount', ['-l', m]);
  for (const l of [...extraLoops, loop]) if (l !== '') spawnSync('losetup', ['-d', l]);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('Filesystem', () => {
  it('start creates the mount point and mounts; status by device number; idempotent; stop umounts', async () => {
    const mnt = join(dir, 'data'); // does not exist yet
    const before = await fs([loop, mnt, 'ext4'], 'status');
    expect(before).toMatchObject({ code: 7, stdout: 'INFO:  Resource is stopped\n' });
    expect(await fs([loop, mnt, 'ext4'], 'start')).toMatchObject({ code: 0, stdout: 'INFO:  Success\n' });
    expect(mountsAt(mnt)).toEqual([expect.stringMatching(new RegExp(`^${loop} ${mnt} ext4 `))]);
    expect((await fs([loop, mnt, 'ext4'], 'start')).code).toBe(0);
    expect(mountsAt(mnt)).toHaveLength(1);

    const link = join(dir, 'disk-link');
    symlinkSync(loop, link);
    for (const dev of [loop, link, `LABEL=${label}`, `-L${label}`, `UUID=${uuid}`, `-U${uuid}`]) {
      const st = await fs([dev, `${mnt}/`], 'status');
      expect(st.stdout, dev).toBe('INFO:  Running OK\n');
      expect(statusSaysRunning(st.stdout), dev).toBe(true);
    }
    // another device is not "running" on this directory, and may not be mounted over it
    const other = await fs([image.replace('disk.img', 'none.img'), mnt, 'ext4'], 'status');
    expect(statusSaysRunning(other.stdout)).toBe(false);
    const spare = join(dir, 'spare.img');
    sh(['truncate', '-s', '16M', spare]);
    sh(['mkfs.ext4', '-q', spare]);
    const over = await fs([spare, mnt, 'ext4'], 'start');
    expect(over.code).toBe(1);
    expect(over.stderr).toContain(`${mnt} already has ${loop} mounted on it`);
    expect(mountsAt(mnt)).toHaveLength(1);

    expect(await fs([loop, mnt, 'ext4'], 'stop')).toMatchObject({ code: 0, stdout: 'INFO:  Success\n' });
    expect(mountsAt(mnt)).toEqual([]);
    expect((await fs([loop, mnt, 'ext4'], 'stop')).code).toBe(0);
    expect(statusSaysRunning((await fs([`LABEL=${label}`, mnt], 'status')).stdout)).toBe(false);
  });

  it('mounts an image file through a loop device and recognises it by its backing file', async () => {
    const img = join(dir, 'file.img');
    const mnt = join(dir, 'img');
    sh(['truncate', '-s', '16M', img]);
    sh(['mkfs.ext4', '-q', img]);
    expect((await fs([img, mnt, 'ext4', 'noatime'], 'start')).code).toBe(0);
    const line = mountsAt(mnt)[0] ?? '';
    expect(line).toMatch(/^\/dev\/loop\d+ /);
    expect(line).toContain('noatime');
    extraLoops.push(line.split(' ')[0] ?? '');
    expect(statusSaysRunning((await fs([img, mnt, 'ext4'], 'status')).stdout)).toBe(true);
    expect(statusSaysRunning((await fs([image, mnt, 'ext4'], 'status')).stdout)).toBe(false);
    expect((await fs([img, mnt, 'ext4'], 'stop')).code).toBe(0);
    expect(mountsAt(mnt)).toEqual([]);
  });

  it('stop kills a process holding a file open (SIGTERM) and unmounts', async () => {
    const mnt = join(dir, 'busy');
    expect((await fs([loop, mnt, 'ext4'], 'start')).code).toBe(0);
    const h = await holdOpen(join(mnt, 'open-file'), false);
    expect(spawnSync('umount', [mnt]).status).not.toBe(0); // really busy
    const r = await fs([loop, mnt, 'ext4'], 'stop');
    expect(r).toMatchObject({ code: 0, stdout: 'INFO:  Success\n' });
    expect(r.stderr).toContain(`sending SIGTERM to: ${h.pid ?? 0} sleep`);
    expect(await exitOf(h)).toBe('SIGTERM');
    expect(mountsAt(mnt)).toEqual([]);
  });

  it('stop uses SIGKILL on a process that ignores SIGTERM', async () => {
    const mnt = join(dir, 'stubborn');
    expect((await fs([loop, mnt, 'ext4'], 'start')).code).toBe(0);
    mkdirSync(join(mnt, 'sub'));
    const h = await holdOpen(join(mnt, 'sub', 'f'), true);
    const r = await fs([loop, mnt, 'ext4'], 'stop', { HB_UMOUNT_TRIES: '4' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('sending SIGTERM');
    expect(r.stderr).toContain(`sending SIGKILL to: ${h.pid ?? 0} sleep`);
    expect(await exitOf(h)).toBe('SIGKILL');
    expect(mountsAt(mnt)).toEqual([]);
  });

  it('fails loudly (exit 1, ERROR line) when the mount stays busy with no process to kill', async () => {
    const mnt = join(dir, 'pinned');
    expect((await fs([loop, mnt, 'ext4'], 'start')).code).toBe(0);
    // a loop device backed by a file inside the mount pins it without any process
    const inner = join(mnt, 'inner.img');
    sh(['truncate', '-s', '1M', inner]);
    const innerLoop = sh(['losetup', '-f', '--show', inner]).trim();
    extraLoops.push(innerLoop);
    const r = await fs([loop, mnt, 'ext4'], 'stop', { HB_UMOUNT_TRIES: '2' });
    expect(r).toMatchObject({ code: 1, stdout: 'ERROR:  Generic error\n' });
    expect(r.stderr).toMatch(new RegExp(`ERROR: Couldn't unmount ${mnt}; giving up after 2 attempts`));
    expect(statusSaysRunning((await fs([loop, mnt, 'ext4'], 'status')).stdout)).toBe(true);
    sh(['losetup', '-d', innerLoop]);
    extraLoops.splice(extraLoops.indexOf(innerLoop), 1);
    expect((await fs([loop, mnt, 'ext4'], 'stop')).code).toBe(0);
    expect(mountsAt(mnt)).toEqual([]);
  });

  it('argument and environment errors', async () => {
    const mnt = join(dir, 'x');
    expect((await fs([loop, 'relative/dir', 'ext4'], 'start')).code).toBe(2);
    expect((await fs([loop], 'start')).code).toBe(2);
    expect((await fs([loop, mnt, 'ext4', 'rw', 'extra'], 'start')).code).toBe(2);
    const missing = await fs(['/dev/hb-no-such-disk', mnt, 'ext4'], 'start');
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("Couldn't find device [/dev/hb-no-such-disk]");
    expect((await fs([`LABEL=${label}-none`, mnt, 'ext4'], 'start')).code).toBe(5);
    const badType = await fs([loop, mnt, 'hbnosuchfs'], 'start');
    expect(badType.code).toBe(5);
    expect(badType.stderr).toContain('Filesystem type hbnosuchfs is not supported');
    expect(mountsAt(mnt)).toEqual([]);
  });
});
