/**
 * IPv6 address text as Heartbeat's ucast6/mcast6 plugins handle it:
 * inet_pton(3) parsing (no scope), inet_ntop(3) canonical text (the form
 * heartbeat logs), and the plausibility rules the plugins apply. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** 16 bytes of an IPv6 address, or undefined when `text` is not one (a `%scope` suffix is not accepted). */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let head = text;
  const tailBytes: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (isIPv4(maybeV4)) {
    for (const p of maybeV4.split('.')) tailBytes.push(Number(p));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = head.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const fill = right === undefined ? 0 : 8 - l.length - r.length;
  const words = [...l, ...new Array<number>(fill).fill(0), ...r];
  if (words.length !== 8) return undefined;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  if (tailBytes.length === 4) out.set(tailBytes, 12);
  return out;
}

/** inet_ntop(AF_INET6) text: longest run (>= 2) of zero groups as `::`, embedded IPv4 for ::a.b.c.d and ::ffff:a.b.c.d. */
export function formatIpv6(b: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => ((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  words.forEach((w, i) => {
    if (w === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = cur;
    } else {
      cur = { base: -1, len: 0 };
    }
  });
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      return `${out}${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    }
    out += (words[i] ?? 0).toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

/** fe80::/10. */
export function isLinkLocal6(b: Uint8Array): boolean {
  return b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
}

/** Why ucast6 refuses `b` as a peer (multicast, unspecified, loopback), or undefined when it is plausible. */
export function ucast6Refusal(b: Uint8Array): string | undefined {
  if (b[0] === 0xff) return 'a multicast address cannot be a unicast peer';
  const allZeroUpTo15 = b.subarray(0, 15).every((x) => x === 0);
  if (allZeroUpTo15 && b[15] === 0) return 'the unspecified address :: cannot be a peer';
  if (allZeroUpTo15 && b[15] === 1) return 'the loopback address ::1 cannot be a peer';
  return undefined;
}

/** Multicast scopes heartbeat accepts for mcast6: link (2), admin (4), site (5), organization (8). */
const MCAST6_SCOPES = new Set([0x2, 0x4, 0x5, 0x8]);

/** Why mcast6 refuses `b` as a group, or undefined when it is plausible (the plugin's rules). */
export function mcast6Refusal(b: Uint8Array): string | undefined {
  if (b[0] !== 0xff) return 'not a multicast address (ff00::/8)';
  const flagsScope = b[1] ?? 0;
  if ((flagsScope & 0xe0) !== 0) return 'only the transient flag (ff1x) may be set';
  if (!MCAST6_SCOPES.has(flagsScope & 0x0f)) {
    return `scope ${(flagsScope & 0x0f).toString(16)} is not allowed: use link (2), admin (4), site (5) or organization (8) scope`;
  }
  if (b.subarray(2).every((x) => x === 0)) return 'the group id is all zeros (reserved)';
  return undefined;
}
