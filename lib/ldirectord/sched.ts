/**
 * Scheduler arithmetic shared by the data planes: the order in which IPVS'
 * weighted round robin visits servers, and weighted hash buckets. Pure.
 */

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * One period of IPVS-style weighted round robin over `weights` (all > 0):
 * the current weight starts at the maximum and drops by the weights' gcd
 * each time the scan wraps; a server is picked when its weight reaches the
 * current weight. The period has sum(weights)/gcd entries, so heavier
 * servers appear proportionally more often, interleaved rather than in runs.
 */
export function wrrSequence(weights: readonly number[]): number[] {
  const n = weights.length;
  if (n === 0) return [];
  const g = weights.reduce((a, w) => gcd(a, w), 0);
  const max = Math.max(...weights);
  const period = weights.reduce((a, w) => a + w, 0) / g;
  const out: number[] = [];
  let i = -1;
  let cw = 0;
  while (out.length < period) {
    i = (i + 1) % n;
    if (i === 0) {
      cw -= g;
      if (cw <= 0) cw = max;
    }
    if ((weights[i] ?? 0) >= cw) out.push(i);
  }
  return out;
}

/** A value range [from, to] of a hash or counter mapped to server `index`. */
export interface Bucket { from: number; to: number; index: number }

/** Contiguous ranges of width weight: for hash-based selection. */
export function weightedBuckets(weights: readonly number[]): { modulus: number; buckets: Bucket[] } {
  const buckets: Bucket[] = [];
  let at = 0;
  weights.forEach((w, index) => {
    if (w <= 0) return;
    buckets.push({ from: at, to: at + w - 1, index });
    at += w;
  });
  return { modulus: at, buckets };
}

/** Largest counter period we write into a ruleset (keeps maps small). */
export const MAX_SEQUENCE = 1024;

/**
 * Buckets for a counter-driven (numgen) weighted round robin: the interleaved
 * IPVS order when its period is small enough, else contiguous runs with the
 * same proportions (weights reduced by their gcd).
 */
export function wrrBuckets(weights: readonly number[]): { modulus: number; buckets: Bucket[] } {
  const seq = wrrSequence(weights);
  if (seq.length === 0 || seq.length > MAX_SEQUENCE) {
    const g = weights.reduce((a, w) => gcd(a, w), 0) || 1;
    return weightedBuckets(weights.map((w) => w / g));
  }
  const buckets: Bucket[] = [];
  seq.forEach((index, pos) => {
    const last = buckets[buckets.length - 1];
    if (last && last.index === index && last.to === pos - 1) last.to = pos;
    else buckets.push({ from: pos, to: pos, index });
  });
  return { modulus: seq.length, buckets };
}

/** Plain round robin: every server once per period, weights ignored. */
export function rrBuckets(count: number): { modulus: number; buckets: Bucket[] } {
  return { modulus: count, buckets: Array.from({ length: count }, (_, i) => ({ from: i, to: i, index: i })) };
}

/** A stable 32-bit FNV-1a hash: names sets and seeds hashes across reloads. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
