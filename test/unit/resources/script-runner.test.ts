/**
 * The script runner settles on 'close'; a script that leaves a daemon
 * holding its output pipe settles shortly after its own exit, with what it
 * wrote before exiting (no fixed wait, no hang until the daemon ends).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScriptRunner } from '../../../lib/resources/script-runner.js';
import { systemClock } from '../../../lib/util/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'hbts-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const runner = new ScriptRunner({
  resourceDirs: [dir], clock: systemClock, env: {}, killGraceMs: 100,
  timeoutMs: { start: 30_000, stop: 30_000, status: 30_000 },
});
const res = { spec: 'x', script: 'x', args: [] } as unknown as Parameters<ScriptRunner['run']>[1];

describe('script runner', () => {
  it('a status whose daemon keeps stdout open settles after the exit, with the output written before it', async () => {
    const pidFile = join(dir, 'holder.pid');
    const p = script('holder', `echo running\nsleep 20 &\necho $! >${pidFile}`);
    const r = await runner.run(p, res, 'status');
    try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('running\n');
    expect(r.timedOut).toBe(false);
    // far below the sleep: the run did not wait for the daemon holding the pipe
    expect(r.durationMs).toBeLessThan(15_000);
  });

  it('a plain status settles with its whole output and exit code', async () => {
    const p = script('plain', 'i=0; while [ $i -lt 2000 ]; do echo "line $i running"; i=$((i+1)); done; exit 3');
    const r = await runner.run(p, res, 'status');
    expect(r.code).toBe(3);
    expect(r.stdout.split('\n').length).toBe(2001);
  });
});
