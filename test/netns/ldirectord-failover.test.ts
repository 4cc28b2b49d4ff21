/**
 * Issue 6, last "Must show": two heartbeat-ts directors fail the virtual IP
 * and the load balancing over between them.
 *
 *   node1 IPaddr::10.77.0.100/24/eth0 IPaddr::10.77.1.1/24/eth1 ldirectord::ldirectord.cf
 *
 * IPaddr and ldirectord are the repository's resource.d scripts, copied
 * (not linked) into each director's private /etc/ha.d/resource.d as
 * install-system does: the copied ldirectord script finds heartbeat-ts
 * through HEARTBEAT_TS_HOME, which the daemon gives its resource scripts.
 * ldirectord.cf: nftables data plane, masq, rr, two real servers on a back
 * LAN, each serving its own page. The real servers route via 10.77.1.1, the
 * second address of the group, so their replies always reach the active
 * director (see ldirectord-failover-net.ts for the drawing).
 *
 * Steps: node1 takes the group (GETs alternate rs1/rs2); hb_standby and
 * hb_takeover move it to node2 and back while both directors live; then a
 * crash: both of node1's cables pulled and its daemon killed with -9, and
 * node2 takes over (the client's outage is measured and printed); finally
 * node2 stops gracefully and gives everything up.
 *
 * Crash model as in failover.test.ts: node1's kernel keeps its addresses,
 * its ldirectord and its nft table, frozen and unreachable, so the monitors
 * stop counting node1 from the cut. Until then, the nft ldirectord table
 * (`nft list tables` in both namespaces at once, every ~150 ms), the VIP and
 * the gateway address (every 100 ms) are never on both directors at once.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashOurs, installRepoScripts, Member, stopOurs } from './failover-cluster.js';
import { ExclusivityMonitor, preserveLogs } from './failover-support.js';
import { authKeys, haCf, ipAddrs, logSize, readLog, waitFor, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab, REPO_ROOT } from './harness/lab.js';
import { BackLan, DIRECTORS, GATEWAY, LAB_SUBNET, nsExec, NftMonitor, Prober, REAL_SERVERS } from './ldirectord-failover-net.js';

const CFG = 'ldirectord.cf';
const LD_LOG = '/var/log/ldirectord.log';
const DEADTIME = 5;
const PAGES = ['page-of-rs1', 'page-of-rs2'];

let lab: Lab | undefined;
let back: BackLan | undefined;
let prober: Prober | undefined;
let nft: NftMonitor | undefined;
const monitors: ExclusivityMonitor[] = [];
const measured: string[] = [];

function L(): Lab {
  if (lab === undefined) throw new Error('lab not set up');
  return lab;
}
const vipOf = (l: Lab): string => `${l.subnet}.100`;

function ldirectordCf(vip: string): string {
  return `# two directors, nftables NAT (written by ldirectord-failover.test.ts)
checkinterval=1
checktimeout=2
negotiatetimeout=2
quiescent=no
dataplane=nftables
logfile="${LD_LOG}"

virtual=${vip}:80
	real=${REAL_SERVERS[0]}:80 masq
	real=${REAL_SERVERS[1]}:80 masq
	service=http
	scheduler=rr
	protocol=tcp
	checktype=negotiate
	request="index.html"
	receive="page-of-rs"
`;
}

/** `count` GETs on the VIP from the client, one connection each: the pages ('' = no answer). */
async function gets(l: Lab, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const r = await nsExec(l.netns('c'), ['curl', '-s', '-m', '2', `http://${vipOf(l)}/`]);
    out.push(r.code === 0 ? r.out.trim() : '');
  }
  return out;
}

/** The pages alternate and both real servers answer equally often. */
function expectAlternating(pages: string[]): void {
  expect(pages.every((p) => PAGES.includes(p)), pages.join(',')).toBe(true);
  for (let k = 1; k < pages.length; k++) expect(pages[k], pages.join(',')).not.toBe(pages[k - 1]);
  expect(pages.filter((p) => p === PAGES[0]).length).toBe(pages.length / 2);
}

async function holds(l: Lab, i: number): Promise<{ vip: boolean; gw: boolean; table: boolean }> {
  const [front, backAddrs, tables] = await Promise.all([
    ipAddrs(l, i, 'eth0'), ipAddrs(l, i, 'eth1'), nsExec(l.netns(i), ['nft', 'list', 'tables']),
  ]);
  return {
    vip: front.includes(`${vipOf(l)}/24`),
    gw: backAddrs.includes(`${GATEWAY}/24`),
    table: /^table ip ldirectord$/m.test(tables.out),
  };
}

/**
 * Both daemons report a stable resource state (cl_status rscstatus): a
 * standby asked for while the other side is in flux is refused, as in
 * heartbeat, so it is asked for when stable, as an administrator would.
 */
async function waitStable(l: Lab): Promise<void> {
  const stable = ['local', 'foreign', 'all', 'none'];
  await waitFor(() => Promise.all(DIRECTORS.map((i) => new Member(l, i, 'ours').rscstatus())), {
    timeoutMs: 30_000, intervalMs: 300, what: 'both directors stable (cl_status rscstatus)', until: (v) => v.every((x) => stable.includes(x)),
  });
}

function noDoubleHolding(): void {
  for (const m of monitors) expect(m.violations, m.timeline()).toEqual([]);
  expect(nft?.violations, nft?.timeline()).toEqual([]);
}

beforeAll(async () => {
  if (!existsSync(`${REPO_ROOT}/dist/daemon/ldirectord.js`)) throw new Error('dist/ is not built: run `npm run build` first');
  lab = await Lab.up({ nodes: 4, lans: 2, subnet: LAB_SUBNET });
  const l = lab;
  back = new BackLan(l);
  back.create();
  await back.startHttp();
  const vip = vipOf(l);
  for (const i of DIRECTORS) {
    writeHaConfig(l, i, {
      hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: DEADTIME, initdead: 10, autoFailback: true }),
      authkeys: authKeys('sha1'),
      haresources: `node1 IPaddr::${vip}/24/eth0 IPaddr::${GATEWAY}/24/eth1 ldirectord::${CFG}\n`,
    });
    installRepoScripts(l, i, ['IPaddr', 'ldirectord']);
    l.writeFile(i, `/etc/ha.d/${CFG}`, ldirectordCf(vip));
    // what /etc/sysctl.conf does on a real director: NAT forwarding
    const r = await l.exec(i, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    if (r.code !== 0) throw new Error(`ip_forward on node ${i}: ${r.stderr}`);
  }
  monitors.push(new ExclusivityMonitor(l, { vip }), new ExclusivityMonitor(l, { vip: GATEWAY }));
  for (const m of monitors) m.start();
  nft = new NftMonitor(l);
  nft.start();
  prober = new Prober(l.netns('c'), `http://${vip}/`);
}, 120_000);

afterAll(async () => {
  await prober?.stop();
  await nft?.stop();
  for (const m of monitors) m.stop();
  if (nft !== undefined) measured.push(`nft ldirectord table: ${nft.timeline()}`);
  if (measured.length > 0) console.log(`[ldirectord-failover] measured:\n  ${measured.join('\n  ')}`);
  try {
    if (lab?.isUp === true) {
      preserveLogs(lab, 'ldirectord-failover');
      // daemons and ldirectords of both directors: all started by this test
      for (const i of lab.ids()) for (const p of await lab.pids(i)) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
  } finally {
    try {
      back?.destroy();
    } finally {
      await lab?.down();
    }
  }
}, 120_000);

describe.sequential('two heartbeat-ts directors with IPaddr + ldirectord (nftables, masq, rr)', () => {
  it('node1 takes the group: the client\'s GETs on the VIP alternate between both real servers through node1', async () => {
    const l = L();
    const t0 = Date.now();
    await Promise.all([1, 2].map((i) => new Member(l, i, 'ours').start()));
    await waitFor(() => gets(l, 1), { timeoutMs: 90_000, intervalMs: 200, what: 'a real server answering on the VIP', until: (p) => PAGES.includes(p[0] ?? '') });
    measured.push(`group up on node1, first answer on the VIP ${(Date.now() - t0) / 1000} s after the start`);
    // Both real servers in the pool (the first checks may still be running).
    await waitForLog(l, 1, new RegExp(`Added real server: ${REAL_SERVERS[1].replace(/\./g, '\\.')}:80`), { timeoutMs: 10_000, file: LD_LOG });
    await waitForLog(l, 1, new RegExp(`Added real server: ${REAL_SERVERS[0].replace(/\./g, '\\.')}:80`), { timeoutMs: 10_000, file: LD_LOG });
    expectAlternating(await gets(l, 10));

    expect(await holds(l, 1)).toEqual({ vip: true, gw: true, table: true });
    expect(await holds(l, 2)).toEqual({ vip: false, gw: false, table: false });
    const log1 = readLog(l, 1);
    expect(log1).toContain(`Running /etc/ha.d/resource.d/IPaddr ${GATEWAY}/24/eth1 start`);
    expect(log1).toContain(`Running /etc/ha.d/resource.d/ldirectord ${CFG} start`);
    expect(readLog(l, 2)).not.toMatch(/Running .* start/);
    const st = await l.exec(1, ['/etc/ha.d/resource.d/ldirectord', CFG, 'status'], { env: { HEARTBEAT_TS_HOME: REPO_ROOT } });
    expect(st.stdout).toMatch(/ldirectord for \/etc\/ha\.d\/ldirectord\.cf is running with pid: \d+/);
    noDoubleHolding();
  });

  it('hb_standby on node1, then hb_takeover: the group moves to node2 and back while both live, the table never on both', async () => {
    const l = L();
    const node1 = new Member(l, 1, 'ours');
    await waitStable(l);
    let t = Date.now();
    await node1.standby();
    await waitFor(() => holds(l, 2), { timeoutMs: 60_000, what: 'the group on node2', until: (h) => h.vip && h.gw && h.table });
    await waitFor(() => gets(l, 1), { timeoutMs: 30_000, what: 'answers through node2', until: (p) => PAGES.includes(p[0] ?? '') });
    measured.push(`hb_standby on node1 -> answers through node2 after ${(Date.now() - t) / 1000} s`);
    expect(await holds(l, 1)).toEqual({ vip: false, gw: false, table: false });
    for (const rs of REAL_SERVERS) {
      await waitForLog(l, 2, new RegExp(`Added real server: ${rs.replace(/\./g, '\\.')}:80`), { timeoutMs: 10_000, file: LD_LOG });
    }
    expectAlternating(await gets(l, 10));

    await waitStable(l);
    t = Date.now();
    await node1.takeover();
    await waitFor(() => holds(l, 1), { timeoutMs: 60_000, what: 'the group back on node1', until: (h) => h.vip && h.gw && h.table });
    await waitFor(() => gets(l, 1), { timeoutMs: 30_000, what: 'answers through node1', until: (p) => PAGES.includes(p[0] ?? '') });
    measured.push(`hb_takeover on node1 -> answers through node1 after ${(Date.now() - t) / 1000} s`);
    expect(await holds(l, 2)).toEqual({ vip: false, gw: false, table: false });
    expect(readLog(l, 2, LD_LOG)).toMatch(/Linux Director Daemon terminated on signal: TERM/);
    // the monitors did see the table and the addresses on each director in turn
    const seen = new Set(nft?.samples.map((x) => x.holders.join(',')));
    expect([...seen]).toEqual(expect.arrayContaining(['', '1', '2']));
    for (const m of monitors) expect(m.sawVipOn(1) && m.sawVipOn(2), m.timeline()).toBe(true);
    noDoubleHolding();
  });

  it('kill -9 of node1 with its cables pulled: VIP, gateway and nft table move to node2, the GETs keep being answered', async () => {
    const l = L();
    const p = prober as Prober;
    const size2 = logSize(l, 2);
    const ldSize2 = logSize(l, 2, LD_LOG);
    p.start();
    await waitFor(() => p.answeredSince(0).length, { timeoutMs: 10_000, what: 'the prober\'s first answers', until: (n) => n >= 3 });

    // A crash: both cables out, then kill -9 of the daemon. Cables first: on this
    // loaded machine finding and killing the daemon can take seconds, and node2
    // (which stops hearing node1 either way) must never take over while node1 is
    // still plugged in with the VIP.
    const cutAt = p.now();
    await l.cut(1, 'link'); // both LANs: front and back cables
    for (const m of monitors) m.exclude(1);
    nft?.exclude(1);
    await crashOurs(l, 1);
    const killedAt = p.now();

    await waitFor(() => holds(l, 2), {
      timeoutMs: 60_000, what: 'VIP, gateway and nft table on node2', until: (h) => h.vip && h.gw && h.table,
    });
    await waitFor(() => p.answeredSince(cutAt).length, { timeoutMs: 30_000, what: 'answers on the VIP after the cut', until: (n) => n >= 6 });
    await p.stop(); // its GETs would interleave with the rr check below
    const last = p.lastAnswerBefore(cutAt)?.t ?? 0;
    const first = p.answeredSince(cutAt)[0]?.t ?? NaN;
    const gap = first - last;
    measured.push(
      `node1's cables out, its daemon killed ${((killedAt - cutAt) / 1000).toFixed(1)} s later -> ` +
        `first answer through node2 ${((first - cutAt) / 1000).toFixed(1)} s after the cut; ` +
        `the client saw no answer for ${(gap / 1000).toFixed(1)} s (deadtime ${DEADTIME} s)`,
    );
    // no answer while node2 waited for deadtime: node1 really was cut off
    expect(gap).toBeGreaterThan(1000);
    expect(gap).toBeLessThan(60_000);
    // every GET sent after the first answer through node2 was answered, by both real servers
    const after = p.probes.filter((x) => x.sent >= first);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((x) => x.page === ''), JSON.stringify(after)).toEqual([]);
    expect(new Set(p.answeredSince(cutAt).map((x) => x.page))).toEqual(new Set(PAGES));

    await waitForLog(l, 2, /node node1: is dead/, { timeoutMs: 1000, after: size2 });
    await waitForLog(l, 2, new RegExp(`Running /etc/ha\\.d/resource\\.d/ldirectord ${CFG} start`), { timeoutMs: 1000, after: size2 });
    for (const rs of REAL_SERVERS) {
      await waitForLog(l, 2, new RegExp(`Added real server: ${rs.replace(/\./g, '\\.')}:80`), { timeoutMs: 10_000, file: LD_LOG, after: ldSize2 });
    }
    // both real servers still answer, in turn, through node2
    expectAlternating(await gets(l, 10));
    noDoubleHolding();
  });

  it('a graceful stop of node2 gives everything up: no nft table, no addresses, ldirectord stopped', async () => {
    const l = L();
    const size2 = logSize(l, 2);
    const ldSize2 = logSize(l, 2, LD_LOG);
    await stopOurs(l, 2);
    expect(await holds(l, 2)).toEqual({ vip: false, gw: false, table: false });
    await waitForLog(l, 2, new RegExp(`Running /etc/ha\\.d/resource\\.d/ldirectord ${CFG} stop`), { timeoutMs: 1000, after: size2 });
    await waitForLog(l, 2, /Linux Director Daemon terminated on signal: TERM/, { timeoutMs: 1000, file: LD_LOG, after: ldSize2 });
    expect(await gets(l, 1)).toEqual(['']);
  });
});
