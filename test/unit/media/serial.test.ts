/**
 * The serial medium on a real pseudo-tty pair made by socat: what one end
 * writes, the other reads. Each test uses its own pair.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialPort } from 'serialport';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ReceivedPacket } from '../../../lib/media/medium.js';
import { SerialMedium } from '../../../lib/media/serial.js';
import { lockNameFor } from '../../../lib/media/ttylock.js';
import { HbError } from '../../../lib/util/errors.js';
import { until } from '../until.js';

const tag = `${process.pid}${Math.random().toString(36).slice(2, 6)}`;
const socats: ChildProcess[] = [];
const links: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

interface Pair {
  x: string;
  y: string;
  socat: ChildProcess;
}

let pairNo = 0;
async function ptyPair(): Promise<Pair> {
  const n = pairNo++;
  const x = `/tmp/hbts-ser-${tag}-${n}x`;
  const y = `/tmp/hbts-ser-${tag}-${n}y`;
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${x}`, `pty,raw,echo=0,link=${y}`], { stdio: 'ignore' });
  socats.push(socat);
  links.push(x, y);
  for (let i = 0; i < 100 && !(existsSync(x) && existsSync(y)); i++) await sleep(50);
  if (!existsSync(x) || !existsSync(y)) throw new Error('socat did not create the pty links');
  return { x, y, socat };
}

/** Collects what a medium delivers. */
function sink(): { packets: ReceivedPacket[]; errors: Error[]; onPacket: (p: ReceivedPacket) => void; onError: (e: Error) => void } {
  const packets: ReceivedPacket[] = [];
  const errors: Error[] = [];
  return { packets, errors, onPacket: (p) => packets.push(p), onError: (e) => errors.push(e) };
}

async function openMedium(device: string, baud = 19200): Promise<{ m: SerialMedium; s: ReturnType<typeof sink> }> {
  const m = new SerialMedium({ device, baud });
  const s = sink();
  await m.open(s.onPacket, s.onError);
  cleanups.push(() => m.close());
  return { m, s };
}

/** The far end as a plain serial port, to write and read raw bytes. */
async function rawPort(device: string): Promise<{ port: SerialPort; arrivals: { t: number; data: Buffer }[] }> {
  const port = new SerialPort({ path: device, baudRate: 19200, autoOpen: false, lock: false });
  await new Promise<void>((res, rej) => port.open((err) => (err ? rej(err) : res())));
  const arrivals: { t: number; data: Buffer }[] = [];
  port.on('data', (data: Buffer) => arrivals.push({ t: performance.now(), data }));
  cleanups.push(() => new Promise<void>((res) => (port.isOpen ? port.close(() => res()) : res())));
  return { port, arrivals };
}

const frame = (body: string): string => `>>>\n${body}<<<\n`;

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  for (const s of socats) {
    if (s.pid === undefined || s.exitCode !== null || s.signalCode !== null) continue;
    const gone = new Promise((res) => s.once('exit', res));
    try {
      process.kill(s.pid, 'SIGTERM');
      await gone;
    } catch {
      /* exited meanwhile */
    }
  }
  // socat removes its links on SIGTERM, not after SIGKILL.
  for (const p of links) rmSync(p, { force: true });
});

describe('SerialMedium over a pty pair', () => {
  it('carries frames both ways, one ReceivedPacket per frame', async () => {
    const { x, y } = await ptyPair();
    const a = await openMedium(x);
    const b = await openMedium(y);
    expect(a.m.description).toBe(`Starting serial heartbeat on tty ${x} (19200 baud)`);
    expect(a.m.linkName).toBe(x);
    // socat ptys: no RTS/CTS and no BREAK (their modem ioctls fail with ENOTTY).
    expect(a.m.lineInfo).toMatchObject({ pty: true, rtscts: false, breakSent: false });

    const f1 = frame('t=status\nst=active\n');
    const f2 = frame('t=status\nst=up\n');
    a.m.send(Buffer.from(f1));
    a.m.send(Buffer.from(`${f2}\0`)); // a classic datagram's trailing NUL must not reach the line
    b.m.send(Buffer.from(frame('t=from-b\n')));
    await until('frames', () => b.s.packets.length === 2 && a.s.packets.length === 1);
    expect(b.s.packets.map((p) => p.data.toString())).toEqual([f1, f2]);
    expect(b.s.packets[0]?.from).toBe(y);
    expect(a.s.packets[0]?.data.toString()).toBe(frame('t=from-b\n'));
    expect([...a.s.errors, ...b.s.errors]).toEqual([]);
  }, 30_000);

  it('skips garbage before >>>, strips the 8th bit, ignores CR, resyncs after an oversized frame', async () => {
    const { x, y } = await ptyPair();
    const b = await openMedium(y);
    const raw = await rawPort(x);
    const write = (buf: Buffer | string) => new Promise<void>((res) => raw.port.write(buf, () => res()));

    await write('line noise\nmore >>> noise\n<<<\n');
    await write(frame('t=plain\n'));
    await write(Buffer.from(Buffer.from(frame('t=high\n'), 'latin1').map((c) => c | 0x80)));
    await write('>>>\r\nt=crlf\r\nx=1\r\n<<<\r\n');
    // 70 KiB of lines and no <<<: dropped; the following frame still arrives.
    await write(`>>>\n${'k=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n'.repeat(1200)}`);
    await write(frame('t=after-garbage\n'));
    await until('four frames', () => b.s.packets.length >= 4);
    await sleep(200);
    expect(b.s.packets.map((p) => p.data.toString())).toEqual([
      frame('t=plain\n'),
      frame('t=high\n'),
      frame('t=crlf\nx=1\n'),
      frame('t=after-garbage\n'),
    ]);
    expect(b.s.errors.map((e) => (e as HbError).code)).toEqual(['MEDIA_SERIAL_BAD_FRAME']);
    expect(b.s.errors[0]?.message).toMatch(/^serial \/tmp\/\S+: frame exceeds 65536 bytes without <<</);
  }, 30_000);

  it('RTS/CTS forced on over a pty: Linux keeps CRTSCTS but ignores it, frames still flow', async () => {
    const { x, y } = await ptyPair();
    const a = new SerialMedium({ device: x, baud: 19200, flowControl: 'on' });
    const s = sink();
    await a.open(s.onPacket, s.onError);
    cleanups.push(() => a.close());
    const b = await openMedium(y);
    expect(a.lineInfo).toMatchObject({ pty: true, rtscts: true });
    a.send(Buffer.from(frame('t=rtscts\n')));
    b.m.send(Buffer.from(frame('t=back\n')));
    await until('frames over an RTS/CTS pty', () => b.s.packets.length === 1 && s.packets.length === 1);
    expect(s.errors).toEqual([]);
  }, 30_000);

  it('discards a backlog beyond maxQueuedBytes and says so once', async () => {
    const { x, y } = await ptyPair();
    const a = new SerialMedium({ device: x, baud: 9600, maxQueuedBytes: 2048 });
    const s = sink();
    await a.open(s.onPacket, s.onError);
    cleanups.push(() => a.close());
    const b = await openMedium(y);
    const f = Buffer.from(frame(`t=bulk\n${'p='.padEnd(590, 'q')}\n`));
    for (let i = 0; i < 6; i++) a.send(f);
    expect(s.errors.map((e) => (e as HbError).code)).toEqual(['MEDIA_SERIAL_STALLED']);
    // The frame being written when the backlog was dropped still completes; the line keeps working.
    a.send(Buffer.from(frame('t=after-stall\n')));
    await until('frame after the stall', () => b.s.packets.some((p) => p.data.toString() === frame('t=after-stall\n')));
  }, 30_000);

  it('writes 512-byte chunks with a pause of 512/(baud/8) s between them', async () => {
    const { x, y } = await ptyPair();
    const a = await openMedium(x, 9600); // pause = 512/1200 s ≈ 427 ms
    const raw = await rawPort(y);
    const body = Array.from({ length: 30 }, (_, i) => `field${String(i).padStart(2, '0')}=${'z'.repeat(40)}\n`).join('');
    const big = Buffer.from(frame(body));
    expect(big.length).toBeGreaterThan(1024);
    expect(big.length).toBeLessThan(1536);
    a.m.send(big);
    await until('the whole frame', () => raw.arrivals.reduce((n, r) => n + r.data.length, 0) >= big.length);

    // Arrival time of every byte; the chunk boundaries must show the pause.
    const times: number[] = [];
    for (const r of raw.arrivals) for (let i = 0; i < r.data.length; i++) times.push(r.t);
    expect(Buffer.concat(raw.arrivals.map((r) => r.data)).equals(big)).toBe(true);
    const gapAt = (i: number): number => (times[i] ?? 0) - (times[i - 1] ?? 0);
    // A lower bound only: the sender sleeps ≥ 427 ms at each boundary.
    expect(gapAt(512)).toBeGreaterThan(300);
    expect(gapAt(1024)).toBeGreaterThan(300);
  }, 30_000);

  it('close() cuts a chunk pause short and leaves no lock; a vanished far end is reported, not thrown', async () => {
    const { x, y, socat } = await ptyPair();
    const a = await openMedium(x, 9600);
    const b = await openMedium(y, 9600);
    a.m.send(Buffer.from(frame(`t=long\n${'w='.padEnd(1400, 'w')}\n`)));
    await sleep(50); // first chunk written, now pausing
    await a.m.close();
    expect(a.s.errors).toEqual([]);
    expect(existsSync(`/var/lock/${lockNameFor(x)}`)).toBe(false);

    // socat gone: both ptys hang up under b.
    const gone = new Promise((res) => socat.once('exit', res));
    process.kill(socat.pid ?? -1, 'SIGKILL');
    await gone;
    await until('an error after hangup', () => b.s.errors.length > 0);
    expect(b.s.errors[0]?.message).toMatch(new RegExp(`^serial ${y}: `));
    expect(() => b.m.send(Buffer.from(frame('t=into-the-void\n')))).not.toThrow();
  }, 30_000);

  it('creates a UUCP lock file with our pid and removes it on close', async () => {
    const { x } = await ptyPair();
    const lockPath = `/var/lock/${lockNameFor(x)}`;
    // Named like heartbeat's ttylock: base name, letters and digits only.
    expect(lockPath).toBe(`/var/lock/LCK..${x.slice('/tmp/'.length).replace(/[^A-Za-z0-9]/g, '')}`);
    const m = new SerialMedium({ device: x, baud: 19200 });
    await m.open(() => undefined, () => undefined);
    try {
      expect(m.lineInfo.lockPath).toBe(lockPath);
      expect(readFileSync(lockPath, 'latin1')).toBe(`${String(process.pid).padStart(10)}\n`);
    } finally {
      await m.close();
    }
    expect(existsSync(lockPath)).toBe(false);
  }, 30_000);

  it('refuses a device locked by a live process, and takes over a stale lock', async () => {
    const { x, socat } = await ptyPair();
    const lockPath = `/var/lock/${lockNameFor(x)}`;
    cleanups.push(() => rmSync(lockPath, { force: true })); // runs last, after m.close()
    // Live holder: the socat process.
    writeFileSync(lockPath, `${String(socat.pid).padStart(10)}\n`);
    const m = new SerialMedium({ device: x, baud: 19200 });
    cleanups.push(() => m.close());
    const err = await m.open(() => undefined, () => undefined).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HbError);
    expect((err as HbError).code).toBe('MEDIA_SERIAL_LOCKED');
    expect((err as HbError).message).toBe(`serial ${x}: device is locked by process ${socat.pid} (${lockPath})`);
    expect(readFileSync(lockPath, 'latin1').trim()).toBe(String(socat.pid));

    // Stale holder: a process that has exited.
    const dead = spawn('true');
    await new Promise((res) => dead.once('exit', res));
    writeFileSync(lockPath, `${String(dead.pid).padStart(10)}\n`);
    await m.open(() => undefined, () => undefined);
    expect(readFileSync(lockPath, 'latin1').trim()).toBe(String(process.pid));

    // A second medium on the same line in this process is refused too.
    const again = new SerialMedium({ device: x, baud: 19200 });
    const err2 = await again.open(() => undefined, () => undefined).then(() => undefined, (e: unknown) => e);
    expect((err2 as HbError).code).toBe('MEDIA_SERIAL_LOCKED');
    expect((err2 as HbError).message).toContain('locked by this process');
    await m.close();
    expect(existsSync(lockPath)).toBe(false);
  }, 30_000);

  it('rejects bad configuration with clear errors and never throws from send()', async () => {
    const codeOf = (p: Promise<void>) => p.then(() => 'opened', (e: unknown) => (e as HbError).code);
    expect(await codeOf(new SerialMedium({ device: '/dev/hbts-no-such-tty', baud: 19200 }).open(() => {}, () => {}))).toBe('MEDIA_SERIAL_NO_DEVICE');
    expect(await codeOf(new SerialMedium({ device: '/etc/hostname', baud: 19200 }).open(() => {}, () => {}))).toBe('MEDIA_SERIAL_NO_DEVICE');
    expect(await codeOf(new SerialMedium({ device: '/dev/null', baud: 12345 }).open(() => {}, () => {}))).toBe('MEDIA_BAD_BAUD');

    const { x } = await ptyPair();
    const a = await openMedium(x);
    a.m.send(Buffer.from('###\n(1)t=netstring...')); // netstring must be converted to classic by the caller
    a.m.send(Buffer.from('###\n(1)t=netstring...'));
    expect(a.s.errors.map((e) => (e as HbError).code)).toEqual(['MEDIA_SERIAL_NOT_CLASSIC']);
    await a.m.close();
    expect(() => a.m.send(Buffer.from(frame('t=x\n')))).not.toThrow();
  }, 30_000);
});
