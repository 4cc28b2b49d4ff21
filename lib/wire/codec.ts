/**
 * Entry point for bytes from the network: every heartbeat version accepts
 * both wire formats and tells them apart by the first four bytes (spec 1.4).
 */
import { decodeClassic, type ClassicDecodeResult } from './classic.js';
import { decodeNetstring, type NetstringDecodeResult } from './netstring.js';
import { MAXMSG, fail } from './result.js';

/** Field that marks a whole-message compression wrapper (spec 1.6). */
export const COMPRESSED_PAYLOAD = '_compressed_payload';

const CLASSIC_HEAD = [0x3e, 0x3e, 0x3e, 0x0a] as const; // >>>\n
const NETSTRING_HEAD = [0x23, 0x23, 0x23, 0x0a] as const; // ###\n
const startsWith = (buf: Buffer, head: readonly number[]): boolean =>
  buf[0] === head[0] && buf[1] === head[1] && buf[2] === head[2] && buf[3] === head[3];

export type DatagramDecodeResult = ClassicDecodeResult | NetstringDecodeResult;

/**
 * Decodes one datagram in either format, enforcing the size limit, and
 * refusing compressed messages (v1 peers never send them). The result keeps
 * the format-specific offsets (`end` or `bodyEnd`/`trailer`) that
 * verification needs. Never throws.
 */
export function decodeDatagram(buf: Buffer): DatagramDecodeResult {
  if (!Buffer.isBuffer(buf)) return fail('not a buffer');
  if (buf.length > MAXMSG) return fail(`datagram too large (${buf.length} bytes, limit ${MAXMSG})`);
  if (buf.length < 4) return fail(`datagram too short (${buf.length} bytes)`);
  let r: DatagramDecodeResult;
  // compared byte by byte: no string is made for the common case
  if (startsWith(buf, CLASSIC_HEAD)) r = decodeClassic(buf);
  else if (startsWith(buf, NETSTRING_HEAD)) r = decodeNetstring(buf);
  else return fail(`unknown wire format (first bytes ${buf.subarray(0, 4).toString('hex')})`);
  if (r.ok && r.msg.has(COMPRESSED_PAYLOAD)) return fail('compressed message not supported');
  return r;
}
