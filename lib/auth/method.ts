/** One authentication algorithm of the authkeys file (spec 2.1). */
export type AuthMethodName = 'crc' | 'md5' | 'sha1';

export interface AuthMethod {
  readonly name: AuthMethodName;
  /** crc takes no key; md5 and sha1 are HMACs and need one. */
  readonly needsKey: boolean;
  /** The token heartbeat prints for `data` (lowercase hex). Keys are latin1 byte strings. */
  compute(key: string, data: Buffer): string;
  /** `compute` bound to one key, with what can be prepared once (the HMAC key object) prepared. */
  keyed(key: string): (data: Buffer) => string;
}
