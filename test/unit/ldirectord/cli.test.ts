/** The ldirectord command line (built daemon): -t, status, stop, reload on a stopped instance. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'dist/daemon/ldirectord.js');
const dir = mkdtempSync(join(tmpdir(), 'ldcli-'));
const ld = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], {
  encoding: 'utf8', env: { ...process.env, LDIRECTORD_RUNDIR: dir },
});

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error('dist/ is not built: run `npm run build` first');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ldirectord CLI', () => {
  it('-t reports every problem as file:line and exits 2; a good file exits 0', () => {
    const bad = join(dir, 'bad.cf');
    writeFileSync(bad, 'real=10.0.1.1:80 masq\nvirtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  scheduler=lc\n  scheduler=xyz\n');
    const r = ld('-t', bad);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `${bad}:1: error: "real=" outside a virtual= block (it must follow a virtual= line and be indented) [LDCF_REAL_OUTSIDE_VIRTUAL]`,
      `${bad}:5: error: unknown scheduler "xyz": expected one of rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos [LDCF_BAD_SCHEDULER]`,
    ]);
    const ipvsOnly = join(dir, 'lc.cf');
    writeFileSync(ipvsOnly, 'dataplane=nftables\nvirtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  scheduler=lc\n');
    const r2 = ld('-t', ipvsOnly);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain(`${ipvsOnly}:4: error: scheduler=lc (virtual 10.0.0.1:80) is IPVS-only`);
    const good = join(dir, 'good.cf');
    writeFileSync(good, 'dataplane=ipvs\nvirtual=10.0.0.1:80\n  real=10.0.1.1:80 gate\n  scheduler=lblc\n');
    const r3 = ld('-t', good);
    expect(r3.status, r3.stderr).toBe(0);
    expect(r3.stdout).toBe(`${good}: configuration OK, data plane ipvs\n`);
  });

  it('status, stop and reload of an instance that is not running', () => {
    const cfg = join(dir, 'idle.cf');
    writeFileSync(cfg, 'virtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n');
    expect(ld(cfg, 'status')).toMatchObject({ status: 3, stdout: `ldirectord is stopped for ${cfg}\n` });
    expect(ld(cfg, 'stop').status).toBe(0);
    expect(ld(cfg, 'reload').status).toBe(1);
    writeFileSync(join(dir, 'ldirectord.idle.cf.pid'), '999999\n');
    expect(ld(cfg, 'status')).toMatchObject({ status: 1, stderr: expect.stringContaining('stale pid file') });
  });

  it('usage errors and a missing file', () => {
    expect(ld('frobnicate').status).toBe(1);
    expect(ld(join(dir, 'none.cf'), 'start')).toMatchObject({ status: 1, stderr: expect.stringContaining('not found') });
    expect(ld('-v')).toMatchObject({ status: 0, stdout: expect.stringContaining('Linux Director') });
  });
});
