/**
 * Value encodings shared by both wire formats: canonical base64 (classic
 * binary fields) and the `<len>:<str>,` packing of string lists (spec 1.2,
 * 1.3). Strings are latin1 JS strings, one char per byte.
 */
import { HbError, WIRE_ERRORS } from '../util/errors.js';
import { FieldType } from './message.js';

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 4648 base64 with padding, no line breaks: what glue's binary_to_base64 writes. */
export const toBase64 = (b: Buffer): string => b.toString('base64');

/**
 * Strict base64 decode, or undefined. Node's decoder silently skips invalid
 * characters, which would let two different texts decode to the same bytes.
 * Non-zero padding bits are tolerated as glue does; verification still fails
 * for them because the digest is taken over the canonical re-encoding.
 */
export function fromBase64(s: string): Buffer | undefined {
  if (s.length % 4 !== 0 || !B64_RE.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

/** Parses a decimal length with no sign, no leading zeros and at most 9 digits. */
export function parseLength(s: string, at: number): { value: number; next: number } | undefined {
  let i = at;
  while (i < s.length && i - at < 10) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  const digits = i - at;
  if (digits === 0 || digits > 9) return undefined;
  if (digits > 1 && s.charCodeAt(at) === 0x30) return undefined;
  return { value: Number(s.slice(at, i)), next: i };
}

/** Field `name` cannot be written in `format` (classic or netstring) because of `what`. */
export const unencodable = (format: 'classic' | 'netstring', what: string, name: string): HbError =>
  new HbError(WIRE_ERRORS.UNENCODABLE, `cannot encode field "${name}" in ${format} format: ${what}`);

/** Why a list cannot be sent, or undefined. glue refuses empty lists and empty elements. */
export function badList(list: readonly string[], classic: boolean): string | undefined {
  if (list.length === 0) return 'empty list';
  for (const e of list) {
    if (e.length === 0) return 'empty list element';
    if (e.includes('\0')) return 'NUL in list element';
    if (classic && e.includes('\n')) return 'newline in list element';
  }
  return undefined;
}

/**
 * glue appends a list to an earlier list of the same name and refuses it
 * after a field of another type, so such a message would not arrive as sent.
 * `seen` holds the names before this field; a Set keeps this linear.
 */
export const LIST_CLASH = 'list field repeats an earlier field name';
export const listClashes = (type: number, name: string, seen: ReadonlySet<string>): boolean =>
  type === FieldType.LIST && seen.has(name);

export const packList = (list: readonly string[]): string => list.map((e) => `${e.length}:${e},`).join('');

/**
 * Unpacks `<len>:<str>,`… covering the whole value; returns the list or a
 * reason with the offset (relative to `base`) where it went wrong.
 */
export function unpackList(v: string, base: number): string[] | string {
  if (v.length === 0) return `empty list at offset ${base}`;
  const out: string[] = [];
  let i = 0;
  while (i < v.length) {
    const n = parseLength(v, i);
    if (!n || n.value === 0 || v[n.next] !== ':') return `bad list element length at offset ${base + i}`;
    const start = n.next + 1;
    const end = start + n.value;
    if (end >= v.length || v[end] !== ',') return `list element overruns its field at offset ${base + i}`;
    const e = v.slice(start, end);
    if (e.includes('\0')) return `NUL in list element at offset ${base + start}`;
    out.push(e);
    i = end + 1;
  }
  return out;
}
