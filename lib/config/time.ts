/**
 * Heartbeat's value syntaxes for times and booleans (libplumb cl_get_msec and
 * cl_str_to_boolean, spec 5.1 and 6.1). Verified against the real
 * libplumb.so.2 by test/unit/config/time.test.ts.
 */
import { asciiLower, spanOf, WHITESPACE } from './text.js';

const NUMCHARS = '0123456789.';

/**
 * Parses a heartbeat time value into milliseconds, or undefined when
 * heartbeat would reject it (cl_get_msec returning -1).
 *
 * A number made of digits and dots (read like C atof, so `1..5` is 1), then
 * optional whitespace and a unit: none = seconds, anything starting with
 * `ms` = milliseconds, anything starting with `us` = microseconds (all
 * case-insensitive); rounded half up to whole milliseconds. The empty string
 * is 0, as in libplumb.
 */
export function parseHbTime(text: string): number | undefined {
  const start = spanOf(text, WHITESPACE);
  const numLen = spanOf(text, NUMCHARS, start);
  const unitsAt = start + numLen + spanOf(text, WHITESPACE, start + numLen);
  const first = text.charAt(start);
  // libplumb tests the first char with strchr, which also matches the terminator.
  if (first !== '' && !NUMCHARS.includes(first)) return undefined;
  const units = asciiLower(text.slice(unitsAt));
  let multiplier = 1000;
  let divisor = 1;
  // "cl_g" is a leftover in libplumb (it compares against its own function name).
  if (units.startsWith('ms') || units.startsWith('cl_g')) {
    multiplier = 1;
  } else if (units.startsWith('us')) {
    multiplier = 1;
    divisor = 1000;
  } else if (units !== '' && units.charAt(0) !== '\n' && units.charAt(0) !== '\r') {
    return undefined;
  }
  const value = leadingFloat(text.slice(start, start + numLen));
  return Math.trunc((value * multiplier) / divisor + 0.5);
}

/** atof() over a run of digits and dots: the longest prefix that is a decimal number. */
function leadingFloat(run: string): number {
  const m = /^\d*(?:\.\d*)?/.exec(run);
  const s = m?.[0] ?? '';
  if (s === '' || s === '.') return 0;
  return Number(s.endsWith('.') ? s.slice(0, -1) : s);
}

const TRUE_WORDS = new Set(['true', 'on', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'off', 'no', 'n', '0']);

/** Heartbeat booleans: true/on/yes/y/1 and false/off/no/n/0, case-insensitive, nothing else. */
export function parseBoolean(text: string): boolean | undefined {
  const t = asciiLower(text);
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return undefined;
}

/** Formats milliseconds the way heartbeat records computed times (`%ldms`). */
export function msText(ms: number): string {
  return `${ms}ms`;
}
