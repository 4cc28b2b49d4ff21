/**
 * Decoder results and the limits both wire parsers enforce (spec 1.1, 1.5).
 * Kept apart from the parsers so classic.ts, netstring.ts and codec.ts can all
 * use them without importing each other.
 */
import type { HaMsg } from './message.js';

export type WireFormat = 'classic' | 'netstring';

export interface DecodeOk {
  ok: true;
  msg: HaMsg;
  format: WireFormat;
}
export interface DecodeFail {
  ok: false;
  /** A short stable phrase, then detail: `bad netstring length at offset 37`. */
  reason: string;
}
export type DecodeResult = DecodeOk | DecodeFail;

/** glue >= 1.0.10 reads at most MAXMSG bytes per datagram. */
export const MAXMSG = 512 * 1024;
/** Deepest nesting: the top message is depth 0, a struct inside it depth 1 (glue MAXDEPTH). */
export const MAX_DEPTH = 16;
/** Fields in one datagram, nested ones included; v1 messages carry a few dozen. */
export const MAX_FIELDS = 16384;
/** Field names are short identifiers in every message heartbeat knows. */
export const MAX_NAME_LEN = 256;

/** Parse-wide state shared by the recursive descent (field budget). */
export interface ParseBudget {
  fields: number;
}

export const fail = (reason: string): DecodeFail => ({ ok: false, reason });

/**
 * Why a decoded field name is unacceptable, or undefined when it is fine.
 * Names are compared and re-serialised as bytes, so anything that could not
 * survive a classic round trip (control bytes, `=`, a leading type prefix) is
 * refused rather than guessed at.
 */
export function badName(name: string): string | undefined {
  if (name.length === 0) return 'empty field name';
  if (name.length > MAX_NAME_LEN) return `field name longer than ${MAX_NAME_LEN} bytes`;
  if (name.startsWith('(')) return 'field name starts with "("';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x3d) return `bad byte 0x${c.toString(16)} in field name`;
  }
  return undefined;
}
