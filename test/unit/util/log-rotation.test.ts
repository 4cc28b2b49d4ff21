/**
 * Log files follow logrotate without a signal: the sink notices within a
 * second that its path names another file (or none) and reopens it.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogRoot, ROTATION_CHECK_MS } from '../../../lib/util/log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const read = (p: string) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.replace(/^.*info: /, ''));

describe('FileSink rotation', () => {
  it('reopens the path after the file was renamed away (logrotate create) or deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-log-'));
    dirs.push(dir);
    const path = join(dir, 'ha-log');
    const root = createLogRoot('heartbeat', { logfile: path, syslogmsgfmt: true, stderr: false, debugLevel: 0 });
    root.logger.info('one');
    renameSync(path, `${path}.1`);
    // (checked at most once a second: this line lands in one of the two files)
    root.logger.info('two');
    await pause(ROTATION_CHECK_MS + 100);
    root.logger.info('three');
    expect(read(`${path}.1`)[0]).toBe('one');
    expect([...read(`${path}.1`), ...read(path)]).toEqual(['one', 'two', 'three']);
    expect(read(path).at(-1)).toBe('three');
    // a path re-created by someone else (logrotate `create`) is followed too
    renameSync(path, `${path}.2`);
    writeFileSync(path, '');
    await pause(ROTATION_CHECK_MS + 100);
    root.logger.info('four');
    unlinkSync(path);
    await pause(ROTATION_CHECK_MS + 100);
    root.logger.info('five');
    expect(read(`${path}.2`)).toEqual(['three']);
    expect(read(path)).toEqual(['five']);
    root.close();
  });

  it('reopens at once on demand (the daemon does it on SIGHUP)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-log-'));
    dirs.push(dir);
    const path = join(dir, 'ha-log');
    const root = createLogRoot('heartbeat', { logfile: path, debugfile: join(dir, 'ha-debug'), syslogmsgfmt: true, stderr: false, debugLevel: 1 });
    root.logger.info('before');
    renameSync(path, `${path}.old`);
    root.reopen();
    root.logger.info('after');
    expect(read(path)).toEqual(['after']);
    expect(read(`${path}.old`)).toEqual(['before']);
    root.close();
  });
});
