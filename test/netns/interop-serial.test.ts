/**
 * Issue 2, serial: a socat pty pair on the host is the only medium.
 *
 * socat `pty,raw,echo=0,link=…/A pty,raw,echo=0,link=…/B` creates two
 * pseudo-terminals whose slaves are /dev/pts/N and /dev/pts/M, with symlinks
 * A and B in a host directory under /tmp. Lab nodes have their own mount
 * namespaces, but copied from the host's: /tmp and the devpts instance are
 * shared, so node1 opens A and node2 opens B through the same paths. Tty
 * locks go to /var/lock = /run/lock, private per node, so the two nodes
 * never see each other's LCK.. files (as two hosts would not).
 *
 * Real heartbeat's serial plugin sets CRTSCTS (Linux ptys accept and ignore
 * it), takes a UUCP lock, sends BREAK (a no-op on a pty) and speaks classic
 * text framing (spec 7.5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killOurs, REAL_INIT, realPids, waitFor, waitForLog } from './harness/heartbeat.js';
import { Lab, type NodeProcess, labUp } from './harness/lab.js';
import { lockNameFor } from '../../lib/media/ttylock.js';
import {
  configure, grep, killAll, logSince, logSize, oursSeesActive, realNodeStatus, realSeesActive, start, stop, type Kind,
} from './interop-support.js';

interface PtyPair {
  a: string;
  b: string;
  proc: ChildProcess;
  dir: string;
}

/** socat pty pair on the host; resolves once both links exist. */
async function ptyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(`/tmp/hbts-serial-${process.pid}-`);
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  await waitFor(() => existsSync(a) && existsSync(b), { timeoutMs: 10_000, what: 'socat pty links' });
  return { a, b, proc, dir };
}

async function closePair(p: PtyPair | undefined): Promise<void> {
  if (p === undefined) return;
  if (p.proc.exitCode === null && p.proc.signalCode === null) {
    const gone = new Promise((r) => p.proc.once('exit', r));
    p.proc.kill('SIGTERM'); // by its own PID
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
  }
  rmSync(p.dir, { recursive: true, force: true });
}

let lab: Lab | undefined;
let pair: PtyPair | undefined;

beforeAll(async () => {
  lab = await Lab.up({ nodes: 2 });
}, 120_000);

afterAll(async () => {
  if (lab !== undefined) {
    await killAll(lab, 1);
    await killAll(lab, 2);
  }
  await closePair(pair);
  await lab?.down();
}, 120_000);

const theLab = (): Lab => labUp(lab);

/** Fresh daemons-off state and a fresh pty pair wired as node1 = A, node2 = B. */
async function freshPair(l: Lab): Promise<PtyPair> {
  await stop(l, 1);
  await stop(l, 2);
  await closePair(pair);
  pair = await ptyPair();
  const p = pair;
  configure(l, { media: 'serial', auth: 'sha1', ids: [1, 2], serialDevices: (i) => [i === 1 ? p.a : p.b] });
  return p;
}

async function serialPair(n1: Kind): Promise<void> {
  const l = theLab();
  const p = await freshPair(l);
  console.log(`[serial] socat pid ${p.proc.pid}: ${p.a} -> ${realpathSync(p.a)}, ${p.b} -> ${realpathSync(p.b)}`);
  // Both nodes see the host's pty slaves under the same paths.
  for (const i of [1, 2]) expect((await l.exec(i, ['test', '-c', i === 1 ? p.a : p.b])).code).toBe(0);
  const at1 = logSize(l, 1);
  const at2 = logSize(l, 2);
  const t0 = Date.now();
  await start(l, 1, n1);
  await start(l, 2, 'ours');
  // links are named after each node's own device path
  if (n1 === 'real') await realSeesActive(l, 1, 'node2', 40_000, p.a);
  else await oursSeesActive(l, 1, 'node2', at1, 40_000, p.a);
  await oursSeesActive(l, 2, 'node1', at2, 40_000, p.b);
  console.log(`[serial ${n1}+ours] both active over the pty pair after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  expect(grep(logSince(l, 1, at1), /Starting serial heartbeat on tty/)).toHaveLength(1);
  // heartbeat-ts holds its UUCP lock while it runs (real heartbeat drops its
  // own right after forking its I/O children: the master closes the medium)
  expect(l.readFile(2, `/var/lock/${lockNameFor(p.b)}`)).toMatch(/^\s+\d+\n$/);

  // A few keepalives of steady traffic, then a crash of ours seen over the line.
  await new Promise((r) => setTimeout(r, 8000));
  if (n1 === 'real') expect(await realNodeStatus(l, 1, 'node2')).toBe('active');
  const log1 = logSince(l, 1, at1);
  const log2 = logSince(l, 2, at2);
  expect(grep(log2, /is dead|ERROR|CRIT|Dropping|Late heartbeat|lost packet/)).toEqual([]);
  expect(grep(log1, /node2.*dead|returning after partition|lost packet|hist queue|Late heartbeat/)).toEqual([]);
  const atKill = logSize(l, 1);
  const tKill = performance.now();
  await killOurs(l, 2, 'SIGKILL', 10_000);
  await waitForLog(l, 1, /node node2: is dead/, { timeoutMs: 30_000, after: atKill });
  const detect = Math.round(performance.now() - tKill);
  console.log(`[serial ${n1}+ours] node1 declared node2 dead ${detect} ms after kill -9 over serial`);
  expect(detect).toBeLessThan(5000 + 1000 + 3000);
  await waitForLog(l, 1, new RegExp(`Link node2:${esc(p.a)} dead\\.`), { timeoutMs: 10_000, after: atKill });
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Takes the UUCP lock of `device` in node i for a sleeper process (its pid as
 * seen in the node's PID namespace, as another program would); glue treats a
 * lock naming pid 1 as stale, so the holder must be an ordinary process.
 */
async function holdLock(l: Lab, i: number, device: string): Promise<NodeProcess> {
  const path = `/var/lock/${lockNameFor(device)}`;
  const holder = await l.spawn(i, ['/bin/sh', '-c', `printf '%10d\\n' $$ > ${path} && exec sleep 600`]);
  await waitFor(() => l.readFile(i, path) ?? '', { timeoutMs: 5000, what: `lock ${path} in node ${i}`, until: (t) => /^\s+\d+\n$/.test(t) });
  return holder;
}

/**
 * Locks taken by another program under the name lockNameFor() computes stop
 * both daemons: real heartbeat (glue's st_ttylock names locks the same way,
 * dropping the first five characters of any path) and heartbeat-ts.
 */
async function lockedLineRefused(): Promise<void> {
  const l = theLab();
  const p = await freshPair(l);
  const holders = [await holdLock(l, 1, p.a), await holdLock(l, 2, p.b)];
  try {
    const at1 = logSize(l, 1);
    const at2 = logSize(l, 2);
    // The init script says Done. before the daemon found the lock.
    await l.exec(1, [REAL_INIT, 'start'], { timeoutMs: 60_000 });
    await waitForLog(l, 1, new RegExp(`cannot lock line ${esc(p.a)}`), { timeoutMs: 15_000, after: at1 });
    await waitFor(() => realPids(l, 1), { timeoutMs: 15_000, what: 'real heartbeat to give up', until: (x) => x.length === 0 });
    const ours = await start(l, 2, 'ours');
    const ex = await ours?.exited;
    expect(ex?.status).not.toBe(0);
    const refused = grep(logSince(l, 2, at2), /Heartbeat not started/);
    expect(refused.join('\n')).toContain(`device is locked by process`);
    expect(refused.join('\n')).toContain(`/var/lock/${lockNameFor(p.b)}`);
  } finally {
    for (const h of holders) h.kill('SIGKILL');
  }
  for (const h of holders) await h.exited;
}

describe('serial (socat pty pair) as the only medium', () => {
  it('a line locked by another program is refused by both daemons, under the same lock name', () => lockedLineRefused(), 120_000);
  it('two heartbeat-ts nodes go active, and a crash is seen over the line', () => serialPair('ours'), 120_000);
  it('real heartbeat 3.0.6 (node1) and heartbeat-ts (node2) go active, and a crash is seen over the line', () => serialPair('real'), 120_000);
});
