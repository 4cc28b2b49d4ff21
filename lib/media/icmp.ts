/**
 * ICMP echo packets for the ping media (spec 7.6): building requests and
 * parsing what a raw IPv4 socket delivers (IP header + ICMP message).
 * Pure functions; the socket lives in icmp-socket.ts.
 */
import { endianness } from 'node:os';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
/** type, code, checksum, identifier, sequence. */
export const ICMP_HEADER_LEN = 8;

export interface IcmpEcho {
  type: number;
  code: number;
  /** Identifier as heartbeat compares it (see writeIdent). */
  id: number;
  /** Sequence number (network byte order on the wire). */
  seq: number;
  payload: Buffer;
}

/** RFC 1071 Internet checksum of `buf` (16-bit one's complement of the one's complement sum). */
export function inetChecksum(buf: Uint8Array): number {
  let sum = 0;
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) sum += ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
  // An odd trailing byte is padded with a zero byte on the right.
  if (even !== buf.length) sum += (buf[even] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * heartbeat stores the identifier without htons() (`icmp_id = ident`), so on
 * a little-endian host the wire bytes are little-endian. We do the same, so a
 * capture of our echoes looks like one of heartbeat's on the same host.
 */
const hostLittleEndian = endianness() === 'LE';
function writeIdent(buf: Buffer, id: number, offset: number): void {
  if (hostLittleEndian) buf.writeUInt16LE(id & 0xffff, offset);
  else buf.writeUInt16BE(id & 0xffff, offset);
}
function readIdent(buf: Buffer, offset: number): number {
  return hostLittleEndian ? buf.readUInt16LE(offset) : buf.readUInt16BE(offset);
}

/** An ICMP echo message (request or reply) with a valid checksum. */
export function buildEcho(echo: { type?: number; id: number; seq: number; payload: Buffer }): Buffer {
  const pkt = Buffer.alloc(ICMP_HEADER_LEN + echo.payload.length);
  pkt[0] = echo.type ?? ICMP_ECHO_REQUEST;
  pkt[1] = 0;
  writeIdent(pkt, echo.id, 4);
  pkt.writeUInt16BE(echo.seq & 0xffff, 6);
  echo.payload.copy(pkt, ICMP_HEADER_LEN);
  pkt.writeUInt16BE(inetChecksum(pkt), 2);
  return pkt;
}

export type IcmpParse =
  | { ok: true; echo: IcmpEcho; source: string }
  | { ok: false; reason: string };

/**
 * Parses one datagram from a raw IPv4 ICMP socket: the IP header (length
 * from IHL), then an echo message whose checksum must verify. The kernel
 * hands raw sockets packets before checking the ICMP checksum, so a corrupt
 * reply is refused here rather than offered to the authenticator.
 */
export function parseIpv4Echo(datagram: Buffer): IcmpParse {
  if (datagram.length < 20) return { ok: false, reason: `datagram too short for an IPv4 header (${datagram.length} bytes)` };
  const first = datagram[0] ?? 0;
  if (first >> 4 !== 4) return { ok: false, reason: `not IPv4 (version ${first >> 4})` };
  const ihl = (first & 0x0f) * 4;
  if (ihl < 20) return { ok: false, reason: `bad IPv4 header length ${ihl}` };
  if (datagram[9] !== 1) return { ok: false, reason: `not ICMP (protocol ${datagram[9]})` };
  const totalLen = datagram.readUInt16BE(2);
  // Linux reports the real length; trust the smaller of the two against padding.
  const end = totalLen >= ihl && totalLen <= datagram.length ? totalLen : datagram.length;
  if (end < ihl + ICMP_HEADER_LEN) return { ok: false, reason: `ICMP message too short (${end - ihl} bytes)` };
  const icmp = datagram.subarray(ihl, end);
  const type = icmp[0] ?? -1;
  if (type !== ICMP_ECHO_REPLY && type !== ICMP_ECHO_REQUEST) return { ok: false, reason: `not an echo message (type ${type})` };
  if (inetChecksum(icmp) !== 0) return { ok: false, reason: 'bad ICMP checksum' };
  return echoOf(icmp, `${datagram[12]}.${datagram[13]}.${datagram[14]}.${datagram[15]}`);
}

/** The fields of an echo message already checked to be one. */
function echoOf(icmp: Buffer, source: string): IcmpParse {
  return {
    ok: true,
    source,
    echo: {
      type: icmp[0] ?? -1,
      code: icmp[1] ?? 0,
      id: readIdent(icmp, 4),
      seq: icmp.readUInt16BE(6),
      payload: Buffer.from(icmp.subarray(ICMP_HEADER_LEN)),
    },
  };
}

/**
 * Parses one message from a raw ICMPv6 socket (no IP header: the kernel
 * strips it, and it has verified the checksum, which covers a pseudo-header
 * we never see). `source` is the sender the socket reported.
 */
export function parseIcmp6Echo(message: Buffer, source: string): IcmpParse {
  if (message.length < ICMP_HEADER_LEN) return { ok: false, reason: `ICMPv6 message too short (${message.length} bytes)` };
  const type = message[0] ?? -1;
  if (type !== ICMP6_ECHO_REPLY && type !== ICMP6_ECHO_REQUEST) return { ok: false, reason: `not an ICMPv6 echo message (type ${type})` };
  return echoOf(message, source);
}
