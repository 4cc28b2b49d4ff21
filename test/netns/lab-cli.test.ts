/**
 * `npm run lab`: the lab CLI (dist/devtools/lab/cli.js) as a person uses it,
 * one process per command, the lab found again from its state on disk.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, REPO_ROOT } from './harness/lab.js';
import { isRunning, runCommand } from './harness/proc.js';
import { labNamespaces } from './harness/teardown.js';

const CLI = join(REPO_ROOT, 'dist/devtools/lab/cli.js');
const NAME = `hc${process.pid.toString(36)}${randomInt(36 ** 3).toString(36)}`;
const STATE = `/var/lib/heartbeat-ts-lab/${NAME}`;

/** One CLI command against this file's lab. */
async function lab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LAB_NAME: NAME };
  return runCommand([process.execPath, CLI, ...args], { env, timeoutMs: 60_000, what: `lab ${args.join(' ')}` });
}

async function ok(...args: string[]): Promise<string> {
  const r = await lab(...args);
  expect(r.code, `lab ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const pingOk = async (from: string, to: string): Promise<boolean> =>
  (await lab('exec', from, 'ping', '-n', '-c', '1', '-W', '1', '-w', '1', to)).code === 0;

/** After a heal the first echo may wait for ARP on a loaded machine: reachable within 10 s. */
async function reachable(from: string, to: string): Promise<boolean> {
  const end = Date.now() + 10_000;
  while (!(await pingOk(from, to))) if (Date.now() > end) return false;
  return true;
}

afterAll(async () => {
  // whatever happened, the lab goes (down of a missing lab is harmless)
  if (existsSync(STATE) || labNamespaces(NAME).length > 0) await lab('--name', NAME, 'down');
}, 120_000);

describe('npm run lab', () => {
  it('prints its usage, and exits 2 on a bad command', async () => {
    expect(await ok('help')).toMatch(/up N .*\n[\s\S]*cut ID \[link\|drop\]/);
    const r = await lab('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command frobnicate/);
  });

  it('up 2: a lab that outlives the command, runs commands in nodes and passes their status on', async () => {
    expect(await ok('up', '2')).toMatch(new RegExp(`lab ${NAME} up[\\s\\S]*node2\\s+10\\.77\\.0\\.12`));
    expect(JSON.parse(readFileSync(join(STATE, 'lab.json'), 'utf8'))).toMatchObject({ name: NAME, nodes: 2, kept: true, purpose: 'cli' });
    expect(await ok('list')).toMatch(new RegExp(`${NAME}\\s+kept`));
    expect(Lab.sweepStale()).not.toContain(NAME); // left up on purpose: no sweep takes it
    expect((await ok('exec', '2', 'uname', '-n')).trim()).toBe('node2');
    // the same CLI as one executable (devtools/lab/hb-lab)
    const direct = await runCommand([join(REPO_ROOT, 'devtools/lab/hb-lab'), 'exec', '1', 'uname', '-n'], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LAB_NAME: NAME, HEARTBEAT_TS_NODE: process.execPath },
      timeoutMs: 60_000,
    });
    expect(direct).toMatchObject({ code: 0, stdout: 'node1\n' });
    expect((await lab('exec', '1', 'sh', '-c', 'exit 7')).code).toBe(7);
    expect((await ok('ip', 'c')).trim()).toBe('10.77.0.9');
    expect((await ok('path', '1', '/var/log/ha-log')).trim()).toBe(`${STATE}/nodes/1/root/var/log/ha-log`);
    expect(await reachable('c', '10.77.0.12')).toBe(true);
  });

  it('cut, partition, loss and heal', async () => {
    await ok('cut', '1');
    expect(await ok('exec', '1', 'ip', 'link', 'show', 'eth0')).toContain('NO-CARRIER');
    expect(await pingOk('c', '10.77.0.11')).toBe(false);
    await ok('heal');
    await ok('cut', '2', 'drop');
    expect(await ok('status')).toMatch(/filters: cut 2 drop/);
    expect(await pingOk('c', '10.77.0.12')).toBe(false);
    await ok('heal', '2');
    expect(await reachable('c', '10.77.0.12')).toBe(true);
    await ok('partition', '1', '2,c');
    expect(await pingOk('c', '10.77.0.11')).toBe(false);
    expect(await reachable('c', '10.77.0.12')).toBe(true);
    await ok('heal');
    await ok('loss', '1', '100');
    expect(await pingOk('2', '10.77.0.11')).toBe(false);
    await ok('loss', '1', '0');
    expect(await ok('status')).toMatch(/filters: none/);
    expect(await reachable('c', '10.77.0.11')).toBe(true);
    expect((await lab('loss', '1', '200')).code).not.toBe(0);
  });

  it('captures, and lists a node\'s processes by host PID', async () => {
    const file = join(STATE, 'cli.pcap');
    await ok('capture-start', file, '60', 'icmp');
    expect(await ok('status')).toContain('capture running');
    expect(await reachable('c', '10.77.0.11')).toBe(true);
    await ok('capture-stop');
    const r = await runCommand(['tcpdump', '-n', '-r', file], { timeoutMs: 20_000 });
    expect(r.stdout).toMatch(/10\.77\.0\.9 > 10\.77\.0\.11: ICMP echo request/);

    const bg = await ok('exec', '1', 'sh', '-c', 'sleep 1000 >/dev/null 2>&1 & echo $!');
    expect(Number(bg.trim())).toBeLessThan(1000); // the PID inside the node's PID namespace
    const pids = (await ok('pids', '1', 'sleep')).trim().split('\n').map(Number);
    expect(pids).toHaveLength(1);
    expect(await ok('ps', '1')).toMatch(new RegExp(`^\\s*${pids[0]}\\s.*sleep 1000`, 'm'));
  });

  it('up --owner PID: the lab belongs to that process and is swept once it is gone', async () => {
    const owner = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const other = `${NAME}o`;
    try {
      expect(await ok('--name', other, 'up', '1', '--owner', String(owner.pid))).toContain(`lab ${other} up`);
      expect(await ok('list')).toMatch(new RegExp(`${other}\\s+live`));
      expect(Lab.sweepStale()).not.toContain(other);
      expect((await lab('--name', other, 'down')).code).toBe(1); // its owner runs: not ours to remove
    } finally {
      owner.kill('SIGKILL');
      await new Promise((r) => owner.once('exit', r));
    }
    expect(Lab.sweepStale()).toContain(other);
    expect(labNamespaces(other)).toEqual([]);
    expect(existsSync(`/var/lib/heartbeat-ts-lab/${other}`)).toBe(false);
  });

  it('down refuses a lab whose owner still runs, and removes its own lab completely', async () => {
    const other = await Lab.up({ nodes: 1 });
    try {
      const r = await lab('--name', other.labName, 'down');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/belongs to a running process/);
      expect(other.isUp).toBe(true);
      expect(labNamespaces(other.labName)).toHaveLength(3);
    } finally {
      await other.down();
    }
    const pids = (await ok('pids', '1')).trim().split('\n').map(Number);
    expect(pids.length).toBeGreaterThan(0);
    expect(await ok('down')).toContain(`lab ${NAME} down`);
    expect(labNamespaces(NAME)).toEqual([]);
    expect(existsSync(STATE)).toBe(false);
    expect(pids.filter(isRunning)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(NAME);
    expect(await ok('list')).not.toContain(NAME);
    const again = await lab('down');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no lab named/);
  });
});
