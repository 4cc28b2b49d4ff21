/**
 * The daemon's FIFO: the stream parser, and the reader on a real FIFO
 * (mkfifo) feeding a real membership core, written to by hb_standby and
 * hb_takeover as an administrator would run them.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readIdTables } from '../../../daemon/api/auth.js';
import { FifoParser, FifoReader, MAX_FIFO_MESSAGE } from '../../../daemon/fifo.js';
import { hbStandby } from '../../../daemon/hb_standby.js';
import { hbTakeover } from '../../../daemon/hb_takeover.js';
import { memoryIO } from '../../../daemon/tools/common.js';
import { systemClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import type { HaMsg } from '../../../lib/wire/index.js';
import { apiLab, type ApiLab } from './api-fixture.js';
import { until } from '../until.js';

describe('FifoParser', () => {
  it('splits messages, across chunks too, and ignores blank lines between them', () => {
    const p = new FifoParser();
    const r1 = p.push('>>>\nt=ask_resources\nrsc_hold=all\ninfo=me\n<<<\n\n>>>\nt=hb_tak');
    expect(r1.problems).toEqual([]);
    expect(r1.messages.map((m) => m.toRecord())).toEqual([{ t: 'ask_resources', rsc_hold: 'all', info: 'me' }]);
    const r2 = p.push('eover\nrsc_hold=local\n<<<\n');
    expect(r2.messages.map((m) => m.toRecord())).toEqual([{ t: 'hb_takeover', rsc_hold: 'local' }]);
  });

  it('reports and skips text outside messages, broken fields and unterminated messages', () => {
    const p = new FifoParser();
    const r = p.push('hello\n>>>\nnoequals\n<<<\n>>>\nt=a\n>>>\nt=b\n<<<\n');
    expect(r.messages.map((m) => m.get('t'))).toEqual(['b']);
    expect(r.problems).toEqual([
      'text outside >>> … <<< ignored (6 bytes, starting "hello")',
      'bad message: classic line without "=" at offset 4',
      'message without <<< end marker before the next >>> (8 bytes skipped)',
    ]);
  });

  it('does not buffer without limit', () => {
    const p = new FifoParser();
    expect(p.push(`>>>\nt=${'x'.repeat(MAX_FIFO_MESSAGE)}`).problems[0]).toMatch(/longer than/);
    expect(p.push('y'.repeat(MAX_FIFO_MESSAGE + 10)).problems[0]).toMatch(/text outside/);
    expect(p.push('>>>\nt=ok\n<<<\n').messages).toHaveLength(1);
  });
});

describe('FifoReader with hb_standby / hb_takeover', () => {
  let lab: ApiLab | undefined;
  let reader: FifoReader | undefined;
  afterEach(async () => {
    await reader?.shutdown();
    reader = undefined;
    await lab?.close();
    lab = undefined;
  });

  async function setup(plant: (fifo: string) => void = (f) => writeFileSync(f, 'a plain file left by a shell script\n')): Promise<{ fifo: string; got: HaMsg[]; lines: string[]; env: NodeJS.ProcessEnv; haDir: string }> {
    lab = await apiLab();
    const n1 = lab.nodes[0]!;
    mkdirSync(n1.paths.stateDir, { recursive: true });
    const fifo = join(n1.paths.stateDir, 'fifo');
    plant(fifo);
    const log = memoryLogger();
    reader = new FifoReader({ log, paths: n1.paths, clock: systemClock });
    reader.start({ cluster: n1.cluster });
    const got: HaMsg[] = [];
    lab.nodes[1]!.cluster.on('message', (m, from) => {
      if (from === 'node1') got.push(m);
    });
    const haDir = join(lab.dir, 'etc');
    mkdirSync(haDir, { recursive: true });
    return { fifo, got, lines: log.lines, env: { HA_VARLIB: n1.paths.stateDir, HA_DIR: haDir }, haDir };
  }

  it('creates the FIFO (0600) in place of a stray file and sends what writers put in, one writer after another', async () => {
    const { fifo, got, lines, env, haDir } = await setup();
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(statSync(fifo).mode & 0o777).toBe(0o600);
    expect(lines).toContain(`info: Creating FIFO ${fifo}.`);
    writeFileSync(join(haDir, 'ha.cf'), `logfile ${join(haDir, 'ha-log')}\nnode node1 node2\nbcast eth0\n`);
    const io = memoryIO();
    expect(hbStandby(['failback'], { io, env, argv0: '/usr/share/heartbeat/hb_standby' })).toBe(0);
    expect(hbTakeover(['local'], { io, env })).toBe(0);
    expect(hbStandby([], { io, env })).toBe(0);
    await until('three messages on node2', () => got.length >= 3);
    expect(got.map((m) => [m.get('t'), m.get('rsc_hold'), m.get('info'), m.get('src')])).toEqual([
      ['ask_resources', 'foreign', 'me', 'node1'],
      ['hb_takeover', 'local', undefined, 'node1'],
      ['ask_resources', 'all', 'me', 'node1'],
    ]);
    expect(io.stdout + io.stderr).toBe('');
    const log = readFileSync(join(haDir, 'ha-log'), 'utf8').split('\n').filter((l) => l !== '');
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/^\w{3} \d\d \d\d:\d\d:\d\d \S+ hb_standby: \[\d+\]: info: Going standby \[foreign\]\.$/);
    expect(log[1]).toMatch(/Going standby \[all\]\.$/);
  });

  it('replaces a FIFO someone else made, and a symlink, instead of reusing or following them (3.0.6 reuses any FIFO)', async () => {
    const nobody = readIdTables().users.get('nobody') ?? 65534;
    const planted = (f: string): void => {
      execFileSync('mkfifo', ['-m', '666', f]);
      chownSync(f, nobody, nobody);
    };
    const { fifo, lines } = await setup(planted);
    let st = lstatSync(fifo);
    expect([st.isFIFO(), st.uid, st.mode & 0o777]).toEqual([true, process.geteuid?.(), 0o600]);
    expect(lines).toContain(`WARN: ${fifo} is not our FIFO (owned by uid ${nobody}): replacing it.`);
    await reader?.shutdown();
    await lab?.close();
    const target = join(tmpdir(), `hbts-fifo-target-${process.pid}`);
    writeFileSync(target, 'not to be touched\n');
    try {
      const r2 = await setup((f) => symlinkSync(target, f));
      st = lstatSync(r2.fifo);
      expect(st.isFIFO()).toBe(true);
      expect(readFileSync(target, 'utf8')).toBe('not to be touched\n');
      expect(r2.lines).toContain(`WARN: ${r2.fifo} is not our FIFO (not a FIFO): replacing it.`);
    } finally {
      rmSync(target, { force: true });
    }
  });

  it('logs bad input with what was wrong and keeps going', async () => {
    const { fifo, got, lines } = await setup();
    writeFileSync(fifo, '>>>\nt=status\n<<<\n>>>\nbroken\n<<<\n>>>\nt=ip-request\nsrc=someone-else\n<<<\n');
    await until('the good message', () => got.length >= 1);
    expect(got[0]?.get('t')).toBe('ip-request');
    expect(got[0]?.get('src')).toBe('node1');
    expect(lines).toContain(`ERROR: FIFO ${fifo}: message not sent: message type status is reserved to the daemon`);
    expect(lines).toContain(`ERROR: FIFO ${fifo}: bad message: classic line without "=" at offset 4`);
  });

  it('makes the tools say heartbeat is not running instead of blocking when nobody reads', async () => {
    const { fifo, env } = await setup();
    await reader!.shutdown();
    expect(existsSync(fifo)).toBe(true);
    const io = memoryIO();
    expect(hbStandby(['all'], { io, env, argv0: 'hb_standby' })).toBe(1);
    expect(io.stderr).toBe(`hb_standby: Heartbeat is not running (nothing reads ${fifo}).\n`);
    const io2 = memoryIO();
    expect(hbTakeover([], { io: io2, env: { HA_FIFO: join(lab!.dir, 'nope') }, argv0: 'hb_takeover' })).toBe(1);
    expect(io2.stderr).toBe(`hb_takeover: Heartbeat is not running (${join(lab!.dir, 'nope')} does not exist).\n`);
    expect(existsSync(join(lab!.dir, 'nope'))).toBe(false);
  });
});

describe('hb_standby / hb_takeover arguments (the scripts\' messages, exit 1)', () => {
  const argv0 = '/usr/share/heartbeat/hb_standby';
  const cases: [string[], string][] = [
    [['bogus'], `${argv0}: wrong resources(bogus).\nusage:\n`],
    [['-h'], `${argv0}: wrong resources(-h).\nusage:\n`],
    [['a', 'b'], `${argv0}: too many arguments\nusage:\n`],
    [['--help'], 'usage:\n'],
    [[''], 'usage:\n'],
  ];
  it.each(cases)('%j', (args, out) => {
    for (const tool of [hbStandby, hbTakeover]) {
      const io = memoryIO();
      expect(tool(args, { io, env: { HA_FIFO: '/nonexistent/fifo' }, argv0 })).toBe(1);
      expect(io.stdout).toBe(out);
      expect(io.stderr).toBe(`${argv0} [all|foreign|local|failback]\n`);
    }
  });

  it('without a configured log, hb_standby says "Going standby" on stderr like the shell ha_log', async () => {
    const lab = await apiLab();
    try {
      const n1 = lab.nodes[0]!;
      mkdirSync(n1.paths.stateDir, { recursive: true });
      const r = new FifoReader({ log: memoryLogger(), paths: n1.paths, clock: systemClock });
      r.start({ cluster: n1.cluster });
      const io = memoryIO();
      expect(hbStandby(['local'], { io, env: { HA_VARLIB: n1.paths.stateDir, HA_DIR: join(lab.dir, 'none') } })).toBe(0);
      expect(io.stderr).toMatch(/^\w{3} \d\d \d\d:\d\d:\d\d Going standby \[local\]\.\n$/);
      await r.shutdown();
    } finally {
      await lab.close();
    }
  });
});
