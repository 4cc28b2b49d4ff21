/**
 * The real ipvsadm binary against the plane's lines, in a lab node. This
 * kernel may have no IPVS, and ipvsadm initialises IPVS before it parses
 * its arguments, so the binary cannot judge our lines there; the test
 * proves that, and on a kernel with IPVS restores the lines for real.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipvsadmDiff, ipvsadmRestore, parseIpvsadmSave } from '../../lib/ldirectord/ipvsadm.js';
import { computeTable } from '../../lib/ldirectord/state.js';
import { CONF, cfgOf } from '../unit/ldirectord/ipvsadm-fixture.js';
import { type ExecResult, Lab } from './harness/lab.js';

let lab: Lab | undefined;

describe('the ipvsadm binary', () => {
  beforeAll(async () => {
    // Debian's ipvsadm; scripts/ensure-os-packages.sh should carry it.
    if (spawnSync('sh', ['-c', 'command -v ipvsadm']).status !== 0) {
      execFileSync('apt-get', ['install', '-y', 'ipvsadm'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
    lab = await Lab.up({ nodes: 1 });
  }, 300_000);
  afterAll(async () => lab?.down(), 120_000);

  it('cannot judge syntax without IPVS, and takes our lines when the kernel has it', async () => {
    const cfg = cfgOf(CONF);
    const input = ipvsadmRestore(computeTable(cfg, new Map()));
    const run = (args: string[], stdin = ''): Promise<ExecResult> => {
      if (lab === undefined) throw new Error('lab is not up');
      return lab.exec(1, ['ipvsadm', ...args], { input: stdin });
    };
    if (!existsSync('/proc/net/ip_vs')) {
      // A valid and an invalid line fail alike, before any parsing.
      const good = await run(['-A', '-t', '10.0.0.1:80', '-s', 'rr']);
      const bad = await run(['-A', '-t', '10.0.0.1:80', '-s', 'no-such-scheduler', '--frob']);
      expect(good.code).not.toBe(0);
      expect(good.stderr).toContain("Can't initialize ipvs");
      expect(bad.stderr).toBe(good.stderr);
      return;
    }
    const restore = await run(['-R'], input);
    expect(restore.stderr).toBe('');
    const saved = await run(['-S', '-n']);
    expect(ipvsadmDiff(parseIpvsadmSave(saved.stdout), computeTable(cfg, new Map()))).toEqual([]);
  });
});
