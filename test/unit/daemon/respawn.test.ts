/**
 * respawn runs the program ha.cf names (Heartbeat's own C clients included),
 * only once the API sockets listen, with every recorded ha.cf parameter as
 * HA_<name> in its environment, as heartbeat gives its clients.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RespawnAttachment } from '../../../daemon/respawn.js';
import type { HeartbeatNode } from '../../../daemon/node.js';
import { ManualClock, systemClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { config, HACF } from './api-fixture.js';
import { until } from '../until.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('respawn', () => {
  it('runs the configured program after the API is ready, with the recorded parameters as HA_<name>', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-respawn-'));
    dirs.push(dir);
    const out = join(dir, 'env.txt');
    const prog = join(dir, 'client');
    writeFileSync(prog, `#!/bin/sh\nenv > ${out}.tmp && mv ${out}.tmp ${out}\nexit 100\n`, { mode: 0o755 });
    // the log file is handed to hacluster at the start (as heartbeat does): one of our own
    const logfile = join(dir, 'ha-log');
    writeFileSync(logfile, '');
    const cfg = config('node1', `${HACF}logfile ${logfile}\nlogfacility local0\nrespawn root ${prog}\n`);
    const log = memoryLogger();
    let ready: () => void = () => undefined;
    const apiReady = new Promise<void>((r) => (ready = r));
    const respawn = new RespawnAttachment(cfg, log, { HA_CURHOST: 'node1' }, systemClock, () => apiReady);
    const cluster = Object.assign(new EventEmitter(), { isCommUp: true });
    respawn.start({ cluster } as unknown as HeartbeatNode);
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(out)).toBe(false); // not before the API listens
    ready();
    await until('the client\'s environment file', () => existsSync(out));
    const env = new Map(readFileSync(out, 'utf8').split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env.get('HA_logfile')).toBe(logfile);
    expect(env.get('HA_logfacility')).toBe('local0');
    expect(env.get('HA_keepalive')).toBe('1');
    expect(env.get('HA_deadtime')).toBe('5');
    expect(env.get('HA_CURHOST')).toBe('node1');
    await until('exit 100 logged', () => log.lines.some((l) => l.includes('exited with 100: not respawning it')));
    expect(log.lines).toContain(`info: Starting child client "${prog}" (0,0)`);
    await respawn.shutdown();
  });

  it('throttles a client that keeps dying at once, on the injected clock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-respawn-'));
    dirs.push(dir);
    const runs = join(dir, 'runs');
    const prog = join(dir, 'client');
    writeFileSync(prog, `#!/bin/sh\necho run >> ${runs}\nexit 1\n`, { mode: 0o755 });
    const cfg = config('node1', `${HACF}respawn root ${prog}\n`);
    const log = memoryLogger();
    const clock = new ManualClock();
    const respawn = new RespawnAttachment(cfg, log, {}, clock);
    const count = (): number => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').length - 1 : 0);
    const respawning = (): number => log.lines.filter((l) => l.includes('Respawning client')).length;
    const cluster = Object.assign(new EventEmitter(), { isCommUp: true });
    respawn.start({ cluster } as unknown as HeartbeatNode);
    await until('the first run', () => count() === 1 && respawning() === 1);
    // quick deaths: restarted after 1 s, then 2 s, then "too fast" at 4 s, all on the manual clock
    clock.advance(999);
    expect(count()).toBe(1);
    clock.advance(1);
    await until('the second run', () => count() === 2 && respawning() === 2);
    clock.advance(1999);
    expect(count()).toBe(2);
    clock.advance(1);
    await until('the third run', () => count() === 3 && log.lines.some((l) => l.includes('"respawning too fast": next start in 4 s')));
    clock.advance(3999);
    expect(count()).toBe(3);
    await respawn.shutdown(); // cancels the pending restart
    clock.advance(10_000);
    expect(count()).toBe(3);
  });
});
