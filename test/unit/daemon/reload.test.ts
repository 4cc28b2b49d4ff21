/**
 * SIGHUP handling (daemon/reload.ts) against real files in a temporary
 * /etc/ha.d: a changed haresources is refused with a clear message while the
 * running groups stay; ha.cf and authkeys changes are applied as before.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHaResources } from '../../../lib/config/haresources.js';
import type { AuthKeys, HaConfig } from '../../../lib/config/types.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { Reloader, type Reloadable } from '../../../daemon/reload.js';

const HACF = 'keepalive 1\ndeadtime 10\nbcast eth0\nnode node1 node2\nauto_failback on\n';
const HARES = 'node1 dummy::web\n';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let tick = 1_700_000_000;
/** Writes a file with an mtime later than any before (mtime is what the reload compares). */
function write(path: string, text: string, mode = 0o644): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  tick += 10;
  utimesSync(path, tick, tick);
}

/** The next reload with nothing new says only that (a change is reported once). */
async function expectQuietReload(reloader: { reload(): Promise<unknown> }, log: { lines: string[] }): Promise<void> {
  log.lines.length = 0;
  await reloader.reload();
  expect(log.lines).toEqual(['info: Configuration unchanged.']);
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-reload-'));
  dirs.push(dir);
  const rdir = join(dir, 'resource.d');
  mkdirSync(rdir);
  write(join(rdir, 'dummy'), '#!/bin/sh\nexit 0\n', 0o755);
  write(join(dir, 'ha.cf'), HACF);
  write(join(dir, 'authkeys'), 'auth 1\n1 sha1 secret\n', 0o600);
  write(join(dir, 'haresources'), HARES);
  const groups = parseHaResources(HARES, { file: 'haresources', nodes: ['node1', 'node2'] }).value ?? [];
  const calls: string[] = [];
  const target: Reloadable = {
    running: true,
    groups,
    reloadMessaging: (c: HaConfig, _k: AuthKeys) => {
      calls.push(`messaging keepalive=${c.keepaliveMs}`);
      return Promise.resolve();
    },
    setKeys: () => void calls.push('keys'),
    setMonitors: (specs) => void calls.push(`monitors ${specs.map((m) => `${m.resource}@${m.intervalMs}`).join(',')}`),
    setQuorum: (q) => void calls.push(`quorum ${q}`),
    setHttpListen: (w) => void calls.push(`http ${w ? `${w.host}:${w.port}` : 'off'}`),
  };
  const log = memoryLogger();
  const reloader = new Reloader({
    haDir: dir, nodename: 'node1', resourceDirs: [rdir], manageResources: true, log,
    reopenLogs: () => undefined, reconfigureLogs: () => undefined,
  }, target);
  return { dir, reloader, log, calls };
}

describe('reload (SIGHUP)', () => {
  it('says the configuration is unchanged when no file changed', async () => {
    const { reloader, log, calls } = setup();
    await reloader.reload();
    expect(log.lines).toEqual(['info: Configuration unchanged.']);
    expect(calls).toEqual([]);
  });

  it('refuses a changed haresources, names each change and keeps the running groups', async () => {
    const { dir, reloader, log, calls } = setup();
    write(join(dir, 'haresources'), 'node2 dummy::web\nnode1 dummy::db\n');
    await reloader.reload();
    expect(log.lines).toContain(
      `ERROR: Resource file ${dir}/haresources changed: not applied while heartbeat runs; keeping the running resource groups. Restart heartbeat to apply it.`,
    );
    expect(log.lines).toContain('WARN: haresources: group dummy::web changed (was: node1 dummy::web; now: node2 dummy::web)');
    expect(log.lines).toContain('WARN: haresources: group dummy::db added (node1 dummy::db)');
    expect(calls).toEqual([]);
    // Said once: the next reload with nothing new is quiet again.
    await expectQuietReload(reloader, log);
  });

  it('keeps everything when the new haresources does not parse, with the file and line', async () => {
    const { dir, reloader, log, calls } = setup();
    write(join(dir, 'haresources'), 'nosuchnode dummy::web\n');
    await reloader.reload();
    expect(log.lines.some((l) => l.startsWith('ERROR: Reload: ') && l.includes(`${dir}/haresources:1`))).toBe(true);
    expect(log.lines).toContain('ERROR: Configuration error on reload: keeping the running configuration.');
    expect(calls).toEqual([]);
  });

  it('a touched haresources with the same groups changes nothing', async () => {
    const { dir, reloader, log } = setup();
    write(join(dir, 'haresources'), `# same groups\n${HARES}`);
    await reloader.reload();
    expect(log.lines).toEqual(['info: Configuration unchanged.']);
  });

  it('applies a changed ha.cf (communications restart) and a changed authkeys, as before', async () => {
    const { dir, reloader, log, calls } = setup();
    write(join(dir, 'ha.cf'), HACF.replace('keepalive 1', 'keepalive 2'));
    await reloader.reload();
    expect(log.lines).toContain('info: Configuration file changed: restarting communications, keeping resources.');
    expect(calls).toEqual(['messaging keepalive=2000']);
    write(join(dir, 'authkeys'), 'auth 1\n1 sha1 other\n', 0o600);
    await reloader.reload();
    expect(log.lines).toContain('info: Rereading authentication file.');
    expect(calls).toEqual(['messaging keepalive=2000', 'keys']);
  });

  it('applies a changed heartbeat-ts.cf: the new monitors at once', async () => {
    const { dir, reloader, log, calls } = setup();
    write(join(dir, 'heartbeat-ts.cf'), 'monitor dummy::web interval=5s\n');
    await reloader.reload();
    expect(calls).toEqual(['monitors dummy::web@5000', 'quorum off', 'http off']);
    expect(log.lines).toContain(`info: ${dir}/heartbeat-ts.cf changed: 1 monitored resource(s) now.`);
    await expectQuietReload(reloader, log);
  });

  it('applies a changed http_listen (the server re-listens; removed: closed)', async () => {
    const { dir, reloader, calls } = setup();
    write(join(dir, 'heartbeat-ts.cf'), 'http_listen 127.0.0.1:9694\n');
    await reloader.reload();
    expect(calls).toEqual(['monitors ', 'quorum off', 'http 127.0.0.1:9694']);
  });

  it('keeps the running monitors when the new heartbeat-ts.cf is wrong, with file:line', async () => {
    const { dir, reloader, log, calls } = setup();
    write(join(dir, 'heartbeat-ts.cf'), '# web\nmonitor dummy::nosuch interval=5s\n');
    await reloader.reload();
    expect(log.lines.some((l) => l.startsWith('ERROR: Reload: ') && l.includes(`${dir}/heartbeat-ts.cf:2`))).toBe(true);
    expect(log.lines).toContain('ERROR: Configuration error on reload: keeping the running configuration.');
    expect(calls).toEqual([]);
  });
});
