/**
 * hb_rsctest against the sample scripts of fixtures/: a correct one passes,
 * each deliberately broken one fails on the check that names its defect.
 * Real processes (sleeps) are started and must all be gone afterwards.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_SAFE, EXIT_UNSAFE, EXIT_USAGE, hbRsctest, parseCli } from '../../../daemon/hb_rsctest.js';
import { memoryIO } from '../../../daemon/tools/common.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
let root = '';
let env: NodeJS.ProcessEnv = {};

interface JsonCheck { step: string; check: string; verdict: string; got: string }
interface JsonReport {
  safe: boolean; refused: string | null; restored: boolean | null; interrupted: boolean; killed: string[];
  checks: JsonCheck[]; steps: { step: string; output: string; durationMs: number }[];
}

async function rsctest(...args: string[]): Promise<{ code: number; report: JsonReport; text: string }> {
  const io = memoryIO();
  const code = await hbRsctest(['--json', '--linger', '1', '--start-timeout', '10', '--stop-timeout', '10', '--status-timeout', '10', ...args], { io, env, argv0: 'hb_rsctest' });
  return { code, report: JSON.parse(io.stdout) as JsonReport, text: io.stderr };
}

const failed = (r: JsonReport): string[] => r.checks.filter((c) => c.verdict === 'fail').map((c) => `${c.step} [${c.check}]`);
const sample = (name: string): string => join(FIXTURES, name);
/** A script in the test's resource.d. */
const rsc = (name: string): string => join(env['HA_DIR'] ?? '', 'resource.d', name);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rsctest-unit-'));
  env = {
    HA_DIR: join(root, 'ha.d'), HA_VARLIB: join(root, 'lib'), HA_VARRUN: join(root, 'run'),
    HA_PIDFILE: join(root, 'heartbeat.pid'), HA_INITDIR: join(root, 'init.d'),
  };
  for (const d of ['ha.d/resource.d', 'lib', 'run', 'init.d']) mkdirSync(join(root, d), { recursive: true });
});
/** Processes the sample scripts started in this run (their environment names our state dir). */
function ourLeftovers(): number[] {
  const mark = `HA_VARLIB=${join(root, 'lib')}`;
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try {
      return pid !== process.pid && readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(mark)
        && !/^\S+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    } catch {
      return false;
    }
  });
}

afterAll(() => {
  const left = ourLeftovers();
  for (const pid of left) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
  // Every test leaves the machine as it found it.
  expect(left).toEqual([]);
});

describe('hb_rsctest on sample scripts', () => {
  it('passes a correct script, in text mode one line per check and a verdict', async () => {
    const io = memoryIO();
    const code = await hbRsctest(['-v', sample('good')], { io, env, argv0: 'hb_rsctest' });
    expect(code).toBe(EXIT_SAFE);
    expect(io.stdout).toMatch(/^PASS stop \(again\) \[exit-code\]: expected exit 0, got exit 0\.$/m);
    expect(io.stdout).toMatch(/^ {4}\| running$/m);
    expect(io.stdout).toMatch(/good: safe to put in haresources \(\d+ checks, 0 warnings\)\n$/);
  });

  it('catches a stop that fails when already stopped', async () => {
    const { code, report } = await rsctest(sample('stop-fails-when-stopped'));
    expect(code).toBe(EXIT_UNSAFE);
    expect(failed(report)).toEqual(['stop (again) [exit-code]']);
  });

  it('refuses a status that says OK while stopped, and with --force catches it', async () => {
    const refused = await rsctest(sample('status-ok-while-stopped'));
    expect(refused.code).toBe(EXIT_USAGE);
    expect(refused.report.refused).toMatch(/status says the resource is running \(OK, nothing to do\)/);
    expect(refused.report.steps.map((s) => s.step)).toEqual(['status (before)']);
    const forced = await rsctest('--force', sample('status-ok-while-stopped'));
    expect(forced.code).toBe(EXIT_UNSAFE);
    expect(failed(forced.report)).toContain('status (stopped again) [running-rule]');
    // Its status proved wrong: the tester does not trust "it was running" and leaves it stopped.
    expect(forced.report.steps.map((s) => s.step)).not.toContain('start (restore)');
    expect(forced.report.killed).toEqual([]);
  });

  it('with --force tests a running resource and starts it again', async () => {
    const run = (op: string): string => execFileSync(sample('good'), [op], { env: { ...process.env, HA_VARLIB: env['HA_VARLIB'] }, encoding: 'latin1' });
    run('start');
    try {
      const { code, report } = await rsctest('--force', sample('good'));
      expect(code).toBe(EXIT_SAFE);
      expect(report.steps[1]?.step).toBe('stop (was running, --force)');
      expect(report.steps.at(-1)?.step).toBe('start (restore)');
      expect(report.restored).toBe(true);
      expect(run('status')).toBe('running\n');
    } finally {
      run('stop');
    }
  });

  it('catches a start that reads stdin (hangs on a terminal), without waiting for the deadline', async () => {
    const { code, report } = await rsctest(sample('start-reads-stdin'));
    expect(code).toBe(EXIT_UNSAFE);
    expect(failed(report)).toEqual(['start [stdin]', 'start (again) [stdin]']);
    expect(report.checks.find((c) => c.check === 'deadline')).toBeUndefined();
  });

  it('catches a start that leaves a daemon holding its stdout', async () => {
    const { code, report } = await rsctest(sample('start-holds-stdout'));
    expect(code).toBe(EXIT_UNSAFE);
    expect(failed(report)).toEqual(['start [output-pipe]']);
    expect(report.checks.find((c) => c.check === 'output-pipe')?.got).toMatch(/held open by \d+ \(sleep\)/);
  });

  it('catches a start that leaves the service in its process group', async () => {
    const { code, report } = await rsctest(sample('start-leaves-group'));
    expect(code).toBe(EXIT_UNSAFE);
    expect(failed(report)).toEqual(['start [process-group]']);
  });

  it('catches a status with words heartbeat does not read as running', async () => {
    const { code, report } = await rsctest(sample('status-wrong-words'));
    expect(code).toBe(EXIT_UNSAFE);
    expect(failed(report)).toEqual(['status (started) [running-rule]']);
    expect(report.checks.find((c) => c.verdict === 'fail')?.got).toBe('says stopped: "active" (exit 0)');
  });

  it('catches a script that ignores its argument, and kills what it left running', async () => {
    const { code, report } = await rsctest(sample('ignores-argument'));
    expect(code).toBe(EXIT_UNSAFE);
    // its stop starts it: status still says running, the service still runs; an unknown operation exits 0
    expect(failed(report)).toEqual(['status (stopped again) [running-rule]', 'stop [leftover]']);
    expect(report.checks.filter((c) => c.verdict === 'warn').map((c) => `${c.step} [${c.check}]`)).toEqual(['rsctest-unknown-op [unknown-op]']);
    expect(report.killed).toEqual([expect.stringMatching(/^\d+ \(sleep\)$/)]);
  });

  it('catches a script that starts on an operation it does not know', async () => {
    const { code, report } = await rsctest(sample('unknown-op-starts'));
    expect(code).toBe(EXIT_UNSAFE);
    expect(failed(report)).toEqual(['rsctest-unknown-op [unknown-op]']);
    expect(report.steps.at(-1)?.step).toBe('stop (cleanup)');
    expect(report.killed).toEqual([]);
  });

  it('on SIGINT stops the resource and ends without a verdict', async () => {
    setTimeout(() => process.kill(process.pid, 'SIGINT'), 1500);
    const { code, report } = await rsctest('--start-timeout', '60', sample('start-too-slow'));
    expect(code).toBe(EXIT_USAGE);
    expect(report.interrupted).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual(['status (before)', 'start', 'stop (interrupted)']);
    // the hanging start was ended at once, not at its deadline
    expect(report.steps[1]?.durationMs).toBeLessThan(30_000);
  });

  it('catches a start that passes the deadline', async () => {
    const { code, report } = await rsctest('--start-timeout', '2', sample('start-too-slow'));
    expect(code).toBe(EXIT_UNSAFE);
    expect(failed(report)).toEqual(expect.arrayContaining(['start [deadline]', 'start [exit-code]']));
  });

  it('catches a stop that leaves the service running', async () => {
    const { code, report } = await rsctest(sample('stop-leaves-service'));
    expect(code).toBe(EXIT_UNSAFE);
    expect(failed(report)).toEqual(['stop [leftover]']);
    expect(report.killed).toHaveLength(1);
  });
});

describe('hb_rsctest static checks', () => {
  it('finds a script by name in resource.d, as haresources writes it, with its arguments', async () => {
    writeFileSync(rsc('Named'), `#!/bin/sh\nexec ${sample('good')} "$@"\n`, { mode: 0o755 });
    const { code, report } = await rsctest('Named::a::b');
    expect(failed(report)).toEqual([]);
    expect(code).toBe(EXIT_SAFE);
    expect(report.checks.length).toBeGreaterThan(5);
  });

  it.each([
    ['a directory', (p: string) => mkdirSync(p), /is a directory/],
    ['a broken symlink', (p: string) => symlinkSync('/nonexistent/script', p), /is a broken symbolic link \(to \/nonexistent\/script\)/],
    ['not executable', (p: string) => writeFileSync(p, '#!/bin/sh\n', { mode: 0o644 }), /is not executable \(mode 0644/],
    ['missing', () => undefined, /does not exist/],
  ])('refuses a script that is %s, running nothing', async (what, make, reason) => {
    const name = `Static${what.replace(/\W/g, '')}`;
    make(rsc(name));
    const { code, report } = await rsctest(name);
    expect(code).toBe(EXIT_UNSAFE);
    expect(report.steps).toEqual([]);
    expect(report.checks[0]?.got).toMatch(/^Cannot locate resource script/);
    expect(report.checks[0]?.got).toMatch(reason);
  });

  it('warns about DOS line endings', async () => {
    writeFileSync(rsc('Crlf'), '#!/bin/sh\r\necho\r\n', { mode: 0o755 });
    const { report } = await rsctest('Crlf');
    expect(report.checks[0]).toMatchObject({ verdict: 'warn', check: 'static' });
    expect(report.checks[0]?.got).toMatch(/CR LF/);
  });
});

describe('hb_rsctest command line', () => {
  it('parses options and rejects bad ones', () => {
    expect(parseCli(['-v', '--json', '--stop-timeout=5', 'IPaddr::10.0.0.1'])).toMatchObject({ verbose: true, json: true, timeouts: { stop: 5000 }, resource: 'IPaddr::10.0.0.1' });
    expect(parseCli(['--start-timeout', 'x', 'a'])).toMatch(/needs a number of seconds/);
    expect(parseCli([])).toBe('no resource given');
    expect(parseCli(['a', 'b'])).toMatch(/one resource at a time/);
    expect(parseCli(['--bogus', 'a'])).toBe('unknown option --bogus');
  });

  it('says in its usage that it starts the resource', async () => {
    const io = memoryIO();
    expect(await hbRsctest(['--help'], { io, env, argv0: 'hb_rsctest' })).toBe(EXIT_SAFE);
    expect(io.stdout).toMatch(/STARTS AND STOPS THE RESOURCE/);
    expect(await hbRsctest([], { io, env, argv0: 'hb_rsctest' })).toBe(EXIT_USAGE);
  });

  it('refuses a resource that a running heartbeat manages here, unless --force', async () => {
    // This test process stands in for heartbeat: its pid file names a live process whose command line matches.
    writeFileSync(join(env['HA_DIR'] ?? '', 'ha.cf'), 'node me\nbcast lo\n');
    writeFileSync(join(env['HA_DIR'] ?? '', 'nodeinfo'), 'me\n');
    writeFileSync(join(env['HA_DIR'] ?? '', 'haresources'), 'me Managed::x\n');
    writeFileSync(rsc('Managed'), `#!/bin/sh\nexec ${sample('good')} "$@"\n`, { mode: 0o755 });
    const fake = join(root, 'heartbeat');
    writeFileSync(fake, '#!/bin/sh\nwhile :; do sleep 1; done\n', { mode: 0o755 });
    const { spawn } = await import('node:child_process');
    const hb = spawn(fake, [], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(env['HA_PIDFILE'] ?? '', `${hb.pid}\n`);
      const { code, report } = await rsctest('Managed::x');
      expect(code).toBe(EXIT_USAGE);
      expect(report.refused).toMatch(/heartbeat \(pid \d+\) runs here and .*haresources:1 lists Managed::x/);
    } finally {
      hb.kill('SIGKILL');
      rmSync(env['HA_PIDFILE'] ?? '', { force: true });
    }
  });
});
