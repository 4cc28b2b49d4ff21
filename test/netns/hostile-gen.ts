/**
 * Hostile datagrams for the bad-input test, in classes whose verdict is
 * known in advance, from a seeded generator (the seed is printed, so a
 * failure can be replayed). Seeds: the netstring and classic datagrams of
 * the spec's test vectors and genuine datagrams captured from the peer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Authenticator } from '../../lib/auth/index.js';
import { parseAuthKeys } from '../../lib/config/authkeys.js';
import { decodeDatagram, HaMsg } from '../../lib/wire/index.js';

export const VECTORS_FILE = fileURLToPath(new URL('../fixtures/heartbeat-test-vectors.json', import.meta.url));

/** The running totals heartbeat-ts prints with each reject summary (`Rejected N packet(s) … (totals: …)`). */
export interface RejectTotals {
  malformed: number;
  'unknown-key': number;
  'bad-digest': number;
  replay: number;
  accepted: number;
}

const TOTALS_RE = /Rejected \d+ packet\(s\).*\(totals: malformed (\d+), unknown-key (\d+), bad-digest (\d+), replay (\d+), accepted (\d+)\)/;

/** Totals of the newest reject summary in a log text (all zero before the first). */
export function lastRejectTotals(log: string): RejectTotals {
  const lines = log.split('\n').filter((l) => TOTALS_RE.test(l));
  const m = TOTALS_RE.exec(lines[lines.length - 1] ?? '');
  const n = (i: number): number => Number(m?.[i] ?? 0);
  return { malformed: n(1), 'unknown-key': n(2), 'bad-digest': n(3), replay: n(4), accepted: n(5) };
}

/** mulberry32: small, fast, good enough to spread mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface VectorCase {
  authnum: number;
  netstring_datagram_hex?: string;
  classic_datagram_hex_old_glue?: string;
}

/** The signed datagrams of the vectors file (with the vectors' keys and auth numbers, not ours). */
export function vectorDatagrams(file = VECTORS_FILE): Array<{ data: Buffer; authnum: number }> {
  const v = JSON.parse(readFileSync(file, 'utf8')) as { cases: VectorCase[] };
  const out: Array<{ data: Buffer; authnum: number }> = [];
  for (const c of v.cases) {
    if (c.netstring_datagram_hex) out.push({ data: Buffer.from(c.netstring_datagram_hex, 'hex'), authnum: c.authnum });
    if (c.classic_datagram_hex_old_glue) out.push({ data: Buffer.from(c.classic_datagram_hex_old_glue, 'hex'), authnum: c.authnum });
  }
  return out;
}

function authenticator(authkeys: string): Authenticator {
  const keys = parseAuthKeys(authkeys, { file: 'authkeys', mode: 0o100600 }).value;
  if (keys === undefined) throw new Error(`bad test authkeys: ${authkeys}`);
  return new Authenticator(keys, { msgfmt: 'classic' });
}

function decode(d: Buffer): HaMsg | undefined {
  const r = decodeDatagram(d);
  return r.ok ? r.msg : undefined;
}

export interface HostileSet {
  /** not heartbeat wire format at all, or broken framing: `malformed` */
  malformed: Buffer[];
  /** well-formed, signed with auth 1 but not with our key: `bad-digest` */
  badDigest: Buffer[];
  /** well-formed, signed with an auth number absent from our authkeys: `unknown-key` */
  unknownKey: Buffer[];
  /** random mutations of seeds: rejected, reason not predicted */
  mutated: Buffer[];
}

const pick = <T>(r: () => number, xs: readonly T[]): T => {
  const x = xs[Math.floor(r() * xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
};

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** One random edit: flips, overwrites, inserts, deletes, truncates, splices or length-prefix tweaks. */
function mutate(r: () => number, seed: Buffer): Buffer {
  const b = Buffer.from(seed);
  const at = (): number => Math.floor(r() * Math.max(1, b.length));
  switch (Math.floor(r() * 8)) {
    case 0: {
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) {
        const i = at();
        b[i] = (b[i] ?? 0) ^ (1 << Math.floor(r() * 8));
      }
      return b;
    }
    case 1:
      b[at()] = Math.floor(r() * 256);
      return b;
    case 2: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), randomBytes(r, 1 + Math.floor(r() * 16)), b.subarray(i)]);
    }
    case 3: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + Math.floor(r() * 8))]);
    }
    case 4:
      return b.subarray(0, at());
    case 5: {
      const i = at();
      const j = at();
      return Buffer.concat([b.subarray(0, Math.min(i, j)), b.subarray(Math.min(i, j)), b.subarray(Math.min(i, j), Math.max(i, j))]);
    }
    case 6: {
      // a length prefix one larger or smaller, or a digit stuffed into it
      const text = b.toString('latin1');
      const re = /(\d+):/g;
      const found = [...text.matchAll(re)];
      const m = found.length > 0 ? pick(r, found) : undefined;
      if (m?.index === undefined || m[1] === undefined) return Buffer.concat([b, Buffer.from('1:x,')]);
      const n = Number(m[1]);
      const repl = pick(r, [String(n + 1), String(Math.max(0, n - 1)), `${m[1]}0`, `9${m[1]}`, '-1', '']);
      return Buffer.from(text.slice(0, m.index) + repl + text.slice(m.index + m[1].length), 'latin1');
    }
    default:
      return Buffer.concat([b, pick(r, [Buffer.from(','), Buffer.from('\n'), Buffer.from([0]), randomBytes(r, 3)])]);
  }
}

/**
 * Builds the classes. `genuine` are datagrams captured from the peer (signed
 * with the shared key, auth 1); `ourKeys` is the authkeys text both nodes use.
 */
export function hostileSet(seed: number, genuine: readonly Buffer[], counts = { malformed: 1000, badDigest: 800, unknownKey: 400, mutated: 3000 }): HostileSet {
  const r = prng(seed);
  const vectors = vectorDatagrams();
  const msgs = genuine.map(decode).filter((m): m is HaMsg => m !== undefined);
  if (msgs.length === 0) throw new Error('no decodable genuine datagram to build on');
  const wrongKey = authenticator('auth 1\n1 sha1 not-the-cluster-key\n');
  const wrongNum = authenticator('auth 7\n7 sha1 heartbeat-ts-test-key\n');

  const malformed: Buffer[] = [];
  while (malformed.length < counts.malformed) {
    const k = malformed.length % 4;
    if (k === 0) {
      // noise; never starting like either wire format
      const big = r() < 0.01;
      const d = randomBytes(r, big ? 20_000 + Math.floor(r() * 40_000) : Math.floor(r() * 1400));
      if (d.length >= 4 && (d.subarray(0, 4).toString('latin1') === '###\n' || d.subarray(0, 4).toString('latin1') === '>>>\n')) continue;
      malformed.push(d);
    } else if (k === 1) {
      malformed.push(Buffer.concat([Buffer.from('###\n'), randomBytes(r, Math.floor(r() * 600))]));
    } else if (k === 2) {
      malformed.push(Buffer.concat([Buffer.from('>>>\n'), randomBytes(r, Math.floor(r() * 600))]));
    } else {
      // a genuine datagram cut before the end of its body (no trailer left)
      const g = pick(r, genuine);
      const bodyEnd = g.indexOf('%%%\n');
      malformed.push(g.subarray(0, Math.floor(r() * Math.max(1, bodyEnd))));
    }
  }

  // our authkeys has key 1 only: vectors signed with 1 have the wrong digest, the others an unknown key
  const badDigest: Buffer[] = vectors.filter((v) => v.authnum === 1).map((v) => v.data);
  while (badDigest.length < counts.badDigest) {
    const m = pick(r, msgs).clone();
    const k = badDigest.length % 3;
    if (k === 0) {
      badDigest.push(wrongKey.sign(m));
    } else if (k === 1) {
      // forgeries a wrong key must not get through: shutdone, a jump in seq, a dead status
      const f = pick(r, [
        () => m.mod('t', 'shutdone'),
        () => m.mod('seq', (parseInt(m.get('seq') ?? '1', 16) + 1000).toString(16)),
        () => m.mod('st', 'dead'),
        () => m.mod('hg', '1'),
      ]);
      f();
      badDigest.push(wrongKey.sign(m));
    } else {
      // genuine bytes, one digit of the load average changed: structure intact, digest wrong
      const g = Buffer.from(pick(r, genuine));
      const ld = g.indexOf('(0)ld=');
      if (ld < 0) continue;
      const i = ld + 6;
      const c = g[i];
      if (c === undefined || c < 0x30 || c > 0x39) continue;
      g[i] = 0x30 + ((c - 0x30 + 1 + Math.floor(r() * 9)) % 10);
      badDigest.push(g);
    }
  }

  const unknownKey: Buffer[] = vectors.filter((v) => v.authnum !== 1).map((v) => v.data);
  while (unknownKey.length < counts.unknownKey) unknownKey.push(wrongNum.sign(pick(r, msgs)));

  const seeds = [...vectors.map((v) => v.data), ...genuine];
  const known = new Set(seeds.map((s) => s.toString('latin1')));
  const mutated: Buffer[] = [];
  while (mutated.length < counts.mutated) {
    let d = pick(r, seeds);
    const rounds = 1 + Math.floor(r() * 3);
    for (let k = 0; k < rounds; k++) d = mutate(r, d);
    // an edit that happens to restore the seed would be a genuine duplicate
    if (known.has(d.toString('latin1')) || d.length > 60_000) continue;
    mutated.push(d);
  }
  return { malformed, badDigest, unknownKey, mutated };
}
