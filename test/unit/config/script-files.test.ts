/**
 * `heartbeat -t` on resource scripts that hb_rsctest would refuse: each
 * haresources line names the reason (missing, a directory, a broken
 * symlink, not executable), and the file warnings come once per script.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../../lib/config/load.js';
import { formatProblem } from '../../../lib/config/problems.js';
import { inspectScript } from '../../../lib/config/script-files.js';

const root = mkdtempSync(join(tmpdir(), 'hbcfg-scripts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setup(haresources: string): { haDir: string; rscDir: string; initDir: string } {
  const haDir = mkdtempSync(join(root, 'ha.d-'));
  const rscDir = join(haDir, 'resource.d');
  const initDir = join(haDir, 'init.d');
  mkdirSync(rscDir);
  mkdirSync(initDir);
  writeFileSync(join(haDir, 'ha.cf'), 'node node1 node2\nbcast eth0\nlogfile /dev/null\nuse_logd no\n');
  writeFileSync(join(haDir, 'authkeys'), 'auth 1\n1 sha1 secret\n', { mode: 0o600 });
  writeFileSync(join(haDir, 'haresources'), haresources);
  writeFileSync(join(rscDir, 'Good'), '#!/bin/sh\n', { mode: 0o755 });
  mkdirSync(join(rscDir, 'Dir'));
  symlinkSync('/nonexistent/Broken', join(rscDir, 'Broken'));
  writeFileSync(join(rscDir, 'Plain'), '#!/bin/sh\n', { mode: 0o644 });
  chmodSync(join(rscDir, 'Plain'), 0o644);
  writeFileSync(join(rscDir, 'Dos'), '#!/bin/sh\r\n', { mode: 0o755 });
  // shadowed: resource.d has a broken entry, init.d the real script
  mkdirSync(join(rscDir, 'Shadow'));
  writeFileSync(join(initDir, 'Shadow'), '#!/bin/sh\n', { mode: 0o755 });
  return { haDir, rscDir, initDir };
}

describe('heartbeat -t: resource scripts', () => {
  it('says why each resource cannot run, with file:line', () => {
    const { haDir, rscDir, initDir } = setup('node1 Good Dir::a\nnode2 Broken Plain Missing\nnode1 Dos Shadow\nnode2 Dos::x\n');
    const r = loadConfiguration({ haDir, nodename: 'node1', resourceDirs: [rscDir, initDir], servicesFile: '/dev/null' });
    const lines = r.problems.filter((p) => p.file.endsWith('haresources')).map(formatProblem);
    const hr = join(haDir, 'haresources');
    expect(lines).toEqual([
      `${hr}:1: error: Cannot locate resource script Dir (resource [Dir::a]): ${rscDir}/Dir is a directory; ${initDir}/Dir does not exist`,
      `${hr}:2: error: Cannot locate resource script Broken (resource [Broken]): ${rscDir}/Broken is a broken symbolic link (to /nonexistent/Broken); ${initDir}/Broken does not exist`,
      `${hr}:2: error: Cannot locate resource script Plain (resource [Plain]): ${rscDir}/Plain is not executable (mode 0644: chmod 755 it); ${initDir}/Plain does not exist`,
      `${hr}:2: error: Cannot locate resource script Missing (resource [Missing]): ${rscDir}/Missing does not exist; ${initDir}/Missing does not exist`,
      `${hr}:3: warning: ${rscDir}/Dos has DOS (CR LF) line endings: its "#!" interpreter name ends in CR and exec fails (run dos2unix on it)`,
      `${hr}:3: warning: ${rscDir}/Shadow is a directory: ${initDir}/Shadow runs instead`,
    ]);
    expect(r.ok).toBe(false);
  });

  it('finds what the lookup rule finds', () => {
    const { rscDir, initDir } = setup('');
    expect(inspectScript([rscDir, initDir], 'Good')).toEqual({ path: join(rscDir, 'Good'), findings: [] });
    expect(inspectScript([rscDir, initDir], 'Shadow').path).toBe(join(initDir, 'Shadow'));
    expect(inspectScript([rscDir, initDir], '../x').findings[0]?.code).toBe('RSC_BAD_NAME');
  });
});
