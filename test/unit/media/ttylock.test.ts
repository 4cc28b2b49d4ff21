import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireTtyLock, lockNameFor } from '../../../lib/media/ttylock.js';
import { HbError } from '../../../lib/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'hbts-ttylock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ttylock', () => {
  it('names locks like heartbeat: path below /dev, letters and digits only', () => {
    expect(lockNameFor('/dev/ttyS0')).toBe('LCK..ttyS0');
    expect(lockNameFor('/dev/pts/3')).toBe('LCK..pts3');
    expect(lockNameFor('/dev/ttyUSB1')).toBe('LCK..ttyUSB1');
    expect(lockNameFor('/tmp/hb-link.a')).toBe('LCK..hblinka');
    // outside /dev, glue's st_ttylock still drops exactly five characters
    expect(lockNameFor('/tmp/hbts-serial-8119-z46Ahu/A')).toBe('LCK..hbtsserial8119z46AhuA');
    expect(lockNameFor(`/dev/${'x'.repeat(80)}`)).toBe(`LCK..${'x'.repeat(63)}`);
  });

  it('writes the pid as 10 ASCII characters and a newline, and releases only its own lock', async () => {
    const lock = await acquireTtyLock('/dev/ttyS0', dir);
    expect(lock.path).toBe(join(dir, 'LCK..ttyS0'));
    expect(readFileSync(lock.path, 'latin1')).toBe(`${String(process.pid).padStart(10)}\n`);
    writeFileSync(lock.path, '         1\n'); // someone else's now
    lock.release();
    expect(existsSync(lock.path)).toBe(true);
    rmSync(lock.path);
  });

  it('never writes through a symlink planted at its temporary name in the 1777 lock directory', async () => {
    const target = join(dir, 'precious');
    writeFileSync(target, 'root-owned data\n');
    symlinkSync(target, join(dir, `tmp${process.pid}-0-ttyS7`));
    const lock = await acquireTtyLock('/dev/ttyS7', dir);
    expect(readFileSync(target, 'latin1')).toBe('root-owned data\n');
    expect(readFileSync(lock.path, 'latin1')).toBe(`${String(process.pid).padStart(10)}\n`);
    lock.release();
  });

  it('replaces an old unreadable lock file, and refuses a live holder with its pid', async () => {
    const path = join(dir, 'LCK..ttyS1');
    writeFileSync(path, 'garbage');
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    const lock = await acquireTtyLock('/dev/ttyS1', dir);
    expect(readFileSync(path, 'latin1').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(path)).toBe(false);

    writeFileSync(path, '         1\n'); // pid 1 is always alive
    await expect(acquireTtyLock('/dev/ttyS1', dir)).rejects.toThrow(HbError);
    await expect(acquireTtyLock('/dev/ttyS1', dir)).rejects.toThrow(`serial /dev/ttyS1: device is locked by process 1 (${path})`);
  });

  it('says where it could not create the lock', async () => {
    await expect(acquireTtyLock('/dev/ttyS2', join(dir, 'missing'))).rejects.toThrow(
      `serial /dev/ttyS2: cannot create lock file in ${join(dir, 'missing')}: ENOENT`,
    );
  });
});
