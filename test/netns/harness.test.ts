/**
 * Proves the project's lab (devtools/lab, through the harness) with REAL
 * heartbeat 3.0.6 only: a 2-node lab,
 * bcast + sha1, deadtime 5, keepalive 1, initdead 10, node1 owning a VIP.
 *
 * Measured on the 2-core dev machine (2026-11, five runs, the test prints
 * them every time): `Lab.up` with 2 nodes ~0.3 s; both init scripts return
 * in ~0.2 s together (the daemon forks into the background); the nodes report
 * each other `active` ~1.5-2 s after the start; the VIP is up on node1 ~12.5 s
 * after the start (the 10 s RQSTDELAY of spec §6.3 after comm is up), so a
 * test needs ~13 s before a 2-node real cluster holds resources. `cut 1 drop`
 * -> node2 logs `node node1: is dead` 4.6-5.3 s later (deadtime 5) and holds
 * the VIP ~0.3 s after that. After `heal` both nodes log `returning after
 * partition`, give everything up and re-exec (~11 s), are `active` again at
 * ~13 s and the VIP is back on node1 at ~23 s.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authKeys, clStatus, haCf, httpGet, ipAddrs, killReal, logSize, mounts, ping, realPids, startReal, stopReal, waitFor,
  waitForLog, writeHaConfig,
} from './harness/heartbeat.js';
import { Lab, REPO_ROOT, labUp } from './harness/lab.js';
import { isRunning } from './harness/proc.js';
import { existingLabNames, labNamespaces } from './harness/teardown.js';

const LAB_JS = join(REPO_ROOT, 'dist/devtools/lab/lab.js');
const t0 = Date.now();
const since = (t: number): string => `${((Date.now() - t) / 1000).toFixed(1)} s`;
let lab: Lab | undefined;

const theLab = (): Lab => labUp(lab);

async function nodeStatus(l: Lab, on: number, of: string): Promise<string> {
  return (await clStatus(l, on, ['nodestatus', of])).stdout.trim();
}

async function holders(l: Lab, vip: string): Promise<number[]> {
  const out: number[] = [];
  for (const i of l.ids()) if ((await ipAddrs(l, i)).includes(`${vip}/24`)) out.push(i);
  return out;
}

beforeAll(async () => {
  lab = await Lab.up({ nodes: 2, privateInitD: true });
  console.log(`[harness] Lab.up(2 nodes) took ${since(t0)}`);
}, 120_000);

afterAll(async () => {
  await lab?.down();
}, 120_000);

describe('netns harness with real heartbeat 3.0.6', () => {
  it('gives each node its own name, address, private dirs and a working LAN', async () => {
    const l = theLab();
    expect(l.labName).toMatch(/^hbl[0-9a-z]{5,9}$/);
    expect(l.ip(1)).toBe('10.77.0.11');
    expect(l.ip('c')).toBe('10.77.0.9');
    expect((await l.exec(2, ['uname', '-n'])).stdout.trim()).toBe('node2');
    expect(await ipAddrs(l, 1)).toEqual(['10.77.0.11/24']);
    expect(await ping(l, 'c', l.ip(2))).toBe(true);
    // private trees: a file written from the host is seen by that node only
    l.writeFile(1, '/var/log/probe', 'one\n');
    expect((await l.exec(1, ['cat', '/var/log/probe'])).stdout).toBe('one\n');
    expect((await l.exec(2, ['cat', '/var/log/probe'])).code).not.toBe(0);
    // /var/run is /run on Debian: both spellings name the same private file
    expect(l.path(1, '/var/run/heartbeat/register')).toBe(l.path(1, '/run/heartbeat/register'));
    expect(() => l.path(1, '/etc/passwd')).toThrow(/not private/);
    // extra private dirs (privateInitD): a copy per node, the host's own stays untouched
    l.writeFile(1, '/etc/init.d/hb-lab-probe', '#!/bin/sh\n', 0o755);
    expect((await l.exec(1, ['test', '-x', '/etc/init.d/hb-lab-probe'])).code).toBe(0);
    expect((await l.exec(2, ['test', '-e', '/etc/init.d/hb-lab-probe'])).code).not.toBe(0);
    expect(existsSync('/etc/init.d/hb-lab-probe')).toBe(false);
    expect((await l.exec(1, ['test', '-x', '/etc/init.d/heartbeat'])).code).toBe(0);
    // the host's cluster identity and config are not inherited
    expect(l.readFile(1, '/var/lib/heartbeat/hb_uuid')).toBeUndefined();
    expect((await l.exec(1, ['cat', '/etc/hosts'])).stdout).toContain(`${l.ip(2)} node2`);
    expect(() => l.ip(3)).toThrow(/out of range/);
    const r = await l.exec(1, ['/bin/sh', '-c', 'read x; echo "got $x"; exit 3'], { input: 'hi\n' });
    expect(r).toMatchObject({ code: 3, stdout: 'got hi\n' });
    await expect(l.exec(1, ['sleep', '30'], { timeoutMs: 500 })).rejects.toThrow(/timed out after 500 ms/);
  });

  it('spawns a process with its host PID, signals it and reports its end', async () => {
    const l = theLab();
    const p = await l.spawn(1, ['sleep', '1000']);
    expect(p.pid).toBeGreaterThan(0);
    // the host PID is known before the process has exec'd sleep (its name is nsenter's until then)
    expect(await waitFor(() => l.pids(1, 'sleep'), { timeoutMs: 10_000, what: 'sleep in node1', until: (pids) => p.pid !== undefined && pids.includes(p.pid) })).toContain(p.pid);
    expect(p.kill('SIGTERM')).toBe(true);
    expect(await p.exited).toMatchObject({ signal: 'SIGTERM', status: 143 });
    expect(p.running()).toBe(false);
  });

  it('gives each node its own PID namespace whose init reaps orphans', async () => {
    const l = theLab();
    expect((await l.exec(1, ['cat', '/proc/1/cmdline'])).stdout).toContain('lab-init');
    expect(Number((await l.sh(1, 'echo $$')).stdout.trim())).toBeLessThan(1000);
    const other = await l.spawn(2, ['sleep', '1001']);
    try {
      // node1 neither sees nor reaches node2's process by its host PID
      expect((await l.exec(1, ['kill', '-0', String(other.pid)])).code).not.toBe(0);
      expect((await l.exec(2, ['ps', '-e', '-o', 'args='])).stdout).toContain('sleep 1001');
      expect((await l.exec(1, ['ps', '-e', '-o', 'args='])).stdout).not.toContain('sleep 1001');
      expect(l.initPid(1)).toBeGreaterThan(0);
      expect(l.initPid(1)).not.toBe(l.initPid(2));
    } finally {
      other.kill('SIGKILL');
      await other.exited;
    }
    // a double fork: the grandchild is re-parented to the node's init, which reaps it
    await l.sh(1, '(sleep 0.3 &) ; exit 0');
    await waitFor(() => l.exec(1, ['ps', '-e', '-o', 'stat=,args=']), {
      timeoutMs: 10_000, what: 'the orphan gone from node1, no zombie left',
      until: (r) => !/sleep 0\.3|^Z/m.test(r.stdout),
    });
  });

  it('captures lab traffic on the bridge', async () => {
    const l = theLab();
    const file = join(l.stateDir, 'probe.pcap');
    await l.pcapStart(file, 60, ['icmp']);
    expect(await ping(l, 'c', l.ip(2))).toBe(true);
    await l.pcapStop();
    const r = spawnSync('tcpdump', ['-n', '-r', file], { encoding: 'utf8' });
    expect(r.stdout).toMatch(new RegExp(`${l.ip('c')} > ${l.ip(2)}: ICMP echo request`));
    expect(r.stdout).toMatch(new RegExp(`${l.ip(2)} > ${l.ip('c')}: ICMP echo reply`));
    expect(await l.status()).not.toContain('capture running');
  });

  it('simulates partitions, loss and pulled cables, and heals them', async () => {
    const l = theLab();
    await l.partition([[1], [2, 'c']]);
    expect(await ping(l, 'c', l.ip(1), 1)).toBe(false);
    expect(await ping(l, 'c', l.ip(2), 1)).toBe(true);
    await l.heal();
    await expect(l.loss(1, 101)).rejects.toThrow(/0\.\.100/);
    await l.loss(1, 100);
    expect(await ping(l, 'c', l.ip(1), 1)).toBe(false);
    await l.loss(1, 99); // one echo and its reply both pass with p = 1e-4
    expect(await ping(l, 'c', l.ip(1), 1)).toBe(false);
    await l.loss(1, 0);
    // the client's ARP entry for node1 failed meanwhile: resolving it again may take a moment on a loaded machine
    await waitFor(() => ping(l, 'c', l.ip(1), 1), { timeoutMs: 10_000, what: 'node1 reachable after loss 0' });
    await l.cut(2, 'link');
    expect((await l.exec(2, ['ip', 'link', 'show', 'eth0'])).stdout).toContain('NO-CARRIER');
    await l.heal(2);
    await waitFor(() => ping(l, 'c', l.ip(2), 1), { timeoutMs: 10_000, what: 'node2 reachable after heal' });
    await l.cut(2, 'drop');
    expect((await l.exec(2, ['ip', 'link', 'show', 'eth0'])).stdout).not.toContain('NO-CARRIER');
    expect(await ping(l, 'c', l.ip(2), 1)).toBe(false);
    await l.heal();
    await waitFor(() => ping(l, 'c', l.ip(2), 1), { timeoutMs: 10_000, what: 'node2 reachable after heal' });
  });

  it('serves HTTP from a node to the client and shows the node its own mounts', async () => {
    const l = theLab();
    l.writeFile(1, '/run/www/index.html', 'hello from node1\n');
    const server = await l.spawn(1, ['python3', '-m', 'http.server', '8080', '--bind', l.ip(1), '--directory', '/run/www']);
    try {
      const res = await waitFor(() => httpGet(l, 'c', `http://${l.ip(1)}:8080/index.html`, 2000), {
        timeoutMs: 15_000,
        what: 'HTTP 200 from node1',
        until: (r) => r.status === 200,
      });
      expect(res.body).toBe('hello from node1\n');
    } finally {
      server.kill('SIGTERM');
      await server.exited;
    }
    expect((await httpGet(l, 'c', `http://${l.ip(1)}:8080/`, 2000)).status).toBe(0);
    const targets = (await mounts(l, 1)).map((m) => m.target);
    expect(targets).toEqual(expect.arrayContaining(['/etc/ha.d', '/var/lib/heartbeat', '/run', '/var/log']));
  });

  it('runs real heartbeat on both nodes; they report each other active', async () => {
    const l = theLab();
    const vip = `${l.subnet}.100`;
    for (const i of l.ids()) {
      writeHaConfig(l, i, {
        hacf: haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10 }),
        authkeys: authKeys('sha1'),
        haresources: `node1 IPaddr::${vip}/24/eth0\n`,
      });
    }
    const start = Date.now();
    await startReal(l, 1);
    await startReal(l, 2);
    console.log(`[harness] both init scripts returned after ${since(start)}`);
    expect((await realPids(l, 1)).length).toBeGreaterThanOrEqual(4); // master, FIFO reader, bcast read + write
    await waitFor(() => nodeStatus(l, 1, 'node2'), { timeoutMs: 40_000, what: 'node1 seeing node2 active', until: (s) => s === 'active' });
    await waitFor(() => nodeStatus(l, 2, 'node1'), { timeoutMs: 40_000, what: 'node2 seeing node1 active', until: (s) => s === 'active' });
    console.log(`[harness] both nodes active after ${since(start)}`);
    expect(await clStatus(l, 1, ['nodestatus', 'node1'])).toMatchObject({ code: 0, stdout: 'active\n' });

    await waitFor(() => holders(l, vip), { timeoutMs: 60_000, what: `${vip} on node1 only`, until: (h) => h.join() === '1' });
    console.log(`[harness] VIP up on node1 after ${since(start)}`);
    expect(await ping(l, 'c', vip)).toBe(true);
  });

  it('cut 1 drop: node2 declares node1 dead and takes the VIP; heal reunites them', async () => {
    const l = theLab();
    const vip = `${l.subnet}.100`;
    const after = logSize(l, 2);
    const cutAt = Date.now();
    await l.cut(1, 'drop');
    const line = await waitForLog(l, 2, /WARN: node node1: is dead/, { timeoutMs: 30_000, after });
    console.log(`[harness] node2 declared node1 dead ${since(cutAt)} after the cut: ${line}`);
    await waitFor(() => ipAddrs(l, 2), { timeoutMs: 30_000, what: `${vip} on node2`, until: (a) => a.includes(`${vip}/24`) });
    console.log(`[harness] VIP on node2 ${since(cutAt)} after the cut`);
    expect(await clStatus(l, 2, ['nodestatus', 'node1'])).toMatchObject({ code: 1, stdout: 'dead\n' });
    expect(await ping(l, 'c', l.ip(1))).toBe(false);

    const healAt = Date.now();
    const before = l.ids().map((i) => logSize(l, i));
    await l.heal();
    // both saw the other die: each gives everything up and re-execs itself (spec §5.6)
    for (const i of l.ids()) {
      const o = { timeoutMs: 90_000, after: before[i - 1] ?? 0 };
      await waitForLog(l, i, /CRIT: Cluster node node\d returning after partition/, o);
      await waitForLog(l, i, /Configuration validated\. Starting heartbeat 3\.0\.6/, o);
    }
    console.log(`[harness] both nodes restarted ${since(healAt)} after heal`);
    for (const [on, of] of [[1, 'node2'], [2, 'node1']] as const) {
      await waitFor(() => nodeStatus(l, on, of), { timeoutMs: 60_000, what: `node${on} seeing ${of} active after heal`, until: (s) => s === 'active' });
    }
    console.log(`[harness] both active again ${since(healAt)} after heal`);
    // resources were released before the restart: a single holder means renegotiated
    const h = await waitFor(() => holders(l, vip), { timeoutMs: 60_000, what: `exactly one holder of ${vip}`, until: (x) => x.length === 1 });
    console.log(`[harness] VIP held by node${h.join()} ${since(healAt)} after heal`);
    expect(await ping(l, 'c', vip)).toBe(true);
  });

  it('stopReal gives resources up; killReal ends every heartbeat process of a node by host PID', async () => {
    const l = theLab();
    const vip = `${l.subnet}.100`;
    const holder = (await holders(l, vip))[0] ?? 0;
    expect(holder).toBeGreaterThan(0);
    const other = holder === 1 ? 2 : 1;
    const after = logSize(l, other);
    await stopReal(l, holder);
    expect(await realPids(l, holder)).toEqual([]);
    expect(await ipAddrs(l, holder)).not.toContain(`${vip}/24`);
    await waitForLog(l, other, new RegExp(`Received shutdown notice from 'node${holder}'`), { timeoutMs: 30_000, after });
    await waitFor(() => holders(l, vip), { timeoutMs: 30_000, what: `${vip} moving to node${other}`, until: (h) => h.join() === String(other) });
    await startReal(l, holder);

    const killed = await killReal(l, 2, 'SIGKILL');
    expect(killed.length).toBeGreaterThanOrEqual(4);
    await waitFor(() => realPids(l, 2), { timeoutMs: 10_000, what: 'node2 without heartbeat', until: (p) => p.length === 0 });
    // node1 was restarted just before: its daemon forks its children after the init script returned
    await waitFor(() => realPids(l, 1), { timeoutMs: 30_000, what: "node1's heartbeat processes", until: (p) => p.length >= 4 });
  });

  it('cleans up after a failed up, and sweeps labs whose creator is gone', async () => {
    const mine = (): string[] => existingLabNames().filter((n) => n.startsWith(`hbl${process.pid.toString(36)}`));
    const before = mine();
    expect(before).toContain(theLab().labName);
    // a "private directory" that is a file: up fails after its namespaces exist
    await expect(Lab.up({ nodes: 2, private: ['/etc/hostname:copy'] })).rejects.toThrow(/Lab\.up\(2\) failed/);
    expect(mine()).toEqual(before);

    // a lab whose owner is SIGKILLed: it stays until a sweep, which removes all of it
    const script = `const { Lab } = await import(${JSON.stringify(LAB_JS)}); const l = await Lab.up({ nodes: 1 });` +
      " await l.spawn(1, ['sleep', '1000']); console.log(l.labName); setInterval(() => {}, 1000);";
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const name = await new Promise<string>((res, rej) => {
      owner.stdout.on('data', (b: Buffer) => res(b.toString().trim()));
      owner.on('exit', (code) => rej(new Error(`lab owner exited ${code}`)));
    });
    expect(labNamespaces(name).length).toBe(3);
    expect(Lab.sweepStale()).not.toContain(name); // its owner still runs
    const state = `/var/lib/heartbeat-ts-lab/${name}`;
    const holder = Number(readFileSync(join(state, 'nodes/1/holder.pid'), 'utf8'));
    const ownerPid = owner.pid ?? 0;
    owner.kill('SIGKILL');
    await waitFor(() => !isRunning(ownerPid), { timeoutMs: 10_000, what: 'the lab owner to die' });
    expect(labNamespaces(name).length).toBe(3);
    expect(isRunning(holder)).toBe(true);
    expect(Lab.sweepStale()).toContain(name);
    expect(labNamespaces(name)).toEqual([]);
    expect(existsSync(state)).toBe(false);
    await waitFor(() => !isRunning(holder), { timeoutMs: 10_000, what: "the dead owner's node to end" });
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(name);
    expect(Lab.sweepStale()).not.toContain(theLab().labName);
  });

  it('down removes namespaces, bridge, state dir and processes, and can be repeated', async () => {
    const l = theLab();
    const pids = [...(await l.pids(1)), ...(await l.pids(2))];
    expect(pids.length).toBeGreaterThan(0);
    await l.down();
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(list).not.toContain(l.labName);
    expect(existsSync(l.stateDir)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(l.labName);
    expect(pids.filter(isRunning)).toEqual([]);
    expect(l.isUp).toBe(false);
    await l.down();
    await expect(l.exec(1, ['true'])).rejects.toThrow(/is down/);
  });
});
