/**
 * Direct routing (gate) on the nftables plane: the director forwards the
 * client's unchanged packets to a real server's MAC from the netdev ingress
 * hook; the real servers, prepared by resource.d/lvs-realserver (VIP on
 * lo:0, arp_ignore/arp_announce), answer the client directly.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DR, LvsLab, sh } from './ldirectord-net.js';

const ROOT = resolve(import.meta.dirname, '../..');
const lab = new LvsLab();
const cfgFile = join(lab.dir, `ldgate-${lab.id}.cf`);
const logFile = join(lab.dir, 'ldirectord.log');
const SOURCES = Array.from({ length: 8 }, (_, i) => `192.168.73.${50 + i}`);

function run(ns: string, args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: sh(['env', `LDIRECTORD_RUNDIR=${lab.dir}`, 'ip', 'netns', 'exec', ns, ...args]) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}
const realserver = (ns: string, cmd: string) => run(ns, [join(ROOT, 'resource.d/lvs-realserver'), DR.vip, cmd]);
const ldirectord = (cmd: string) => run(lab.ns.director, [join(ROOT, 'resource.d/ldirectord'), cfgFile, cmd]);

const poll = async (what: string, fn: () => boolean, timeoutMs: number): Promise<void> => {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms`);
};

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/daemon/ldirectord.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  await lab.createDr();
  lab.addClientAddresses(SOURCES);
  lab.startHttp('rs1', lab.ns.rs1, 8080, 'page-of-rs1');
  lab.startHttp('rs2', lab.ns.rs2, 8080, 'page-of-rs2');
  await Promise.all([lab.waitListening(lab.ns.rs1, 8080), lab.waitListening(lab.ns.rs2, 8080)]);
}, 120_000);

afterAll(() => {
  try { ldirectord('stop'); } finally { lab.destroy(); }
}, 120_000);

describe('lvs-realserver', () => {
  it('puts the VIP on lo:0 and sets the ARP sysctls; status and stop', () => {
    expect(realserver(lab.ns.rs1, 'status')).toEqual({ code: 3, out: 'LVS-DR real server Stopped.\n' });
    for (const ns of [lab.ns.rs1, lab.ns.rs2]) expect(realserver(ns, 'start').code).toBe(0);
    expect(realserver(lab.ns.rs1, 'start').code).toBe(0); // idempotent
    const lo = run(lab.ns.rs1, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'lo']).out;
    expect(lo).toMatch(new RegExp(`inet ${DR.vip.replace(/\./g, '\\.')}/32 .*lo:0`));
    expect(lo.match(new RegExp(DR.vip.replace(/\./g, '\\.'), 'g'))).toHaveLength(1);
    for (const [k, v] of [['lo/arp_ignore', '1'], ['lo/arp_announce', '2'], ['all/arp_ignore', '1'], ['all/arp_announce', '2']]) {
      expect(run(lab.ns.rs1, ['cat', `/proc/sys/net/ipv4/conf/${k}`]).out.trim()).toBe(v);
    }
    expect(realserver(lab.ns.rs1, 'status')).toEqual({ code: 0, out: 'LVS-DR real server Running.\n' });
    // the real servers do not answer ARP for the VIP: only the director does
    const arp = run(lab.ns.client, ['arping', '-c', '2', '-w', '3', '-I', 'eth0', DR.vip]).out;
    const directorMac = run(lab.ns.director, ['cat', '/sys/class/net/eth0/address']).out.trim().toUpperCase();
    const macs = new Set([...arp.matchAll(/\[([0-9A-F:]{17})\]/gi)].map((m) => (m[1] ?? '').toUpperCase()));
    expect(macs).toEqual(new Set([directorMac]));
  });

  it('stop removes the VIP and restores the sysctls', () => {
    const ns = lab.ns.client; // a throwaway use: start and stop on the client
    expect(run(ns, [join(ROOT, 'resource.d/lvs-realserver'), '192.168.99.1', 'start']).code).toBe(0);
    expect(run(ns, [join(ROOT, 'resource.d/lvs-realserver'), '192.168.99.1', 'stop']).code).toBe(0);
    expect(run(ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'lo']).out).not.toContain('192.168.99.1');
    expect(run(ns, ['cat', '/proc/sys/net/ipv4/conf/all/arp_ignore']).out.trim()).toBe('0');
    expect(run(ns, [join(ROOT, 'resource.d/lvs-realserver'), '192.168.99.1', 'status']).code).toBe(3);
  });
});

describe('ldirectord gate on nftables', () => {
  it('forwards by source hash to real servers that answer the client directly, and fails over', async () => {
    writeFileSync(cfgFile, `checkinterval=1
checktimeout=2
dataplane=nftables
logfile="${logFile}"
virtual=${DR.vip}:8080
	real=${DR.rs[0]}:8080 gate
	real=${DR.rs[1]}:8080 gate
	service=http
	scheduler=sh
	checktype=negotiate
	receive="page-of"
`);
    expect(run(lab.ns.director, ['node', join(ROOT, 'dist/daemon/ldirectord.js'), '-t', cfgFile]).code).toBe(0);
    const st = ldirectord('start');
    expect(st, st.out).toMatchObject({ code: 0 });
    await poll('both real servers added', () => {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      return DR.rs.every((rs) => log.includes(`Added real server: ${rs}:8080 (${DR.vip}:8080)`));
    }, 20_000);
    expect(run(lab.ns.director, ['nft', 'list', 'table', 'netdev', 'ldirectord']).out).toContain('fwd ip to jhash ip saddr mod 2');

    const served = new Map<string, string>();
    for (const src of SOURCES) {
      const pages = lab.get(8080, 3, src);
      expect(new Set(pages).size, `${src}: ${pages.join(',')}`).toBe(1);
      served.set(src, pages[0] ?? '');
    }
    expect(new Set(served.values())).toEqual(new Set(['page-of-rs1', 'page-of-rs2']));

    lab.stop('rs1');
    await poll('all clients on rs2', () => SOURCES.every((src) => lab.get(8080, 1, src)[0] === 'page-of-rs2'), 30_000);
    expect(readFileSync(logFile, 'utf8')).toContain(`Deleted real server: ${DR.rs[0]}:8080 (${DR.vip}:8080)`);

    expect(ldirectord('stop').code).toBe(0);
    expect(run(lab.ns.director, ['nft', 'list', 'tables']).out).not.toContain('ldirectord');
  });
});
