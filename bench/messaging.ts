/**
 * Scenario 6: the messaging path, one core. The status heartbeat of spec
 * 2.6 is built with its control fields, given its classic auth field,
 * encoded with the netstring trailer (sender), then parsed and verified
 * (receiver), for md5 and sha1.
 *
 * heartbeat-ts: lib/wire + lib/auth in this process. Heartbeat 3.0.6: the
 * same steps in Debian's libplumb.so.2 with the real HBauth md5.so/sha1.so
 * plugins, driven by bench/hb-msgbench.c (compiled here with gcc, loading
 * both libraries with dlopen). Its datagram is compared byte for byte with
 * the spec's vector before any figure is kept, and so is ours.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Authenticator } from '../lib/auth/index.js';
import { REPO_ROOT } from '../devtools/lab/lab.js';
import { F, HaMsg } from '../lib/wire/index.js';
import type { BenchContext } from './cluster.js';

const SOURCE = join(REPO_ROOT, 'bench/hb-msgbench.c');
const VECTORS = [join(REPO_ROOT, 'test/fixtures/heartbeat-test-vectors.json')];
const UUID = Buffer.from('3f2a7c1e8b4d4e5f9a6b1c2d3e4f5a6b', 'hex');
/** The spec's keys: md5 is method 2 with `Hello!`, sha1 method 3 with `HI!`. */
const METHODS = [
  { method: 'md5' as const, num: 2, key: 'Hello!' },
  { method: 'sha1' as const, num: 3, key: 'HI!' },
];

function expectedWire(method: string): string | undefined {
  for (const p of VECTORS) {
    if (!existsSync(p)) continue;
    const v = JSON.parse(readFileSync(p, 'utf8')) as { cases: Array<{ method: string; netstring_datagram_hex: string }> };
    return v.cases.find((c) => c.method === method)?.netstring_datagram_hex;
  }
  return undefined;
}

function statusMessage(seq: number): HaMsg {
  return new HaMsg()
    .add(F.TYPE, 'status')
    .add('st', 'active')
    .add('dt', '7530')
    .add('protocol', '1')
    .mod(F.ORIG, 'node1')
    .modBinary(F.ORIGUUID, UUID)
    .mod(F.SEQ, seq.toString(16))
    .mod('hg', '4')
    .mod('ts', '5c2e5f00')
    .mod('ld', '0.00 0.01 0.05 1/123 4567')
    .mod('ttl', '3');
}

/** Runs fn in batches until `ms` elapsed; returns calls per second. */
function rate(fn: (k: number) => void, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    for (let k = 0; k < 500; k++) fn(n++);
    t = performance.now();
  } while (t - t0 < ms);
  return (n * 1000) / (t - t0);
}

function compile(ctx: BenchContext): string | undefined {
  const bin = join(ctx.opts.outDir, 'hb-msgbench');
  const r = spawnSync('gcc', ['-O2', '-o', bin, SOURCE, '-ldl'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    ctx.rec.failure('messaging', 'compile hb-msgbench.c', `gcc: ${r.error?.message ?? r.stderr}`);
    return undefined;
  }
  return bin;
}

export async function messagingPath(ctx: BenchContext): Promise<void> {
  const sc = 'messaging';
  const ms = ctx.opts.quick ? 300 : 1000;
  ctx.say(`[6] messaging path, ${ctx.opts.reps} × ${ms} ms per figure`);
  const bin = compile(ctx);
  const add = (daemon: 'ours' | 'real', metric: string, setting: string, v: number): void =>
    ctx.rec.add({ scenario: sc, metric, setting, daemon, unit: 'msg/s', better: 'higher' }, v);
  for (const m of METHODS) {
    const setting = `${m.method}, status heartbeat (${m.method === 'md5' ? 287 : 303} bytes)`;
    const want = expectedWire(m.method);
    // ours
    const auth = new Authenticator({ activeNum: m.num, keys: new Map([[m.num, { num: m.num, method: m.method, key: m.key, line: 1 }]]) }, { msgfmt: 'classic' });
    const wire = auth.sign(statusMessage(0x2a));
    if (want !== undefined && wire.toString('hex') !== want) {
      ctx.rec.failure(sc, `heartbeat-ts ${m.method}`, 'our datagram differs from the spec vector');
      continue;
    }
    const receive = (): void => {
      const v = auth.verify(wire);
      if (v.verdict !== 'ok' || v.msg.get(F.TYPE) === undefined || v.msg.get(F.ORIG) === undefined || v.msg.get(F.SEQ) === undefined) {
        throw new Error(`verification failed: ${v.verdict}`);
      }
    };
    rate((k) => auth.sign(statusMessage(k)), 300); // JIT warm-up
    rate(receive, 300);
    for (let rep = 0; rep < ctx.opts.reps; rep++) {
      const send = rate((k) => auth.sign(statusMessage(k)), ms);
      const recv = rate(receive, ms);
      add('ours', 'sender: build + sign + encode', setting, send);
      add('ours', 'receiver: decode + verify', setting, recv);
      add('ours', 'both ends (one core)', setting, 1 / (1 / send + 1 / recv));
    }
    // Heartbeat
    if (bin === undefined) continue;
    for (let rep = 0; rep < ctx.opts.reps; rep++) {
      const r = spawnSync(bin, [m.method, m.key, String(m.num), String(ms / 1000)], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) {
        ctx.rec.failure(sc, `Heartbeat ${m.method}`, `hb-msgbench exit ${r.status}: ${r.stderr}`);
        break;
      }
      const out = JSON.parse(r.stdout) as { wire: string; verified: number; encode_sign: number; verify_decode: number };
      if ((want !== undefined && out.wire !== want) || out.verified !== 1) {
        ctx.rec.failure(sc, `Heartbeat ${m.method}`, 'libplumb datagram differs from the spec vector or was not verified');
        break;
      }
      add('real', 'sender: build + sign + encode', setting, out.encode_sign);
      add('real', 'receiver: decode + verify', setting, out.verify_decode);
      add('real', 'both ends (one core)', setting, 1 / (1 / out.encode_sign + 1 / out.verify_decode));
    }
    const o = ctx.rec.median(sc, 'both ends (one core)', setting, 'ours');
    const h = ctx.rec.median(sc, 'both ends (one core)', setting, 'real');
    ctx.say(`  ${m.method}: heartbeat-ts ${o?.toFixed(0) ?? '?'} msg/s, Heartbeat ${h?.toFixed(0) ?? '?'} msg/s (send+receive on one core)`);
  }
  ctx.rec.note('messaging: Heartbeat figures come from libplumb.so.2 + HBauth plugins called from C (bench/hb-msgbench.c), not from a running daemon; heartbeat-ts figures from lib/wire + lib/auth in the benchmark process (Node.js, one thread).');
}
