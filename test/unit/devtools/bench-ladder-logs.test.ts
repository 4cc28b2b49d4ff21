/**
 * A failed ladder rung's logs are kept under the results directory: the lab
 * goes with the rung, and a false death is understood only from its lines.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keepRungLogs } from '../../../bench/deadtime.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'hbts-ladder-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('keepRungLogs', () => {
  it('writes one file per node, each line with the moment the bench read it', () => {
    const outDir = tempDir();
    const said: string[] = [];
    const t = Date.UTC(2026, 11, 4, 15, 15, 58, 120);
    keepRungLogs({ opts: { outDir }, say: (l) => said.push(l) }, 'deadtime-loaded-run1-ours-500ms', [
      { lines: [{ t, text: 'WARN: node node2: is dead' }] },
      { lines: [] },
    ]);
    const one = readFileSync(join(outDir, 'ladder-logs', 'deadtime-loaded-run1-ours-500ms-node1.log'), 'utf8');
    expect(one).toBe('2026-12-04T15:15:58.120Z WARN: node node2: is dead\n');
    expect(readFileSync(join(outDir, 'ladder-logs', 'deadtime-loaded-run1-ours-500ms-node2.log'), 'utf8')).toBe('');
    expect(said).toEqual([]);
  });

  it('says why when the directory cannot be written, and does not throw', () => {
    const blocker = join(tempDir(), 'file');
    writeFileSync(blocker, 'not a directory');
    const said: string[] = [];
    expect(() => keepRungLogs({ opts: { outDir: blocker }, say: (l) => said.push(l) }, 'x', [{ lines: [] }])).not.toThrow();
    expect(said.join('\n')).toMatch(/could not keep the logs of x/);
  });
});
