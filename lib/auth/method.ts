/** One authentication algorithm of the authkeys file (spec 2.1). */
export type AuthMethodName = 'crc' | 'md5' | 'sha1';

/** A method bound to one key, with what can be prepared once (the HMAC pad states) prepared. */
export interface KeyedDigest {
  /** The token heartbeat prints for `data`. */
  hex(data: Buffer): string;
  /** Whether `token` is exactly hex(data), compared in constant time. */
  matches(data: Buffer, token: string): boolean;
}

export interface AuthMethod {
  readonly name: AuthMethodName;
  /** crc takes no key; md5 and sha1 are HMACs and need one. */
  readonly needsKey: boolean;
  /** The token heartbeat prints for `data` (lowercase hex). Keys are latin1 byte strings. */
  compute(key: string, data: Buffer): string;
  keyed(key: string): KeyedDigest;
}

/**
 * Constant-time for equal lengths (every character is looked at, no early
 * exit); a length mismatch is decided without looking at content. No
 * allocation: this runs for every datagram received.
 */
export function tokenEquals(got: string, want: string): boolean {
  if (got.length !== want.length) return false;
  let diff = 0;
  for (let i = 0; i < got.length; i++) diff |= got.charCodeAt(i) ^ want.charCodeAt(i);
  return diff === 0;
}
