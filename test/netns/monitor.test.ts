/**
 * Resource monitoring (issue 13, heartbeat-ts.cf `monitor`) with real
 * daemons: the web server is killed (kill -9 of the python http.server, the
 * node and heartbeat stay up) again and again. The holder restarts it in
 * place; after max-failures the group serves from the other node, through
 * the standby messages — once with a heartbeat-ts pair (node2 + node3),
 * once with Debian's real Heartbeat 3.0.6 as the other node (node1 + node2).
 * The VIP is never on two nodes (ExclusivityMonitor, every 50 ms) and the
 * failure count is visible through `cl_status rscstatus -v [--json]`.
 *
 * Before the lab: `heartbeat -t` and a start with a bad heartbeat-ts.cf
 * (unknown resource, bad time, unknown option) exit 6 naming file:line,
 * and start nothing.
 *
 * Group: `node2 IPaddr::<vip>/24/eth0 httpd::/srv/www::80`, monitor
 * interval 2 s, timeout 5 s, max-failures 3. Measured times are printed.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, installRepoScripts, Member, OURS_CL_STATUS } from './failover-cluster.js';
import { Failover } from './failover-scenario.js';
import { ExclusivityMonitor, keepLogsAndDown } from './failover-support.js';
import { authKeys, haCf, runOursIn, waitFor, waitForLog, logSize, writeHaConfig } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';
import { signalAll } from './harness/proc.js';

const PORT = 80;
const DOCROOT = '/srv/www';
const HTTPD = `httpd::${DOCROOT}::${PORT}`;
const MONITOR = `monitor ${HTTPD} interval=2s timeout=5s on-fail=restart max-failures=3 failure-window=10min\n`;

// ------------------------------------------------------------------ bad heartbeat-ts.cf, on the host

const scratch = mkdtempSync(join(tmpdir(), `hbts-monitor-${process.pid}-`));

async function runCli(dir: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await runOursIn(dir, args);
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

function configDir(name: string, hbts: string): string {
  const dir = join(scratch, name);
  for (const d of ['ha.d/resource.d', 'lib', 'run', 'init.d']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'ha.d/ha.cf'), haCf({ media: 'bcast', nodes: ['n1', 'n2'] }).replace(/^logfile .*$/m, 'logfile /dev/null').replace(/^debugfile .*$/m, ''));
  writeFileSync(join(dir, 'ha.d/authkeys'), 'auth 1\n1 sha1 monitor\n');
  chmodSync(join(dir, 'ha.d/authkeys'), 0o600);
  writeFileSync(join(dir, 'ha.d/resource.d/web'), '#!/bin/sh\necho running\n', { mode: 0o755 });
  writeFileSync(join(dir, 'ha.d/haresources'), 'n1 web\n');
  writeFileSync(join(dir, 'ha.d/nodeinfo'), 'n1\n');
  writeFileSync(join(dir, 'ha.d/heartbeat-ts.cf'), hbts);
  return dir;
}

describe('a bad heartbeat-ts.cf: heartbeat -t and a start exit 6 with file:line, nothing started', () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const CASES = [
    { name: 'unknown-resource', text: '# ok\nmonitor nosuch interval=2s\n', line: 2, error: /nosuch is not a resource of haresources/ },
    { name: 'bad-time', text: 'monitor web interval=2parsecs\n', line: 1, error: /interval=2parsecs is not a time/ },
    { name: 'unknown-option', text: '\n\nmonitor web interval=2s retries=3\n', line: 3, error: /unknown option retries/ },
  ];
  it.each(CASES)('$name', async ({ name, text, line, error }) => {
    const dir = configDir(name, text);
    const where = `${join(dir, 'ha.d/heartbeat-ts.cf')}:${line}`;
    const t = await runCli(dir, ['-t']);
    expect(t.code, t.out).toBe(6);
    expect(t.out).toContain(where);
    expect(t.out).toMatch(error);
    const f = await runCli(dir, ['-f']);
    expect(f.code, f.out).toBe(6);
    expect(f.out).toContain(where);
    expect(f.out).toContain('Configuration error, heartbeat not started.');
    expect(existsSync(join(dir, 'run.pid'))).toBe(false);
  });
  it('the same file with the mistakes fixed is valid', async () => {
    const dir = configDir('valid', `${MONITOR.replace(HTTPD, 'web')}`);
    const t = await runCli(dir, ['-t']);
    expect(t.code, t.out).toBe(0);
  });
});

// ------------------------------------------------------------------ the lab

let lab: Lab | undefined;
let exclusivity: ExclusivityMonitor | undefined;
const measured: string[] = [];

function L(): Lab {
  if (lab === undefined) throw new Error('lab not up');
  return lab;
}

beforeAll(async () => {
  lab = await Lab.up({ nodes: 3, private: ['/srv:empty'], privateInitD: true });
  for (const i of lab.ids()) {
    lab.writeFile(i, `${DOCROOT}/host.txt`, `served by node${i}\n`);
    lab.writeFile(i, '/etc/init.d/httpd', '', 0o755);
    copyFileSync(join(FIXTURES, 'httpd-init.sh'), lab.path(i, '/etc/init.d/httpd'));
  }
  // heartbeat-ts on node2 and node3 uses the repository's IPaddr; node1 (real 3.0.6) keeps Debian's.
  installRepoScripts(lab, 2, ['IPaddr']);
  installRepoScripts(lab, 3, ['IPaddr']);
  exclusivity = new ExclusivityMonitor(lab, { vip: `${lab.subnet}.100`, intervalMs: 50 });
  exclusivity.start();
}, 120_000);

afterAll(async () => {
  exclusivity?.stop();
  console.log(`[monitor] measured:\n  ${measured.join('\n  ')}`);
  await keepLogsAndDown(lab, 'monitor');
}, 120_000);

function configure(l: Lab, nodes: readonly number[], monitored: readonly number[]): void {
  for (const i of nodes) {
    writeHaConfig(l, i, {
      hacf: haCf({ media: 'bcast', nodes: nodes.map((n) => `node${n}`), keepalive: 1, deadtime: 5, initdead: 10, autoFailback: true }),
      authkeys: authKeys('sha1'),
      haresources: `node2 IPaddr::${l.subnet}.100/24/eth0 ${HTTPD}\n`,
    });
    const cf = l.path(i, '/etc/ha.d/heartbeat-ts.cf');
    if (monitored.includes(i)) l.writeFile(i, '/etc/ha.d/heartbeat-ts.cf', MONITOR);
    else rmSync(cf, { force: true });
  }
}

/** kill -9 of the web server in node i (the python http.server the init script started). */
async function killWebServer(l: Lab, i: number): Promise<void> {
  const pids: number[] = [];
  for (const p of await l.pids(i)) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('http.server')) pids.push(p);
    } catch {
      // gone meanwhile
    }
  }
  if (pids.length === 0) throw new Error(`no web server running in node ${i}`);
  signalAll(pids, 'SIGKILL');
}

interface MonitorDoc { resources: string; monitors: Array<{ resource: string; failures: number; lastFailure: { reason: string } | null }> }

/** `cl_status rscstatus -v --json` on a heartbeat-ts node. */
async function monitorDoc(l: Lab, i: number): Promise<MonitorDoc> {
  const r = await l.exec(i, [OURS_CL_STATUS, 'rscstatus', '-v', '--json'], { timeoutMs: 20_000, env: { HEARTBEAT_TS_NODE: process.execPath } });
  if (r.code !== 0) throw new Error(`cl_status rscstatus -v --json on node ${i}: exit ${r.code}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as MonitorDoc;
}

async function failuresOn(l: Lab, i: number): Promise<number | undefined> {
  return (await monitorDoc(l, i)).monitors.find((m) => m.resource === HTTPD)?.failures;
}

/**
 * The kill-repeatedly scenario: node2 (heartbeat-ts, owner) restarts the web
 * server in place twice, the third failure moves the group to `other`.
 */
async function killUntilMoved(f: Failover, tag: string, other: number): Promise<void> {
  const l = f.lab;
  for (let n = 1; n <= 2; n++) {
    const size = logSize(l, 2);
    const t0 = Date.now();
    await killWebServer(l, 2);
    await waitForLog(l, 2, /Monitor: resource httpd::\S+ failed: status says not running/, { timeoutMs: 30_000, after: size });
    await f.waitServedBy(2, 60_000);
    measured.push(`${tag}: kill ${n} -> served again by node2 (restart in place) after ${(Date.now() - t0) / 1000} s (interval 2 s)`);
    await waitFor(() => failuresOn(l, 2), { timeoutMs: 20_000, what: `failure count ${n} on node2`, until: (c) => c === n });
    await waitForLog(l, 2, /Running \S+ \S+ \S+ start/, { timeoutMs: 10_000, after: size });
    await f.expectSoleHolder(2);
  }
  const t0 = Date.now();
  await killWebServer(l, 2);
  await f.waitServedBy(other, 90_000);
  measured.push(`${tag}: kill 3 (max-failures) -> served by node${other} after ${(Date.now() - t0) / 1000} s`);
  await f.expectSoleHolder(other);
  const doc = await monitorDoc(l, 2);
  expect(doc.monitors.find((m) => m.resource === HTTPD)?.failures).toBe(3);
  expect(doc.resources).toBe('none');
  const human = await l.exec(2, [OURS_CL_STATUS, 'rscstatus', '-v'], { timeoutMs: 20_000, env: { HEARTBEAT_TS_NODE: process.execPath } });
  expect(human.stdout).toMatch(new RegExp(`^monitor ${HTTPD} \\(group IPaddr::\\S+\\): 3 of 3 failures within 600s .*last failure .*status says not running`, 'm'));
  f.expectNoDoubleHolding();
}

describe.sequential('kill the web server repeatedly: heartbeat-ts pair (node2 + node3)', () => {
  let f: Failover | undefined;
  const F = (): Failover => f ?? (f = new Failover(L(), [new Member(L(), 2, 'ours'), new Member(L(), 3, 'ours')], exclusivity as ExclusivityMonitor, { vip: `${L().subnet}.100`, port: PORT }));

  it('node2 serves its group', async () => {
    await F().resetAll();
    configure(L(), [2, 3], [2, 3]);
    await Promise.all(F().members.map((m) => m.start()));
    await F().waitServedBy(2, 90_000);
    await F().waitStable(60_000);
  });

  it('restarted in place twice, then the group serves from node3; never on both', async () => {
    await killUntilMoved(F(), 'heartbeat-ts pair', 3);
  });

  it('no ping-pong: it stays on node3, which restarts it in place; node2 refuses it back within the window', async () => {
    const f = F();
    await f.waitStable(60_000);
    await f.keepsServing(3, 8000);
    const t0 = Date.now();
    await killWebServer(f.lab, 3);
    await waitFor(() => failuresOn(f.lab, 3), { timeoutMs: 30_000, what: 'failure count 1 on node3', until: (c) => c === 1 });
    await f.waitServedBy(3, 60_000);
    measured.push(`heartbeat-ts pair: kill on node3 -> served again by node3 after ${(Date.now() - t0) / 1000} s`);
    await f.expectSoleHolder(3);
    // Two more: node3 asks node2 to take it; node2 refuses (it failed there), node3 restarts it itself.
    const size2 = logSize(f.lab, 2);
    for (let n = 2; n <= 3; n++) {
      await f.waitStable(60_000);
      await killWebServer(f.lab, 3);
      await waitFor(() => failuresOn(f.lab, 3), { timeoutMs: 30_000, what: `failure count ${n} on node3`, until: (c) => c !== undefined && c >= n });
    }
    const t1 = Date.now();
    await waitForLog(f.lab, 2, /standby message \[me\] from node3 refused: resource httpd::\S+ of group \S+ failed here/, { timeoutMs: 30_000, after: size2 });
    await f.waitServedBy(3, 90_000);
    measured.push(`heartbeat-ts pair: 3rd kill on node3, node2 refuses it back -> served again by node3 after ${(Date.now() - t1) / 1000} s (standby timeout 10 s)`);
    await f.expectSoleHolder(3);
    expect((exclusivity as ExclusivityMonitor).sawVipOn(2, (exclusivity as ExclusivityMonitor).now() - (Date.now() - t0))).toBe(false);
    f.expectNoDoubleHolding();
  });

  it('a graceful stop of both releases everything', async () => {
    await F().stopAll();
    F().expectNoDoubleHolding();
  });
});

describe.sequential('kill the web server repeatedly: heartbeat-ts (node2) next to real Heartbeat 3.0.6 (node1)', () => {
  let f: Failover | undefined;
  const F = (): Failover => f ?? (f = new Failover(L(), [new Member(L(), 1, 'real'), new Member(L(), 2, 'ours')], exclusivity as ExclusivityMonitor, { vip: `${L().subnet}.100`, port: PORT }));

  it('node2 (heartbeat-ts) serves its group', async () => {
    await F().resetAll();
    configure(L(), [1, 2], [2]);
    await Promise.all(F().members.map((m) => m.start()));
    await F().waitServedBy(2, 90_000);
    await F().waitStable(60_000);
  });

  it('restarted in place twice, then the group serves from the 3.0.6 node through standby; never on both', async () => {
    const size = logSize(L(), 1);
    await killUntilMoved(F(), 'mixed (3.0.6 peer)', 1);
    await waitForLog(L(), 1, /node2 wants to go standby \[local\]/, { timeoutMs: 10_000, after: size });
    await F().waitStable(60_000);
  });

  it('a graceful stop of both releases everything; the VIP was never on two nodes', async () => {
    await F().stopAll();
    F().expectNoDoubleHolding();
    expect((exclusivity as ExclusivityMonitor).samples.length).toBeGreaterThan(500);
  });
});
