import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateUuid, nextGeneration, uuidFromNodename, uuidToText } from '../../../lib/membership/state-files.js';
import { memoryLogger } from '../../../lib/util/log.js';

const vectors = JSON.parse(readFileSync(new URL('../../fixtures/heartbeat-test-vectors.json', import.meta.url), 'utf8')) as {
  uuidfrom_nodename_glibc: Record<string, string>;
};

describe('state files', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'hbstate-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('uuidfrom nodename reproduces glibc srand/rand as heartbeat uses it', () => {
    for (const name of ['node1', 'node2']) {
      expect(uuidToText(uuidFromNodename(name))).toBe(vectors.uuidfrom_nodename_glibc[name]);
    }
  });

  it('increments the generation in heartbeat\'s %15lu format on every start', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'hb_generation'), `${'41'.padStart(15)}\n`);
    const log = memoryLogger();
    expect(nextGeneration(dir, 'file', 1_700_000_000_000, log)).toBe(42);
    expect(nextGeneration(dir, 'file', 1_700_000_000_000, log)).toBe(43);
    const text = readFileSync(join(dir, 'hb_generation'), 'latin1');
    expect(text).toBe(`${'43'.padStart(15)}\n`);
    expect(text.length).toBe(16);
    expect(log.lines).toContain('info: Heartbeat generation: 43');
  });

  it('starts from the clock when there is no previous generation', () => {
    const dir = tmp();
    const log = memoryLogger();
    expect(nextGeneration(dir, 'file', 1_700_000_000_500, log)).toBe(1_700_000_001);
    expect(log.lines[0]).toBe('WARN: No Previous generation - starting at 1700000001');
  });

  it('refuses to start when the generation cannot be stored', () => {
    const dir = tmp();
    const file = join(dir, 'blocker');
    writeFileSync(file, 'x');
    expect(() => nextGeneration(join(file, 'sub'), 'file', 0, memoryLogger())).toThrow(/cannot store heartbeat generation/);
  });

  it('creates a 16-byte uuid once and reuses it', () => {
    const dir = tmp();
    const a = loadOrCreateUuid(dir, memoryLogger());
    const b = loadOrCreateUuid(dir, memoryLogger());
    expect(a.length).toBe(16);
    expect(b.equals(a)).toBe(true);
    expect(statSync(join(dir, 'hb_uuid')).size).toBe(16);
  });
});
