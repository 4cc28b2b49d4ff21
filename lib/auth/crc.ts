/**
 * heartbeat's `crc` method (spec 2.1): CRC-32 with polynomial 0x04C11DB7,
 * initial value 0, MSB first, final XOR 0xFFFFFFFF and no length suffix
 * (CRC-32/POSIX without cksum's length), printed `%lx`. zlib's crc32 is the
 * reflected variant and gives different values.
 */
import { tokenEquals, type AuthMethod } from './method.js';

const POLY = 0x04c11db7;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ POLY : c << 1;
    t[i] = c >>> 0;
  }
  return t;
}

/** Read-only after construction. */
const TABLE = makeTable();

export function crc32Posix(data: Buffer): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export const crcMethod: AuthMethod = Object.freeze({
  name: 'crc' as const,
  needsKey: false,
  // The key is ignored: crc only detects corruption, it authenticates nothing.
  compute: (_key: string, data: Buffer): string => crc32Posix(data).toString(16),
  keyed: () => ({
    hex: (data: Buffer): string => crc32Posix(data).toString(16),
    matches: (data: Buffer, token: string): boolean => tokenEquals(token, crc32Posix(data).toString(16)),
  }),
});
