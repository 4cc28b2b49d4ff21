/**
 * ldirectord with the nftables data plane, end to end: a director in its
 * own namespace started through resource.d/ldirectord, two real servers
 * serving their own pages behind it (LVS-NAT: they route via the
 * director), a client doing real GETs on the VIP.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LvsLab, RS, sh } from './ldirectord-net.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WRAPPER = join(ROOT, 'resource.d/ldirectord');
const CHECK_INTERVAL = 1;
const CHECK_TIMEOUT = 2;

const lab = new LvsLab();
const cfgFile = join(lab.dir, `ld-${lab.id}.cf`);
const logFile = join(lab.dir, 'ldirectord.log');
const env = { ...process.env, LDIRECTORD_RUNDIR: lab.dir };

function ldirectord(cmd: string): { code: number; out: string } {
  try {
    const out = sh(['env', `LDIRECTORD_RUNDIR=${lab.dir}`, 'ip', 'netns', 'exec', lab.ns.director, WRAPPER, cfgFile, cmd]);
    return { code: 0, out };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

const poll = async (what: string, fn: () => boolean, timeoutMs: number): Promise<number> => {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (fn()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms`);
};

const count = (pages: string[]): Record<string, number> =>
  pages.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p]: (acc[p] ?? 0) + 1 }), {});

const SOURCES = Array.from({ length: 8 }, (_, i) => `192.168.71.${50 + i}`);

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/daemon/ldirectord.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  await lab.create();
  lab.addClientAddresses(SOURCES);
  lab.startHttp('rs1', lab.ns.rs1, 8080, 'page-of-rs1');
  lab.startHttp('rs2', lab.ns.rs2, 8080, 'page-of-rs2');
  lab.startHttp('fallback', lab.ns.director, 8081, 'page-of-fallback');
  lab.startHanging('hang', lab.ns.rs2, 8090);
  await Promise.all([
    lab.waitListening(lab.ns.rs1, 8080), lab.waitListening(lab.ns.rs2, 8080),
    lab.waitListening(lab.ns.director, 8081), lab.waitListening(lab.ns.rs2, 8090),
  ]);
  writeFileSync(cfgFile, `# ldirectord test configuration (${lab.id})
checkinterval=${CHECK_INTERVAL}
checktimeout=${CHECK_TIMEOUT}
negotiatetimeout=${CHECK_TIMEOUT}
quiescent=no
dataplane=nftables
logfile="${logFile}"
fallback=127.0.0.1:8081 masq

# round robin
virtual=192.168.71.100:80
	real=${RS[0]}:8080 masq
	real=${RS[1]}:8080 masq
	service=http
	scheduler=rr
	request="index.html"
	receive="page-of"

# weighted round robin 3:1
virtual=192.168.71.100:81
	real=${RS[0]}:8080 masq 3
	real=${RS[1]}:8080 masq 1
	service=http
	scheduler=wrr
	checktype=connect

# source hashing
virtual=192.168.71.100:82
	real=${RS[0]}:8080 masq
	real=${RS[1]}:8080 masq
	service=http
	scheduler=sh
	checktype=connect

# a real server that accepts and never answers, with a long timeout
virtual=192.168.71.100:83
	real=${RS[1]}:8090 masq
	service=http
	scheduler=rr
	negotiatetimeout=120
`);
  const started = ldirectord('start');
  expect(started, started.out).toMatchObject({ code: 0 });
  // Both real servers are in every pool once their first checks passed.
  await poll('both real servers added', () => {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    return [80, 81, 82].every((p) => RS.every((rs) => log.includes(`Added real server: ${rs}:8080 (192.168.71.100:${p})`)));
  }, 20_000);
}, 120_000);

afterAll(() => {
  try { ldirectord('stop'); } finally { lab.destroy(); }
}, 120_000);

describe('ldirectord on the nftables data plane', () => {
  it('status reports the running daemon on stdout, as heartbeat reads it', () => {
    const st = ldirectord('status');
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/is running with pid: \d+/);
    // the table ldirectord owns exists in the director's namespace
    expect(lab.exec(lab.ns.director, ['nft', 'list', 'table', 'ip', 'ldirectord'])).toContain('numgen inc mod 2');
  });

  it('rr alternates between the real servers', () => {
    const pages = lab.get(80, 10);
    expect(pages).toHaveLength(10);
    for (let i = 1; i < pages.length; i++) expect(pages[i]).not.toBe(pages[i - 1]);
    expect(count(pages)).toEqual({ 'page-of-rs1': 5, 'page-of-rs2': 5 });
  });

  it('wrr follows the weights 3:1', () => {
    const pages = lab.get(81, 8);
    expect(count(pages)).toEqual({ 'page-of-rs1': 6, 'page-of-rs2': 2 });
  });

  it('sh keeps each client on one real server and spreads clients', () => {
    const seen = new Map<string, string>();
    for (const src of SOURCES) {
      const pages = lab.get(82, 4, src);
      expect(new Set(pages).size, `client ${src}: ${pages.join(',')}`).toBe(1);
      seen.set(src, pages[0] ?? '');
    }
    expect(new Set(seen.values())).toEqual(new Set(['page-of-rs1', 'page-of-rs2']));
  });

  it('moves all traffic to rs2 when rs1 stops, despite a hanging real server; fallback when both stop; back when one returns', async () => {
    lab.stop('rs1');
    // Detection takes a check interval plus a timeout; the hanging server's
    // own 120 s negotiate timeout must not hold this up.
    const took = await poll('traffic only on rs2', () => lab.get(80, 4).every((p) => p === 'page-of-rs2'), 30_000);
    expect(took).toBeLessThan(30_000);
    expect(count(lab.get(81, 4))).toEqual({ 'page-of-rs2': 4 });
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain(`Deleted real server: ${RS[0]}:8080 (192.168.71.100:80)`);
    // the hanging server was never added
    expect(log).not.toContain(`Added real server: ${RS[1]}:8090`);

    lab.stop('rs2');
    await poll('fallback serves', () => lab.get(80, 2).every((p) => p === 'page-of-fallback'), 30_000);
    expect(readFileSync(logFile, 'utf8')).toContain('Added fallback server: 127.0.0.1:8081 (192.168.71.100:80) (Weight set to 1)');

    lab.startHttp('rs1', lab.ns.rs1, 8080, 'page-of-rs1');
    await poll('rs1 back', () => lab.get(80, 4).every((p) => p === 'page-of-rs1'), 30_000);
    expect(readFileSync(logFile, 'utf8')).toContain('Deleted fallback server: 127.0.0.1:8081 (192.168.71.100:80)');
  });

  it('stop removes the nftables table and the pid file', () => {
    expect(ldirectord('stop').code).toBe(0);
    expect(lab.exec(lab.ns.director, ['nft', 'list', 'tables'])).not.toContain('ldirectord');
    const st = ldirectord('status');
    expect(st.code).toBe(3);
    expect(st.out).toContain('ldirectord is stopped');
    void env;
  });
});
