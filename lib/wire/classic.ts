/**
 * The classic ("NVPAIR") text format, spec 1.2: `>>>\n`, one `[(t)]name=value`
 * line per field, `<<<\n`. It is what old glue sends on UDP, what serial links
 * carry, and — without the markers and the `auth` field — the input of the
 * classic authentication digest (spec 2.3).
 */
import { FieldType, HaMsg, type Field } from './message.js';
import { badList, unencodable, fromBase64, LIST_CLASH, listClashes, packList, toBase64, unpackList } from './encoding.js';
import {
  MAX_DEPTH, MAX_FIELDS, badName, fail,
  type DecodeFail, type DecodeOk, type ParseBudget,
} from './result.js';

/** `\n` inside a string value travels as this byte. */
const SPECIAL_SYM = '\x13';
/**
 * A nested message's newlines travel as the marker of the depth of the
 * message that contains the struct field (glue's SPECIAL_SYMS table).
 */
const DEPTH_MARKERS = [
  0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0f, 0x10, 0x11, 0x12,
].map((c) => String.fromCharCode(c));

const START = '>>>\n';
const END = '<<<\n';

export type ClassicDecodeResult = (DecodeOk & { end: number }) | DecodeFail;

function encodeValue(f: Field, depth: number): string {
  switch (f.type) {
    case FieldType.STRING:
      if (f.value.includes('\0')) throw unencodable('classic', 'NUL in string value', f.name);
      return f.value.replace(/\n/g, SPECIAL_SYM);
    case FieldType.BINARY:
    case FieldType.COMPRESS:
      return toBase64(f.value);
    case FieldType.STRUCT: {
      const marker = DEPTH_MARKERS[depth];
      if (marker === undefined) throw unencodable('classic', `nesting deeper than ${MAX_DEPTH}`, f.name);
      const child = renderMessage(f.value, depth + 1);
      // glue refuses too: the marker byte would be read back as a newline.
      if (child.includes(marker)) throw unencodable('classic', `nested message contains its depth marker 0x${marker.charCodeAt(0).toString(16)}`, f.name);
      return child.replace(/\n/g, marker);
    }
    case FieldType.LIST: {
      const bad = badList(f.value, true);
      if (bad) throw unencodable('classic', bad, f.name);
      return packList(f.value);
    }
    default:
      throw unencodable('classic', 'unknown field type', (f as Field).name);
  }
}

function renderFields(msg: HaMsg, depth: number, exclude: string | undefined): string {
  let out = '';
  const seen = new Set<string>();
  for (const f of msg.fields) {
    const bad = badName(f.name) ?? (listClashes(f.type, f.name, seen) ? LIST_CLASH : undefined);
    if (bad) throw unencodable('classic', bad, f.name);
    seen.add(f.name);
    if (f.name === exclude) continue;
    const prefix = f.type === FieldType.STRING ? '' : `(${f.type})`;
    out += `${prefix}${f.name}=${encodeValue(f, depth)}\n`;
  }
  return out;
}

function renderMessage(msg: HaMsg, depth: number): string {
  return START + renderFields(msg, depth, undefined) + END;
}

/** The classic text of a message, `>>>\n`…`<<<\n`, without a trailing NUL. Throws HbError if unencodable. */
export function encodeClassic(msg: HaMsg): Buffer {
  return Buffer.from(renderMessage(msg, 0), 'latin1');
}

/**
 * The classic digest input (spec 2.3): every top-level field except those
 * named `exclude` (default `auth`), without the markers.
 */
export function classicFieldsText(msg: HaMsg, opts: { exclude?: string } = {}): Buffer {
  return Buffer.from(renderFields(msg, 0, opts.exclude ?? 'auth'), 'latin1');
}

type Parsed = { msg: HaMsg; end: number } | string;

/** Parses one `name=value` line body into a field, or returns a reason. */
function parseField(line: string, at: number, depth: number, budget: ParseBudget): Field | string {
  const eq = line.indexOf('=');
  if (eq < 0) return `classic line without "=" at offset ${at}`;
  let name = line.slice(0, eq);
  let type = 0;
  if (name.startsWith('(')) {
    const t = name.charCodeAt(1) - 0x30;
    // An explicit (0) is refused by glue as well; 5 exists only in memory.
    if (name[2] !== ')' || !(t >= 1 && t <= 4)) return `bad type prefix at offset ${at}`;
    type = t;
    name = name.slice(3);
  }
  const bad = badName(name);
  if (bad) return `bad field name at offset ${at}: ${bad}`;
  if (++budget.fields > MAX_FIELDS) return `too many fields (more than ${MAX_FIELDS})`;
  const v = line.slice(eq + 1);
  const vat = at + eq + 1;
  switch (type) {
    case FieldType.STRING:
      return { name, type: 0, value: v.replace(/\x13/g, '\n') };
    case FieldType.BINARY:
    case FieldType.COMPRESS: {
      const b = fromBase64(v);
      if (!b) return `bad base64 in field "${name}" at offset ${vat}`;
      return type === FieldType.BINARY ? { name, type: 1, value: b } : { name, type: 4, value: b };
    }
    case FieldType.STRUCT: {
      const marker = DEPTH_MARKERS[depth];
      if (marker === undefined) return `nesting too deep (more than ${MAX_DEPTH}) at offset ${vat}`;
      const inner = v.split(marker).join('\n');
      const r = parseMessage(inner, depth + 1, budget, vat);
      if (typeof r === 'string') return r;
      if (r.end !== inner.length) return `bad nested message in field "${name}" at offset ${vat + r.end}: trailing bytes`;
      return { name, type: 2, value: r.msg };
    }
    default: {
      const list = unpackList(v, vat);
      if (typeof list === 'string') return `bad list in field "${name}": ${list}`;
      return { name, type: 3, value: list };
    }
  }
}

/**
 * glue's string2msg_ll: `>>>\n` first (so CR LF is refused), blank lines
 * skipped, stop at a `<<<\n` line or at the first NUL, every other line a
 * field. `base` maps offsets of nested texts back into the datagram.
 */
function parseMessage(s: string, depth: number, budget: ParseBudget, base: number): Parsed {
  if (!s.startsWith(START)) return `no classic start marker at offset ${base}`;
  const msg = new HaMsg();
  const seen = new Set<string>();
  const firstNul = s.indexOf('\0');
  const nul = firstNul < 0 ? s.length : firstNul;
  let p = START.length;
  for (;;) {
    if (p >= s.length) return `truncated classic message at offset ${base + p}: no <<< end marker`;
    if (p === nul) return { msg, end: p };
    let q = p;
    while (q < s.length && s.charCodeAt(q) === 0x0a) q++;
    if (q >= s.length) return `truncated classic message at offset ${base + q}: no <<< end marker`;
    if (s.startsWith(END, q)) return { msg, end: q + END.length };
    // A line ends at its newline or at the first NUL, whichever comes first.
    let e = s.indexOf('\n', q);
    if (e < 0 || e > nul) e = nul;
    if (e >= s.length) return `truncated classic line at offset ${base + q}`;
    const f = parseField(s.slice(q, e), base + q, depth, budget);
    if (typeof f === 'string') return f;
    if (listClashes(f.type, f.name, seen)) return `${LIST_CLASH} ("${f.name}") at offset ${base + q}`;
    seen.add(f.name);
    msg.addField(f);
    p = e;
    if (s.charCodeAt(p) === 0x0a) p++;
  }
}

/**
 * Decodes classic text. `end` is the offset just after `<<<\n` (or of the
 * NUL that stopped the parse); bytes after it are ignored, as glue does.
 * Never throws.
 */
export function decodeClassic(buf: Buffer): ClassicDecodeResult {
  try {
    const r = parseMessage(buf.toString('latin1'), 0, { fields: 0 }, 0);
    if (typeof r === 'string') return fail(r);
    return { ok: true, msg: r.msg, format: 'classic', end: r.end };
  } catch (err) {
    return fail(`classic decoder error: ${err instanceof Error ? err.message : String(err)}`);
  }
}
