/**
 * Signs outbound messages exactly as heartbeat 3.0.6 on glue 1.0.12 does and
 * judges inbound datagrams (spec 2.3, 2.4, 2.6, 3.1 step 3-4).
 *
 * Verification is stricter than heartbeat in one respect: a classic datagram
 * must be byte-identical to the canonical re-encoding of what it decodes to
 * (optionally followed by one NUL, as old glue sends it). heartbeat would
 * also take blank lines or junk after `<<<`, which no real sender produces,
 * but which would let bytes outside the digest be altered unnoticed.
 */
import type { AuthKey, AuthKeys } from '../config/types.js';
import { AUTH_ERRORS, HbError } from '../util/errors.js';
import { classicFieldsText, encodeClassic } from '../wire/classic.js';
import { decodeDatagram } from '../wire/codec.js';
import { F } from '../wire/fields.js';
import { FieldType, type HaMsg } from '../wire/message.js';
import { encodeNetstring } from '../wire/netstring.js';
import type { WireFormat } from '../wire/result.js';
import { tokenEquals, type AuthMethod, type KeyedDigest } from './method.js';
import { authMethod } from './methods.js';

export type Verdict =
  | { verdict: 'ok'; msg: HaMsg; format: WireFormat; authNum: number }
  | { verdict: 'malformed'; reason: string }
  | { verdict: 'unknown-key'; authNum: number }
  | { verdict: 'bad-digest'; authNum: number };

export interface AuthCounters {
  ok: number;
  malformed: number;
  'unknown-key': number;
  'bad-digest': number;
  replay: number;
}

export interface AuthenticatorOptions {
  msgfmt: 'classic' | 'netstring';
}

/**
 * `<num> <token>` as senders print it with `%d %s`: the number without sign
 * or leading zero, at most 9 digits, one space, then one or more printable
 * non-space ASCII bytes to the end. Anything looser is refused. Read by hand
 * rather than with a RegExp, as this runs for every datagram received.
 */
function parseAuthString(s: string): { num: number; token: string } | undefined {
  let i = 0;
  let num = 0;
  for (let c = s.charCodeAt(0); c >= 0x30 && c <= 0x39 && i < 10; c = s.charCodeAt(++i)) num = num * 10 + (c - 0x30);
  if (i === 0 || i > 9 || (i > 1 && s.charCodeAt(0) === 0x30) || s.charCodeAt(i) !== 0x20 || i + 1 >= s.length) return undefined;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c < 0x21 || c > 0x7e) return undefined;
  }
  return { num, token: s.slice(i + 1) };
}

/** glue switches to netstring-only (no classic auth field) for these field types (must_use_netstring). */
const mustUseNetstring = (msg: HaMsg): boolean =>
  msg.fields.some((f) => f.type === FieldType.STRUCT || f.type === FieldType.COMPRESS);

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

interface Ring {
  active: AuthKey;
  activeMethod: AuthMethod;
  keys: ReadonlyMap<number, AuthKey>;
  /** Each key number's method bound to its key (prepared once per ring). */
  digests: ReadonlyMap<number, KeyedDigest>;
}

function makeRing(keys: AuthKeys): Ring {
  const copy = new Map<number, AuthKey>();
  const digests = new Map<number, KeyedDigest>();
  for (const [num, k] of keys.keys) {
    const m = authMethod(k.method);
    if (m.needsKey && k.key.length === 0) throw new HbError(AUTH_ERRORS.BAD_KEYS, `auth method ${num} (${k.method}) requires a key`);
    copy.set(num, { ...k });
    digests.set(num, m.keyed(k.key));
  }
  const active = copy.get(keys.activeNum);
  if (!active) throw new HbError(AUTH_ERRORS.BAD_KEYS, `active auth method ${keys.activeNum} has no key line (configured: ${[...copy.keys()].join(', ') || 'none'})`);
  return { active, activeMethod: authMethod(active.method), keys: copy, digests };
}

export class Authenticator {
  #ring: Ring;
  readonly #msgfmt: 'classic' | 'netstring';
  readonly #counters: AuthCounters = { ok: 0, malformed: 0, 'unknown-key': 0, 'bad-digest': 0, replay: 0 };

  /** Throws HbError AUTH_BAD_KEYS when the active number has no key or a key is missing. */
  constructor(keys: AuthKeys, opts: AuthenticatorOptions) {
    this.#ring = makeRing(keys);
    this.#msgfmt = opts.msgfmt;
  }

  /** Replaces the key ring (authkeys reload); the old ring stays if the new one is unusable. */
  setKeys(keys: AuthKeys): void {
    this.#ring = makeRing(keys);
  }

  /** crc detects corruption only; the daemon warns about it. */
  isCrc(): boolean {
    return this.#ring.activeMethod.name === 'crc';
  }

  get activeNum(): number {
    return this.#ring.active.num;
  }

  #classicAuth(msg: HaMsg): string {
    const { active } = this.#ring;
    return `${active.num} ${this.#digest(active.num, classicFieldsText(msg))}`;
  }

  /**
   * The datagram 3.0.6 sends (spec 2.6): with msgfmt classic the inner `auth`
   * field is set first (unless struct/compressed fields force netstring),
   * then the netstring body and its trailer. The caller's message is not
   * touched. Throws HbError WIRE_UNENCODABLE for messages no format can carry.
   */
  sign(msg: HaMsg): Buffer {
    const m = msg.clone();
    if (this.#msgfmt === 'classic' && !mustUseNetstring(m)) m.mod(F.AUTH, this.#classicAuth(m));
    const body = encodeNetstring(m);
    const { active } = this.#ring;
    const auth = `${active.num} ${this.#digest(active.num, body)}`;
    const trailer = `${auth.length}:${auth},`;
    // one buffer for body and trailer: no intermediate Buffer for the trailer, no concat
    const out = Buffer.allocUnsafe(body.length + trailer.length);
    body.copy(out, 0);
    out.write(trailer, body.length, 'latin1');
    return out;
  }

  /** Classic text with a fresh `auth` field, for serial links (spec 7.5); no trailing NUL. */
  signClassic(msg: HaMsg): Buffer {
    const m = msg.clone();
    m.mod(F.AUTH, this.#classicAuth(m));
    return encodeClassic(m);
  }

  /** Key `num`'s digest (`num` is in the ring). */
  #keyed(num: number): KeyedDigest {
    const d = this.#ring.digests.get(num);
    if (d === undefined) throw new HbError(AUTH_ERRORS.BAD_KEYS, `auth method ${num} has no key line`);
    return d;
  }

  /** Key `num`'s token for `data`. */
  #digest(num: number, data: Buffer): string {
    return this.#keyed(num).hex(data);
  }

  /** Judges one datagram. Never throws, never logs; the verdict never carries key material. */
  verify(buf: Buffer): Verdict {
    let v: Verdict;
    try {
      v = this.#judge(buf);
    } catch (err) {
      v = { verdict: 'malformed', reason: `verification error: ${err instanceof Error ? err.message : String(err)}` };
    }
    this.#counters[v.verdict]++;
    return v;
  }

  #judge(buf: Buffer): Verdict {
    const r = decodeDatagram(buf);
    if (!r.ok) return { verdict: 'malformed', reason: r.reason };
    if ('end' in r) return this.#judgeClassic(buf, r.msg, r.end);
    return this.#judgeNetstring(buf, r.msg, r.bodyEnd, r.trailer);
  }

  /** Spec 2.3: re-serialise without `auth`, use the algorithm and key of the number in the message. */
  #judgeClassic(buf: Buffer, msg: HaMsg, end: number): Verdict {
    const rest = buf.subarray(end);
    if (rest.length > 1 || (rest.length === 1 && rest[0] !== 0)) {
      return { verdict: 'malformed', reason: `trailing bytes after classic message at offset ${end}` };
    }
    const canonical = encodeClassic(msg);
    const got = buf.subarray(0, end);
    if (!canonical.equals(got)) {
      return { verdict: 'malformed', reason: `non-canonical classic encoding at offset ${firstDifference(canonical, got)}` };
    }
    const auths = msg.fields.filter((f) => f.name === F.AUTH);
    const field = auths[0];
    if (!field) return { verdict: 'malformed', reason: 'missing auth field' };
    if (auths.length > 1) return { verdict: 'malformed', reason: `${auths.length} auth fields` };
    const parsed = field.type === FieldType.STRING ? parseAuthString(field.value) : undefined;
    if (!parsed) return { verdict: 'malformed', reason: 'bad auth field (want "<num> <token>")' };
    const key = this.#ring.keys.get(parsed.num);
    if (!key) return { verdict: 'unknown-key', authNum: parsed.num };
    return this.#keyed(parsed.num).matches(classicFieldsText(msg), parsed.token)
      ? { verdict: 'ok', msg, format: 'classic', authNum: parsed.num }
      : { verdict: 'bad-digest', authNum: parsed.num };
  }

  /**
   * Spec 2.4: the trailer's algorithm over the body bytes, with that number's
   * key or — heartbeat's quirk — the active key. The inner `auth` field is
   * covered by the digest but not checked itself.
   */
  #judgeNetstring(buf: Buffer, msg: HaMsg, bodyEnd: number, trailer: string | undefined): Verdict {
    if (trailer === undefined) return { verdict: 'malformed', reason: 'missing auth trailer' };
    const parsed = parseAuthString(trailer);
    if (!parsed) return { verdict: 'malformed', reason: 'bad auth trailer (want "<num> <token>")' };
    const key = this.#ring.keys.get(parsed.num);
    if (!key) return { verdict: 'unknown-key', authNum: parsed.num };
    const body = buf.subarray(0, bodyEnd);
    const active = this.#ring.active;
    const ok = this.#keyed(parsed.num).matches(body, parsed.token)
      || (active.key !== key.key && tokenEquals(parsed.token, authMethod(key.method).compute(active.key, body)));
    return ok
      ? { verdict: 'ok', msg, format: 'netstring', authNum: parsed.num }
      : { verdict: 'bad-digest', authNum: parsed.num };
  }

  /** The membership layer found a replayed generation/sequence number. */
  noteReplay(): void {
    this.#counters.replay++;
  }

  /** Live counters, read-only for callers. */
  get counters(): Readonly<AuthCounters> {
    return this.#counters;
  }

  /** A copy of the counters at this moment. */
  snapshot(): AuthCounters {
    return { ...this.#counters };
  }
}
