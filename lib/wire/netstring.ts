/**
 * The netstring format, spec 1.3: `###\n`, one `<n>:(t)name=value,` item per
 * field with raw value bytes, `%%%\n`, then on the network one more item, the
 * auth trailer `<n>:<authnum> <token>,` (spec 2.4). This is what 3.0.6 sends
 * on every UDP medium.
 */
import { FieldType, HaMsg, type Field } from './message.js';
import { badList, unencodable, LIST_CLASH, listClashes, packList, unpackList } from './encoding.js';
import {
  MAX_DEPTH, MAX_FIELDS, badName, fail,
  type DecodeFail, type DecodeOk, type ParseBudget,
} from './result.js';

const START = '###\n';
const END = '%%%\n';
/** glue reserves this much for the trailer text. */
export const MAX_TRAILER_LEN = 64;

export type NetstringDecodeResult =
  | (DecodeOk & { bodyEnd: number; trailer?: string })
  | DecodeFail;

function renderValue(f: Field, depth: number): string {
  switch (f.type) {
    case FieldType.STRING:
      if (f.value.includes('\0')) throw unencodable('netstring', 'NUL in string value', f.name);
      return f.value;
    case FieldType.BINARY:
    case FieldType.COMPRESS:
      return f.value.toString('latin1');
    case FieldType.STRUCT:
      if (depth >= MAX_DEPTH) throw unencodable('netstring', `nesting deeper than ${MAX_DEPTH}`, f.name);
      return renderMessage(f.value, depth + 1);
    case FieldType.LIST: {
      const bad = badList(f.value, false);
      if (bad) throw unencodable('netstring', bad, f.name);
      return packList(f.value);
    }
    default:
      throw unencodable('netstring', 'unknown field type', (f as Field).name);
  }
}

function renderMessage(msg: HaMsg, depth: number): string {
  let out = START;
  const seen = new Set<string>();
  for (const f of msg.fields) {
    const bad = badName(f.name) ?? (listClashes(f.type, f.name, seen) ? LIST_CLASH : undefined);
    if (bad) throw unencodable('netstring', bad, f.name);
    seen.add(f.name);
    const item = `(${f.type})${f.name}=${renderValue(f, depth)}`;
    out += `${item.length}:${item},`;
  }
  return out + END;
}

/** The netstring body `###\n`…`%%%\n`, without the auth trailer. Throws HbError if unencodable. */
export function encodeNetstring(msg: HaMsg): Buffer {
  return Buffer.from(renderMessage(msg, 0), 'latin1');
}

type Parsed = { msg: HaMsg; end: number } | string;

/** One item's `(t)name=value` text between `a` and `b` (exclusive) into a field. */
function parseItem(s: string, a: number, b: number, depth: number, budget: ParseBudget): Field | string {
  const t = s.charCodeAt(a + 1) - 0x30;
  // Type 5 (uncompressed struct) exists only in memory and is never sent.
  if (b - a < 5 || s.charCodeAt(a) !== 0x28 || s.charCodeAt(a + 2) !== 0x29 || !(t >= 0 && t <= 4)) return `bad type prefix at offset ${a}`;
  const eq = s.indexOf('=', a + 3);
  if (eq < 0 || eq >= b) return `netstring item without "=" at offset ${a}`;
  const name = s.slice(a + 3, eq);
  const bad = badName(name);
  if (bad) return `bad field name at offset ${a}: ${bad}`;
  if (++budget.fields > MAX_FIELDS) return `too many fields (more than ${MAX_FIELDS})`;
  const v = eq + 1;
  switch (t) {
    case FieldType.STRING: {
      const value = s.slice(v, b);
      const nul = value.indexOf('\0');
      if (nul >= 0) return `NUL in string field "${name}" at offset ${v + nul}`;
      return { name, type: 0, value };
    }
    case FieldType.BINARY:
      return { name, type: 1, value: Buffer.from(s.slice(v, b), 'latin1') };
    case FieldType.COMPRESS:
      return { name, type: 4, value: Buffer.from(s.slice(v, b), 'latin1') };
    case FieldType.STRUCT: {
      if (depth >= MAX_DEPTH) return `nesting too deep (more than ${MAX_DEPTH}) at offset ${v}`;
      const r = parseMessage(s, v, b, depth + 1, budget);
      if (typeof r === 'string') return r;
      if (r.end !== b) return `bad nested message in field "${name}" at offset ${r.end}: trailing bytes`;
      return { name, type: 2, value: r.msg };
    }
    default: {
      const list = unpackList(s.slice(v, b), v);
      if (typeof list === 'string') return `bad list in field "${name}": ${list}`;
      return { name, type: 3, value: list };
    }
  }
}

/**
 * Reads one `<n>:<bytes>,` item at `p` that must end before `limit`; returns
 * its content range. The length is read in place (the receive path's hot
 * loop): the rules are parseLength's — digits only, at most 9, no leading zero.
 */
function peel(s: string, p: number, limit: number): { a: number; b: number } | string {
  let i = p;
  let value = 0;
  for (let c = s.charCodeAt(i); c >= 0x30 && c <= 0x39 && i - p < 10; c = s.charCodeAt(++i)) value = value * 10 + (c - 0x30);
  const digits = i - p;
  if (digits === 0 || digits > 9 || (digits > 1 && s.charCodeAt(p) === 0x30) || i >= limit || s.charCodeAt(i) !== 0x3a) {
    return `bad netstring length at offset ${p}`;
  }
  const a = i + 1;
  const b = a + value;
  if (b >= limit) return `netstring item overruns its message at offset ${p}`;
  if (s.charCodeAt(b) !== 0x2c) return `missing "," after netstring item at offset ${b}`;
  return { a, b };
}

/** Parses `###\n`…`%%%\n` starting at `start` and lying wholly before `limit`. */
function parseMessage(s: string, start: number, limit: number, depth: number, budget: ParseBudget): Parsed {
  if (limit - start < START.length || !s.startsWith(START, start)) return `no netstring start marker at offset ${start}`;
  const msg = new HaMsg();
  let p = start + START.length;
  for (;;) {
    if (p + END.length <= limit && s.startsWith(END, p)) return { msg, end: p + END.length };
    if (p >= limit) return `truncated netstring message at offset ${p}: no %%% end marker`;
    const item = peel(s, p, limit);
    if (typeof item === 'string') return item;
    const f = parseItem(s, item.a, item.b, depth, budget);
    if (typeof f === 'string') return f;
    // a list may not share a name with an earlier field (no per-message set: lists are rare)
    if (f.type === FieldType.LIST && msg.has(f.name)) return `${LIST_CLASH} ("${f.name}") at offset ${p}`;
    msg.addField(f);
    p = item.b + 1;
  }
}

/**
 * Decodes a netstring datagram. `bodyEnd` is the offset just after `%%%\n`;
 * `trailer` is the text of the auth item when one follows. Anything else
 * after the body is refused, so no byte of an accepted datagram escapes the
 * digest. Never throws.
 */
export function decodeNetstring(buf: Buffer): NetstringDecodeResult {
  try {
    const s = buf.toString('latin1');
    const r = parseMessage(s, 0, s.length, 0, { fields: 0 });
    if (typeof r === 'string') return fail(r);
    if (r.end === s.length) return { ok: true, msg: r.msg, format: 'netstring', bodyEnd: r.end };
    const t = peel(s, r.end, s.length);
    if (typeof t === 'string') return fail(`bad auth trailer: ${t}`);
    if (t.b + 1 !== s.length) return fail(`trailing bytes after auth trailer at offset ${t.b + 1}`);
    if (t.b - t.a > MAX_TRAILER_LEN) return fail(`auth trailer longer than ${MAX_TRAILER_LEN} bytes at offset ${r.end}`);
    return { ok: true, msg: r.msg, format: 'netstring', bodyEnd: r.end, trailer: s.slice(t.a, t.b) };
  } catch (err) {
    return fail(`netstring decoder error: ${err instanceof Error ? err.message : String(err)}`);
  }
}
