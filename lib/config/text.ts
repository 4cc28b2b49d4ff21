/**
 * C-string helpers shared by the config parsers. Heartbeat reads its files
 * with strspn/strcspn/atoi, and drop-in compatibility means accepting what
 * those accept, so the quirks are reproduced here once.
 */

/** heartbeat's WHITESPACE set (heartbeat.h). */
export const WHITESPACE = ' \t\n\r\f';
/** heartbeat's DELIMS set: whitespace plus comma (option values). */
export const DELIMS = ', \t\n\r\f';

/** Lowercases A-Z only, like inplace_ascii_strdown / awk tolower in the C locale. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Length of the leading run of `s` (from `from`) made only of characters in `set` (strspn). */
export function spanOf(s: string, set: string, from = 0): number {
  let i = from;
  while (i < s.length && set.includes(s.charAt(i))) i++;
  return i - from;
}

/** Length of the leading run of `s` (from `from`) made of characters NOT in `set` (strcspn). */
export function spanNot(s: string, set: string, from = 0): number {
  let i = from;
  while (i < s.length && !set.includes(s.charAt(i))) i++;
  return i - from;
}

/** Splits `s` on any run of characters of `set`, dropping empty tokens. */
export function tokens(s: string, set: string = WHITESPACE): string[] {
  const out: string[] = [];
  let i = spanOf(s, set);
  while (i < s.length) {
    const n = spanNot(s, set, i);
    out.push(s.slice(i, i + n));
    i += n;
    i += spanOf(s, set, i);
  }
  return out;
}

/**
 * C atoi(): optional leading whitespace, optional sign, then as many digits
 * as there are; anything else stops the scan, no digits gives 0. Huge
 * inputs are clamped rather than reproducing C's undefined behaviour.
 */
export function atoi(s: string): number {
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d*)/.exec(s);
  const digits = m?.[2] ?? '';
  if (digits === '') return 0;
  const n = Math.min(Number(digits), 2 ** 31);
  return m?.[1] === '-' ? -n : n;
}

/** True when `s` is exactly what atoi would read (no junk heartbeat silently drops). */
export function isCleanInt(s: string): boolean {
  return /^[+-]?\d+$/.test(s);
}
