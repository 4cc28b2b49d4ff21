/**
 * Deterministic fuzzing of decodeDatagram and Authenticator.verify: signed
 * seeds (the vector datagrams plus generated ones) are mutated in many ways;
 * nothing may throw, and no changed datagram may be accepted.
 */
import { describe, expect, test } from 'vitest';
import { Authenticator, type Verdict } from '../../../lib/auth/index.js';
import { HaMsg, decodeDatagram, encodeNetstring } from '../../../lib/wire/index.js';
import { Rng, nestedChain, randomMessage } from '../wire/gen.js';
import { allKeys, statusMessage, vectors } from '../wire/vectors.js';

const ITERATIONS = 120_000;
const KEYS = ['Hello!', 'HI!'];

interface Seed {
  bytes: Buffer;
  classic: boolean;
}

function buildSeeds(rng: Rng): Seed[] {
  const seeds: Seed[] = [];
  for (const c of vectors.cases) {
    seeds.push({ bytes: Buffer.from(c.netstring_datagram_hex, 'hex'), classic: false });
    seeds.push({ bytes: Buffer.from(c.classic_datagram_hex_old_glue, 'hex'), classic: true });
  }
  for (const active of [1, 2, 3]) {
    const a = new Authenticator(allKeys(active), { msgfmt: 'classic' });
    const n = new Authenticator(allKeys(active), { msgfmt: 'netstring' });
    seeds.push({ bytes: a.sign(nestedChain(16)), classic: false });
    seeds.push({ bytes: a.signClassic(nestedChain(16)), classic: true });
    seeds.push({ bytes: n.sign(statusMessage()), classic: false });
    for (let i = 0; i < 12; i++) {
      const m = randomMessage(rng, { classicSafe: true, maxDepth: 3, maxFields: 6 });
      seeds.push({ bytes: a.sign(m), classic: false });
      seeds.push({ bytes: a.signClassic(m), classic: true });
    }
  }
  return seeds;
}

/** Offsets of decimal runs that end in ':' (netstring and list lengths). */
function lengthSites(b: Buffer): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0x3a) continue;
    let s = i;
    while (s > 0 && b[s - 1]! >= 0x30 && b[s - 1]! <= 0x39) s--;
    if (s < i) out.push({ start: s, end: i });
  }
  return out;
}

const HUGE = ['99999999999999999999', '4294967296', '2147483648', '9007199254740993', '524289', '-1', '', ' 1', '+1', '00', '1e3'];

function mutate(rng: Rng, src: Buffer, other: Buffer): Buffer {
  let b = Buffer.from(src);
  const pos = (n = b.length): number => (n > 0 ? rng.int(n) : 0);
  switch (rng.int(12)) {
    case 0: {
      const k = 1 + rng.int(4);
      for (let i = 0; i < k && b.length; i++) b[pos()]! ^= 1 << rng.int(8);
      return b;
    }
    case 1:
      if (b.length) b[pos()] = rng.int(256);
      return b;
    case 2:
      return b.subarray(0, pos(b.length + 1));
    case 3: {
      const at = pos(b.length + 1);
      return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]);
    }
    case 4: {
      const at = pos();
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(16))]);
    }
    case 5: {
      const sites = lengthSites(b);
      if (sites.length === 0) return b;
      const s = rng.pick(sites);
      const n = Number(b.toString('latin1', s.start, s.end));
      const repl = rng.pick([String(n + 1), String(Math.max(0, n - 1)), `0${n}`, String(rng.int(1000)), rng.pick(HUGE)]);
      return Buffer.concat([b.subarray(0, s.start), Buffer.from(repl, 'latin1'), b.subarray(s.end)]);
    }
    case 6: {
      const from = pos();
      const piece = b.subarray(from, from + 1 + rng.int(40));
      const at = pos(b.length + 1);
      return Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
    }
    case 7:
      return Buffer.concat([b, rng.chance(0.5) ? Buffer.from([0]) : rng.bytes(1 + rng.int(20))]);
    case 8: {
      const nl = [...b.keys()].filter((i) => b[i] === 0x0a);
      if (nl.length === 0) return b;
      const at = rng.pick(nl);
      return Buffer.concat([b.subarray(0, at), Buffer.from('\r'), b.subarray(at)]);
    }
    case 9: {
      const i = pos();
      const j = pos();
      const t = b[i]!;
      b[i] = b[j]!;
      b[j] = t;
      return b;
    }
    case 10:
      return Buffer.concat([b.subarray(0, pos(b.length + 1)), other.subarray(pos(other.length + 1))]);
    default: {
      const sites = [...b.keys()].filter((i) => b[i] === 0x28 && b[i + 2] === 0x29);
      if (sites.length === 0) return b;
      b = Buffer.from(b);
      b[rng.pick(sites) + 1] = 0x30 + rng.int(10);
      return b;
    }
  }
}

/** Inputs made from scratch: random bytes behind a valid header, huge lengths, deep nesting. */
function generate(rng: Rng): Buffer {
  switch (rng.int(4)) {
    case 0:
      return Buffer.concat([Buffer.from(rng.pick(['###\n', '>>>\n', '']), 'latin1'), rng.bytes(rng.int(200))]);
    case 1:
      return Buffer.from(`###\n${rng.pick(HUGE)}:(0)t=x,%%%\n${rng.pick(HUGE)}:1 abc,`, 'latin1');
    case 2: {
      let inner = encodeNetstring(HaMsg.of({ x: 'leaf' })).toString('latin1');
      const depth = 1 + rng.int(40);
      for (let i = 0; i < depth; i++) {
        const item = `(2)s=${inner}`;
        inner = `###\n${item.length}:${item},%%%\n`;
      }
      return Buffer.from(`${inner}8:1 abcdef,`, 'latin1');
    }
    default: {
      let text = '>>>\nx=leaf\n<<<\n';
      const depth = 1 + rng.int(20);
      for (let i = 0; i < depth; i++) text = `>>>\n(2)s=${text.replace(/\n/g, String.fromCharCode(0x14 + rng.int(12)))}\n<<<\n`;
      return Buffer.from(text, 'latin1');
    }
  }
}

const VERDICTS = new Set(['ok', 'malformed', 'unknown-key', 'bad-digest']);

/**
 * Every datagram that may verify: the seeds themselves, classic ones also
 * with or without the old-glue NUL. A splice of two seeds can rebuild a
 * whole other seed, which is then rightly accepted.
 */
function genuineSet(seeds: Seed[]): Set<string> {
  const out = new Set<string>();
  for (const s of seeds) {
    out.add(s.bytes.toString('hex'));
    if (!s.classic) continue;
    const core = s.bytes[s.bytes.length - 1] === 0 ? s.bytes.subarray(0, -1) : s.bytes;
    out.add(core.toString('hex'));
    out.add(Buffer.concat([core, Buffer.from([0])]).toString('hex'));
  }
  return out;
}

describe('fuzz', () => {
  test(`${ITERATIONS} mutated and generated datagrams: no throw, no forged ok`, { timeout: 300_000 }, () => {
    const rng = new Rng(0xf022ed);
    const seeds = buildSeeds(rng);
    const auth = new Authenticator(allKeys(3), { msgfmt: 'classic' });
    for (const s of seeds) expect(auth.verify(s.bytes).verdict).toBe('ok');
    const genuine = genuineSet(seeds);

    const tally: Record<string, number> = { ok: 0, malformed: 0, 'unknown-key': 0, 'bad-digest': 0 };
    let changed = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = rng.pick(seeds);
      let input: Buffer;
      if (rng.chance(0.08)) {
        input = generate(rng);
      } else {
        input = mutate(rng, seed.bytes, rng.pick(seeds).bytes);
        if (rng.chance(0.2)) input = mutate(rng, input, rng.pick(seeds).bytes);
      }

      const d = decodeDatagram(input);
      expect(typeof d.ok).toBe('boolean');
      if (!d.ok) expect(typeof d.reason).toBe('string');
      else if (d.format === 'netstring' && 'bodyEnd' in d) {
        // The netstring decoder accepts only canonical text: it re-encodes to the same bytes.
        expect(encodeNetstring(d.msg).equals(input.subarray(0, d.bodyEnd))).toBe(true);
      }

      const v: Verdict = auth.verify(input);
      expect(VERDICTS.has(v.verdict)).toBe(true);
      tally[v.verdict]!++;
      if (!genuine.has(input.toString('hex'))) changed++;
      if (v.verdict === 'ok') {
        if (!genuine.has(input.toString('hex'))) {
          throw new Error(`forged ok for input ${input.toString('hex')} (seed ${seed.bytes.toString('hex')})`);
        }
      } else if (v.verdict === 'malformed') {
        for (const k of KEYS) if (!input.includes(k)) expect(v.reason).not.toContain(k);
      }
    }
    expect(changed).toBeGreaterThanOrEqual(100_000);
    // The mutations must reach every stage of the verifier, not just the first check.
    expect(tally.malformed).toBeGreaterThan(ITERATIONS / 10);
    expect(tally['bad-digest']).toBeGreaterThan(ITERATIONS / 20);
    expect(tally['unknown-key']).toBeGreaterThan(10);
    const snap = auth.snapshot();
    expect(snap.ok + snap.malformed + snap['unknown-key'] + snap['bad-digest']).toBe(ITERATIONS + seeds.length);
  });
});
