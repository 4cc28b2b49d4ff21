/** Loads test/fixtures/heartbeat-test-vectors.json (the wire spec's vectors) and builds its status message. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HaMsg } from '../../../lib/wire/message.js';
import type { AuthKeys } from '../../../lib/config/types.js';

export interface VectorCase {
  authkeys: string;
  method: 'crc' | 'md5' | 'sha1';
  authnum: number;
  key: string;
  classic_token: string;
  netstring_trailer_token: string;
  classic_datagram_hex_old_glue: string;
  netstring_datagram_hex: string;
  netstring_datagram_len: number;
}

export interface Vectors {
  status_fields: [string, number, string][];
  classic_digest_input_hex: string;
  cases: VectorCase[];
  primitive_vectors: { data?: string; data_hex?: string; crc: string; hmac_md5_key_mysecret?: string; hmac_sha1_key_mysecret?: string }[];
}

export const VECTORS_PATH = fileURLToPath(new URL('../../fixtures/heartbeat-test-vectors.json', import.meta.url));
export const vectors = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as Vectors;

/** The status heartbeat of spec 2.6, without auth. */
export function statusMessage(): HaMsg {
  const m = new HaMsg();
  for (const [name, type, value] of vectors.status_fields) {
    if (type === 1) m.addBinary(name, Buffer.from(value.slice(0, 32), 'hex'));
    else m.add(name, value);
  }
  return m;
}

/** The key ring a case's authkeys text describes (one key line). */
export function caseKeys(c: VectorCase): AuthKeys {
  return {
    activeNum: c.authnum,
    keys: new Map([[c.authnum, { num: c.authnum, method: c.method, key: c.key, line: 2 }]]),
  };
}

/** All three sample keys of the shipped authkeys, with one active. */
export function allKeys(activeNum: number): AuthKeys {
  return {
    activeNum,
    keys: new Map(vectors.cases.map((c) => [c.authnum, { num: c.authnum, method: c.method, key: c.key, line: c.authnum + 1 }])),
  };
}
